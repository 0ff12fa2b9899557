import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { useSuiteFixture } from '../../support/suite-fixture.js';
import { freePort } from '../../support/free-port.js';

/** The shared broker; NATS_TEST_URL points the suite elsewhere. */
export const SHARED_NATS = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A private nats-server with JetStream (for restart tests: the shared one must never be restarted). */
export class PrivateNatsServer {
  readonly port: number;
  readonly storeDir: string;
  private child: ChildProcess | undefined;

  private constructor(port: number, storeDir: string) {
    this.port = port;
    this.storeDir = storeDir;
  }

  static async start(): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort(), await mkdtemp(join(tmpdir(), 'kurier-nats-')));
    await server.up();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const binary = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
    this.child = spawn(binary, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
    for (let i = 0; i < 100; i += 1) {
      try {
        const nc = await connect({ servers: this.url, timeout: 500 });
        await nc.close();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`nats-server on ${this.url} did not start`);
  }

  /** Stops the server: SIGTERM (a clean shutdown) by default, SIGKILL for a crash. */
  async down(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child?.exitCode !== null || child.killed) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => { resolve(); });
      child.kill(signal);
    });
  }

  async destroy(): Promise<void> {
    await this.down();
    await rm(this.storeDir, { recursive: true, force: true });
  }
}

export async function connectNats(url = SHARED_NATS): Promise<NatsConnection> {
  return connect({ servers: url });
}

/** One connection to the shared broker for the calling file: opened in `beforeAll`, closed in `afterAll`. */
export function useSharedNats(): { readonly nc: NatsConnection } {
  return useSuiteFixture('the shared NATS connection', async () => ({ nc: await connectNats() }), ({ nc }) => nc.close());
}

/** Creates a stream capturing `<prefix>.>` and returns its name. */
export async function createStream(nc: NatsConnection, name: string, subjects: string[]): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name, subjects });
}

export async function deleteStream(nc: NatsConnection, name: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(name).catch(() => false);
}

/** Publishes `{"n":i}` for i in [from, to) through JetStream (each publish acknowledged by the stream). */
export async function publishNumbered(nc: NatsConnection, subject: string, from: number, to: number): Promise<void> {
  const js = nc.jetstream();
  const pending: Promise<unknown>[] = [];
  for (let i = from; i < to; i += 1) {
    pending.push(js.publish(subject, JSON.stringify({ n: i })));
    if (pending.length >= 100) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}
