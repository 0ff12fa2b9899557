/**
 * The bundle the images run (npm run build:bundle): an entry (kurier.mjs) plus chunks that each
 * command loads only when it runs, readable errors, no source map unless asked. Built here to a
 * directory of its own outside the repository, laid out as the image's /app (dist/, templates/,
 * crd.yaml; no node_modules).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, createStream, deleteStream, publishNumbered, SHARED_NATS, uniqueName } from '../dispatchers/nats/helpers.js';
import { FunctionServer } from '../support/function-server.js';
import { repoRoot } from '../support/run-kurier.js';
import { numberOf, tally } from '../support/stream-tally.js';

const run = promisify(execFile);
const RABBITMQ = process.env['RABBITMQ_TEST_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const BANNER = "import { createRequire as __kurierRequire } from 'node:module'; const require = __kurierRequire(import.meta.url);";

let work: string;
let outDir: string;
let bundle: string;
/** Every output file (base name) → the packages and source files esbuild put into it (metafile). */
let contents: Map<string, Set<string>>;

/** `node_modules/…/amqplib/lib/x.js` → `amqplib`; `dispatchers/nats/index.ts` stays as it is. */
function inputName(path: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  return pkg?.[1] ?? path;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kurier-bundle-'));
  await chmod(work, 0o755); // readable by UID 65532, as /app is in the image
  outDir = join(work, 'dist');
  bundle = join(outDir, 'kurier.mjs');
  const metafile = join(work, 'meta.json');
  await run('npm', ['run', '--silent', 'build:bundle', '--', `--outdir=${outDir}`, `--metafile=${metafile}`], { cwd: repoRoot, timeout: 120_000 });
  await cp(join(repoRoot, 'templates'), join(work, 'templates'), { recursive: true });
  await cp(join(repoRoot, 'crd.yaml'), join(work, 'crd.yaml'));
  const meta = JSON.parse(await readFile(metafile, 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  contents = new Map(Object.entries(meta.outputs).map(([file, output]) => [basename(file), new Set(Object.keys(output.inputs).map(inputName))]));
  // Records every module file Node loads (ESM static and dynamic imports alike) to KURIER_LOADED_LOG.
  await writeFile(
    join(work, 'record-loads.mjs'),
    `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({ load(url, context, nextLoad) { if (url.startsWith('file:')) appendFileSync(process.env.KURIER_LOADED_LOG, url + '\\n'); return nextLoad(url, context); } });
`,
  );
}, 150_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Loaded {
  /** Output files of the bundle the process loaded. */
  files: string[];
  /** Packages and source files inside them. */
  inputs: Set<string>;
}

async function loadedBy(logFile: string): Promise<Loaded> {
  const urls = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
  const files = [...new Set(urls.map((url) => fileURLToPath(url)).filter((path) => path.startsWith(`${outDir}/`)).map((path) => basename(path)))];
  const inputs = new Set(files.flatMap((file) => [...(contents.get(file) ?? [])]));
  return { files, inputs };
}

/** A spawned process's output as it comes, and its exit code. */
function watched(child: ChildProcessByStdio<null, Readable, Readable>): { output: { stdout: string; stderr: string }; exited: Promise<number | null> } {
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  return { output, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

/** Waits until `child` printed `line` on stdout (or exited, which fails). */
async function printed(child: ChildProcessByStdio<null, Readable, Readable>, output: { stdout: string; stderr: string }, line: string): Promise<void> {
  await expect.poll(() => output.stdout.includes(line) || child.exitCode !== null, { timeout: 30_000 }).toBe(true);
  expect(output.stdout, output.stderr).toContain(line);
}

/** Runs the bundle with module loads recorded; `until` (a stdout substring) is awaited, then SIGTERM. */
async function runRecorded(args: string[], env: Record<string, string>, until?: string): Promise<{ code: number | null; stdout: string; stderr: string; loaded: Loaded }> {
  const logFile = join(work, `${uniqueName('loaded')}.log`);
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(work, 'record-loads.mjs')).href, bundle, ...args], {
    cwd: work,
    env: { PATH: process.env['PATH'] ?? '', KURIER_LOADED_LOG: logFile, METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { output, exited } = watched(child);
  try {
    if (until !== undefined) {
      await printed(child, output, until);
      child.kill('SIGTERM');
    }
    const code = await exited;
    return { code, ...output, loaded: await loadedBy(logFile) };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

const CONTROLLER_ONLY = ['controller/main.ts', '@kubernetes/client-node'];
const BROKER_CLIENTS = ['nats', 'amqplib', 'kafkajs', 'node-cron'];
const TRACING_SDK = ['@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources'];

describe('the bundle (dist/kurier.mjs and its chunks)', () => {
  it('is an entry plus chunks, each starting with the createRequire banner, and holds no test-only code', async () => {
    const files = (await readdir(outDir)).filter((file) => file.endsWith('.mjs'));
    expect(files).toContain('kurier.mjs');
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((file) => file !== 'kurier.mjs').every((file) => file.startsWith('kurier-'))).toBe(true);
    for (const file of files) expect((await readFile(join(outDir, file), 'utf8')).startsWith(BANNER), file).toBe(true);
    const everything = new Set([...contents.values()].flatMap((inputs) => [...inputs]));
    expect(everything).toContain('@kubernetes/client-node');
    expect(everything).not.toContain('fast-check');
    expect(everything).not.toContain('vitest');
  });

  it('a NATS dispatcher loads nats and the core only: no controller, Kubernetes client, other broker or tracing SDK', async () => {
    const nc = await connectNats();
    const subject = uniqueName('bundle.orders');
    const stream = uniqueName('BUNDLE').replace(/[^A-Za-z0-9_]/g, '_');
    await createStream(nc, stream, [subject]);
    try {
      const result = await runRecorded(['dispatch', 'nats'], {
        FUNCTION_URL: 'http://127.0.0.1:9/',
        NATS_URL: SHARED_NATS,
        NATS_SUBJECT: subject,
        NATS_JETSTREAM_STREAM: stream,
        NATS_JETSTREAM_CONSUMER: uniqueName('bundle'),
      }, '"dispatcher started"');
      expect(result.code, result.stderr).toBe(0);
      const { inputs, files } = result.loaded;
      expect(files).toContain('kurier.mjs');
      expect(inputs).toContain('nats');
      expect(inputs).toContain('dispatchers/nats/index.ts');
      for (const unwanted of [...CONTROLLER_ONLY, ...BROKER_CLIENTS.filter((c) => c !== 'nats'), ...TRACING_SDK, 'render/render.ts', 'yaml']) {
        expect(inputs, `${unwanted} loaded by dispatch nats (files: ${files.join(', ')})`).not.toContain(unwanted);
      }
    } finally {
      await deleteStream(nc, stream).catch(() => undefined);
      await nc.close();
    }
  });

  it('a RabbitMQ dispatcher loads amqplib and not the NATS client (nor the controller)', async () => {
    const connection = await amqp.connect(RABBITMQ);
    const channel = await connection.createChannel();
    const queue = uniqueName('kurier.bundle');
    await channel.assertQueue(queue, { durable: true });
    try {
      const result = await runRecorded(['dispatch', 'rabbitmq'], { FUNCTION_URL: 'http://127.0.0.1:9/', RABBITMQ_URL: RABBITMQ, RABBITMQ_QUEUE: queue }, '"dispatcher started"');
      expect(result.code, result.stderr).toBe(0);
      const { inputs } = result.loaded;
      expect(inputs).toContain('amqplib');
      for (const unwanted of [...CONTROLLER_ONLY, ...BROKER_CLIENTS.filter((c) => c !== 'amqplib'), ...TRACING_SDK]) expect(inputs, unwanted).not.toContain(unwanted);
    } finally {
      await channel.deleteQueue(queue).catch(() => undefined);
      await connection.close();
    }
  });

  it('render loads no Kubernetes client and no broker client; controller loads the Kubernetes client', async () => {
    const rendered = await runRecorded(['render', '-f', join(repoRoot, 'examples'), '--allow-cross-namespace'], {});
    expect(rendered.code, rendered.stderr).toBe(0);
    expect(rendered.stdout).toContain('kind: Deployment');
    expect(rendered.loaded.inputs).toContain('render/render.ts');
    for (const unwanted of [...CONTROLLER_ONLY, ...BROKER_CLIENTS.filter((c) => c !== 'node-cron')]) expect(rendered.loaded.inputs, unwanted).not.toContain(unwanted);

    const controller = await runRecorded(['controller', '--templates=/nonexistent/templates'], {});
    expect(controller.code).not.toBe(0);
    expect(controller.loaded.inputs).toContain('@kubernetes/client-node');
  });

  it('runs the demo from the bundle alone (no bin/, no sources): the dispatcher is started as the same command', async () => {
    const result = await run(process.execPath, [bundle, 'demo', '--messages', '20', '--fail-every', '0'], { cwd: work, timeout: 60_000 });
    expect(result.stdout).toContain('delivered 20/20 unique messages');
    expect(result.stdout).toContain('dispatcher stopped on SIGTERM (exit 0)');
  });

  it('keeps class and function names: logged errors carry their type and readable stack frames', async () => {
    const result = await run(process.execPath, [bundle, 'controller', '--templates=/nonexistent/templates'], { cwd: work }).catch((err: unknown) => err as { stdout: string; code: number });
    const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
    const logged = JSON.parse(line ?? '{}') as { err?: { type?: string; stack?: string } };
    expect(logged.err?.type).toBe('TemplateError');
    expect(logged.err?.stack).toMatch(/at (async )?loadTemplates \(/);
  });

  it('ships no source map unless built with --sourcemap (Dockerfile SOURCE_MAP=true)', async () => {
    const files = await readdir(outDir);
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    for (const file of files) expect(await readFile(join(outDir, file), 'utf8'), file).not.toContain('sourceMappingURL');
    expect(existsSync(`${bundle}.map`)).toBe(false);
  });
});

/** Root with unshare and setpriv: a mount namespace can remount / read-only and the process drop to 65532. */
function canConfine(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('unshare', ['--mount', '--propagation', 'private', 'setpriv', '--reuid=65532', '--regid=65532', '--clear-groups', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Without a Docker engine (test/image/images.test.ts runs the image itself), the same conditions
// the image runs under: only the /app layout built above (outside the repository, no node_modules),
// UID 65532, no capabilities, and a read-only root — /tmp too (stricter than the image, whose
// rendered Deployment mounts an emptyDir there): the dispatcher writes no file.
describe.skipIf(!canConfine())('the bundle directory alone, as the image runs it (needs root, unshare and setpriv)', () => {
  it('delivers from NATS JetStream as UID 65532 with no capabilities on a read-only root, and exits 0 on SIGTERM', async () => {
    const nc = await connectNats();
    const fn = await FunctionServer.start();
    const subject = uniqueName('bundle.ro');
    const stream = uniqueName('BUNDLE_RO').replace(/[^A-Za-z0-9_]/g, '_');
    await createStream(nc, stream, [subject]);
    const confine = `mount -o remount,ro,bind / && exec setpriv --reuid=65532 --regid=65532 --clear-groups --inh-caps=-all --bounding-set=-all -- "$0" "$@"`;
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', confine, process.execPath, bundle, 'dispatch', 'nats'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        FUNCTION_URL: fn.url,
        NATS_URL: SHARED_NATS,
        NATS_SUBJECT: subject,
        NATS_JETSTREAM_STREAM: stream,
        NATS_JETSTREAM_CONSUMER: uniqueName('bundle-ro'),
        DELIVERY_ORDERING: 'unordered',
        METRICS_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { output, exited } = watched(child);
    try {
      await printed(child, output, '"dispatcher started"');
      // unshare, sh and setpriv each exec the next: the dispatcher keeps the child's pid.
      const status = await readFile(`/proc/${String(child.pid)}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe('65532');
      expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toBe('0000000000000000');
      const mounts = (await readFile(`/proc/${String(child.pid)}/mounts`, 'utf8')).split('\n').map((line) => line.split(' '));
      expect(mounts.find((fields) => fields[1] === '/')?.[3]?.split(',')).toContain('ro');
      await publishNumbered(nc, subject, 0, 200);
      await fn.waitForDistinctDelivered(200, 60_000, numberOf);
      expect(tally(fn.delivered, 200).missing).toEqual([]);
      child.kill('SIGTERM');
      expect(await exited, output.stderr).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await deleteStream(nc, stream).catch(() => undefined);
      await nc.close();
      await fn.close();
    }
  }, 90_000);
});
