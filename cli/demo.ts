/**
 * `kurier demo`: the main job end to end on this machine, no cluster needed. An embedded
 * NATSTrigger is rendered exactly as the controller would, its dispatcher runs as a real process
 * with the rendered environment, and a flaky local function receives every message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { stderr, stdout } from 'node:process';
import { fileURLToPath } from 'node:url';
import { connect, RetentionPolicy, type NatsConnection } from 'nats';
import { render } from '../render/render.js';
import { SHIPPED_TEMPLATES } from '../render/shipped-files.js';
import { loadTemplates } from '../render/templates.js';
import type { JsonObject, Trigger } from '../render/trigger.js';
import { parseArgs, UsageError } from './input.js';

const USAGE = `usage: kurier demo [--messages N] [--nats URL] [--fail-every K]

Runs the main job end to end on this machine: an embedded NATSTrigger is rendered as the controller
renders it, its dispatcher runs as a real process with the rendered environment against NATS
JetStream, and a local function receives every message.

  --messages N     messages to publish (default 500)
  --nats URL       NATS with JetStream (default nats://127.0.0.1:4222)
  --fail-every K   the function answers 503 to the first attempt of every K-th message (default 5; 0 = never)
  -h, --help       this help

Exit codes: 0 every message delivered and the dispatcher stopped cleanly, 1 otherwise, 2 usage.
`;
/** The CLI this process runs (bin/kurier.js in a checkout, dist/kurier.mjs in an image): the dispatcher runs as the same command. */
const BIN = process.argv[1] ?? fileURLToPath(new URL('../bin/kurier.js', import.meta.url));

interface DemoOptions {
  readonly messages: number;
  readonly natsUrl: string;
  readonly failEvery: number;
}

/** What the local function saw. */
interface FunctionStats {
  requests: number;
  failed: number;
  readonly delivered: Map<string, number>;
  /** When the function answered 200 to a message it had not delivered before (performance.now()). */
  lastNewDeliveryAt: number;
}

/** `1st`, `2nd`, `3rd`, `4th`, `11th`, `21st`. */
function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

function failureText(failEvery: number): string {
  if (failEvery === 0) return 'answers 200 to every request (--fail-every 0)';
  if (failEvery === 1) return 'fails the first attempt of every message with 503';
  return `fails the first attempt of every ${ordinal(failEvery)} message with 503`;
}

const say = (line: string): void => {
  stdout.write(`kurier demo: ${line}\n`);
};

function parseOptions(args: readonly string[]): DemoOptions | 'help' {
  const parsed = parseArgs(args, ['--messages', '--nats', '--fail-every'], []);
  if (parsed.help) return 'help';
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
  const whole = (flag: string, fallback: number, min: number): number => {
    const text = parsed.values.get(flag);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new UsageError(`${flag} must be a whole number ≥ ${min}`);
    return value;
  };
  return {
    messages: whole('--messages', 500, 1),
    natsUrl: parsed.values.get('--nats') ?? 'nats://127.0.0.1:4222',
    failEvery: whole('--fail-every', 5, 0),
  };
}

function demoTrigger(id: string, natsUrl: string, functionUrl: string): Trigger {
  return {
    apiVersion: 'kurier.dev/v1alpha1',
    kind: 'NATSTrigger',
    metadata: { name: `demo-${id}`, namespace: 'default', uid: `demo-${id}` },
    spec: {
      nats: { url: natsUrl, subject: `kurier.demo.${id}`, jetstream: { stream: `KURIER_DEMO_${id.toUpperCase()}` } },
      function: { url: functionUrl },
      delivery: { ordering: 'unordered', maxInFlight: 16, retry: { initialDelay: '100ms', maxDelay: '1s' } },
    },
  };
}

/** A function that answers 503 to the first attempt of every `failEvery`-th message. */
function startFunction(failEvery: number, stats: FunctionStats): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      stats.requests++;
      const n = Number((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { n?: unknown }).n);
      const id = request.headers['ce-id'];
      const key = typeof id === 'string' ? id : String(n);
      if (failEvery > 0 && n % failEvery === 0 && !failedOnce.has(key)) {
        failedOnce.add(key);
        stats.failed++;
        response.writeHead(503, { 'retry-after': '0' }).end('try again');
        return;
      }
      if (!stats.delivered.has(key)) stats.lastNewDeliveryAt = performance.now();
      stats.delivered.set(key, (stats.delivered.get(key) ?? 0) + 1);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  const failedOnce = new Set<string>();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/` });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => { resolve(port); });
    });
  });
}

/** The dispatcher container's literal variables, exactly as rendered. */
function renderedEnv(trigger: Trigger, deployment: JsonObject): Record<string, string> {
  const pod = ((deployment['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
  const dispatcher = (pod['containers'] as JsonObject[]).find((container) => container['name'] === 'dispatcher');
  const env: Record<string, string> = {};
  for (const variable of (dispatcher?.['env'] ?? []) as JsonObject[]) {
    if (typeof variable['name'] === 'string' && typeof variable['value'] === 'string') env[variable['name']] = variable['value'];
  }
  if (Object.keys(env).length === 0) throw new Error(`rendering ${trigger.kind} produced no environment`);
  return env;
}

async function waitFor(condition: () => boolean, timeoutMs: number, onTick: () => void): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
    onTick();
  }
  return true;
}

async function waitReady(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

async function metricLines(port: number): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((line) => /^kurier_dispatcher_(deliveries_total|retries_total|messages_received_total)/.test(line));
}

async function run(options: DemoOptions): Promise<number> {
  const id = randomBytes(4).toString('hex');
  const stats: FunctionStats = { requests: 0, failed: 0, delivered: new Map(), lastNewDeliveryAt: 0 };
  const fn = await startFunction(options.failEvery, stats);
  const trigger = demoTrigger(id, options.natsUrl, fn.url);
  const stream = `KURIER_DEMO_${id.toUpperCase()}`;
  let nc: NatsConnection | undefined;
  let child: ChildProcess | undefined;
  try {
    nc = await connect({ servers: options.natsUrl, timeout: 3000 });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`kurier.demo.${id}`], retention: RetentionPolicy.Limits });

    const deployment = render(trigger, await loadTemplates(SHIPPED_TEMPLATES));
    say(`rendered NATSTrigger default/${trigger.metadata.name} → Deployment ${deployment.metadata.name} (the controller renders the same)`);
    const port = await freePort();
    const env = { ...renderedEnv(trigger, deployment), METRICS_PORT: String(port), PATH: process.env['PATH'] ?? '' };
    child = spawn(process.execPath, [BIN, 'dispatch', 'nats'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (!(await waitReady(port, child, 30_000))) throw new Error('the dispatcher did not become ready within 30 s');
    say(`dispatcher running (pid ${child.pid ?? '?'}, /metrics on 127.0.0.1:${port}); function at ${fn.url} ${failureText(options.failEvery)}`);

    const js = nc.jetstream();
    const firstPublishAt = performance.now();
    for (let n = 1; n <= options.messages; n++) await js.publish(`kurier.demo.${id}`, JSON.stringify({ n, at: new Date().toISOString() }));
    say(`published ${options.messages} messages to JetStream stream ${stream} in ${((performance.now() - firstPublishAt) / 1000).toFixed(3)} s`);
    let lastReport = Date.now();
    const done = await waitFor(() => stats.delivered.size >= options.messages, 60_000, () => {
      if (Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        say(`  delivered ${stats.delivered.size}/${options.messages}, ${stats.failed} answered 503 and retried`);
      }
    });
    // Measured by the function itself: from the first publish to the first 200 of the last new message.
    const seconds = done ? (stats.lastNewDeliveryAt - firstPublishAt) / 1000 : Number.NaN;
    const duplicates = [...stats.delivered.values()].reduce((sum, count) => sum + count - 1, 0);
    const timing = done ? ` in ${seconds.toFixed(3)} s from the first publish to the last delivery (${Math.round(options.messages / seconds)} messages/s)` : '';
    say(`delivered ${stats.delivered.size}/${options.messages} unique messages${timing}: ${stats.failed} retried after 503, ${duplicates} duplicates, ${stats.requests} requests`);
    for (const line of await metricLines(port)) say(`  ${line}`);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child?.once('exit', (exitCode) => { resolve(exitCode); }));
    say(`dispatcher stopped on SIGTERM (exit ${code ?? 'signal'})`);
    return done && code === 0 ? 0 : 1;
  } finally {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (nc !== undefined) {
      await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
    fn.server.close();
  }
}

/** `kurier demo`: exit 0 when every message was delivered and the dispatcher stopped cleanly. */
export async function runDemo(args: readonly string[]): Promise<number> {
  let options: DemoOptions | 'help';
  try {
    options = parseOptions(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr.write(`kurier demo: ${err.message} (run "kurier demo --help" for usage)\n`);
    return 2;
  }
  if (options === 'help') {
    stdout.write(USAGE);
    return 0;
  }
  try {
    return await run(options);
  } catch (err) {
    stderr.write(`kurier demo: ${(err as Error).message} (is NATS with JetStream running at ${options.natsUrl}?)\n`);
    return 1;
  }
}
