import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../support/cleanup.js';
import { FunctionServer } from '../support/function-server.js';
import { repoRoot, runKurier } from '../support/run-kurier.js';
import { waitUntil } from '../support/wait-until.js';

const RABBITMQ_URL = process.env['RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kurier-run-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

function rabbitTrigger(name: string, queue: string): string {
  return `apiVersion: kurier.dev/v1alpha1
kind: RabbitMQTrigger
metadata: { name: ${name}, namespace: dev }
spec:
  rabbitmq:
    urlSecretRef: { name: rabbitmq-conn, key: url }
    queue: ${queue}
  function: { url: "http://emails.dev.svc:8080/" }
  delivery: { maxInFlight: 4, ordering: unordered }
`;
}

describe('kurier run (real RabbitMQ on 127.0.0.1:5672, a local function)', () => {
  const cleanup = useCleanup();

  it('runs the trigger\'s dispatcher with the rendered env, the secret from --secrets-file and --function-url, until SIGTERM', async () => {
    const id = randomBytes(4).toString('hex');
    const queue = `kurier-cli-run-${id}`;
    const fn = await FunctionServer.start();
    cleanup.push(() => fn.close());
    const secret = `apiVersion: v1\nkind: Secret\nmetadata: { name: rabbitmq-conn, namespace: dev }\ndata:\n  url: ${Buffer.from(RABBITMQ_URL).toString('base64')}\n`;
    const dir = scratch({ 'trigger.yaml': rabbitTrigger(`run-${id}`, queue), 'secrets.yaml': secret });

    const connection = await amqp.connect(RABBITMQ_URL);
    const channel = await connection.createChannel();
    cleanup.push(async () => {
      await channel.deleteQueue(queue).catch(() => undefined);
      await connection.close();
    });

    const child: ChildProcess = spawn(process.execPath, [
      `${repoRoot}bin/kurier.js`, 'run', '-f', join(dir, 'trigger.yaml'), '--secrets-file', join(dir, 'secrets.yaml'), '--function-url', fn.url, '--metrics-port', '0',
    ], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
    cleanup.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });

    // The dispatcher declares the queue (RABBITMQ_DECLARE defaults to true) and consumes from it.
    const consumers = async (): Promise<number> => {
      // checkQueue on a queue that does not exist yet closes its channel: probe on a channel of its own.
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      try {
        return (await probe.checkQueue(queue)).consumerCount;
      } catch {
        return 0;
      } finally {
        await probe.close().catch(() => undefined);
      }
    };
    await waitUntil(async () => (await consumers()) === 1 || child.exitCode !== null, 30_000, 'the dispatcher to consume', 100);
    expect(child.exitCode, output).toBeNull();
    for (let n = 0; n < 20; n++) channel.sendToQueue(queue, Buffer.from(JSON.stringify({ n })), { messageId: `m-${n}` });
    await waitUntil(() => fn.delivered.length >= 20, 30_000, '20 deliveries', 100);

    const headers = fn.delivered[0]?.headers ?? {};
    expect(headers['ce-source']).toBe(`/apis/kurier.dev/v1alpha1/namespaces/dev/rabbitmqtriggers/run-${id}`);
    expect(new Set(fn.delivered.map((request) => request.text)).size).toBe(20);
    expect(output).toContain(`kurier run: RabbitMQTrigger dev/run-${id} → kurier dispatch rabbitmq`);

    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect((await channel.checkQueue(queue)).messageCount).toBe(0);
  });

  it('names a missing secret and how to give it, exit 1, without starting anything', async () => {
    const dir = scratch({ 'trigger.yaml': rabbitTrigger('missing', 'kurier-cli-run-missing') });
    const result = await runKurier(['run', '-f', join(dir, 'trigger.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('kurier run: RABBITMQ_URL comes from key "url" of Secret "rabbitmq-conn", which was not given: pass --secret rabbitmq-conn/url=VALUE or put it in --secrets-file\n');
  });

  it('refuses an invalid trigger with validate\'s lines, exit 1', async () => {
    const dir = scratch({ 'trigger.yaml': rabbitTrigger('bad', 'q').replace('queue: q', 'queue: q\n    prefetsh: 3') });
    const result = await runKurier(['run', '-f', join(dir, 'trigger.yaml'), '--secret', 'rabbitmq-conn/url=amqp://127.0.0.1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('spec.rabbitmq.prefetsh: unknown field "prefetsh"');
  });

  it('exits 2 with one line on a bad --secret', async () => {
    const result = await runKurier(['run', '-f', 'examples/rabbitmq.yaml', '--secret', 'no-slash']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('kurier run: --secret "no-slash": write NAME/KEY=VALUE, e.g. --secret nats-auth/password=s3cr3t (run "kurier run --help" for usage)\n');
  });
});
