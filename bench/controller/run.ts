/**
 * 1,000 triggers across 10 namespaces against the API server double; the controller runs as a
 * child process (`kurier controller`) so its RSS is its own. Prints, does not assert:
 * time to converge, API requests per trigger, API writes during a no-change resync, RSS.
 *
 *   npm run bench:controller [-- --triggers 1000 --namespaces 10 --workers 4 --timeout-seconds 180 --tsx]
 *
 * By default the controller is bundled first (`npm run build:bundle`, as in the image) so its RSS
 * is not tsx's; `--tsx` runs the sources through bin/kurier.js instead.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { argv, execPath } from 'node:process';
import { kubeApi } from '../../controller/kube.js';
import { startApiServer, type RequestRecord } from '../../test/support/apiserver/index.js';
import { parse } from 'yaml';
import { repoRoot } from '../../test/support/run-kurier.js';
import { freePort } from '../../test/support/free-port.js';

function option(name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : Number(argv[i + 1]);
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}

const TRIGGERS = option('triggers', 1000);
const NAMESPACES = option('namespaces', 10);
const WORKERS = option('workers', 4);
const RESYNC_S = option('resync-seconds', 8);
/** How long to wait for convergence before giving up (a loaded shared machine needs more than the target). */
const TIMEOUT_S = option('timeout-seconds', 180);

const USE_TSX = argv.includes('--tsx');
/** Extra Node flags for the controller process, e.g. `--node-flags "--max-semi-space-size=2"`. */
const NODE_FLAGS = ((): string[] => {
  const i = argv.indexOf('--node-flags');
  // By default the controller runs with the chart's NODE_OPTIONS, as in a cluster.
  const flags = i === -1 ? ((parse(readFileSync(`${repoRoot}chart/values.yaml`, 'utf8')) as { nodeOptions?: string }).nodeOptions ?? '') : (argv[i + 1] ?? '');
  return flags.split(' ').filter((f) => f !== '');
})();

/** The command line that starts `kurier controller`. */
function controllerCommand(): string[] {
  if (USE_TSX) return [`${repoRoot}bin/kurier.js`, 'controller'];
  const started = Date.now();
  execFileSync('npm', ['run', '--silent', 'build:bundle'], { cwd: repoRoot, stdio: 'inherit' });
  process.stdout.write(`bundled the controller (npm run build:bundle, as in the image) in ${String(Date.now() - started)} ms\n`);
  return [`${repoRoot}dist/kurier.mjs`, 'controller', `--templates=${repoRoot}templates`, `--crd=${repoRoot}crd.yaml`];
}

const isWrite = (r: RequestRecord): boolean => ['create', 'update', 'patch', 'delete'].includes(r.verb);

function rssOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** CPU seconds (user + system) a process has used. */
function cpuSecondsOf(pid: number | 'self'): number {
  const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of /proc/pid/stat, in clock ticks (100 a second on Linux)
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Heap figures from the controller's own /metrics (prom-client default metrics). */
async function heapOf(port: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  const mb = (name: string): string => {
    const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
    return m?.[1] === undefined ? '?' : (Number(m[1]) / 1048576).toFixed(1);
  };
  return `heap used ${mb('kurier_controller_nodejs_heap_size_used_bytes')} MB of ${mb('kurier_controller_nodejs_heap_size_total_bytes')} MB, external ${mb('kurier_controller_nodejs_external_memory_bytes')} MB`;
}

async function metric(port: number, line: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  return [...text.matchAll(line)].reduce((s, m) => s + Number(m[1]), 0);
}

async function reconcilesTotal(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  return [...text.matchAll(/^kurier_controller_reconciles_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
}

const byVerb = (rs: RequestRecord[]): string =>
  Object.entries(
    rs.reduce<Record<string, number>>((acc, r) => {
      const k = `${r.verb} ${r.resource}${r.subresource === undefined ? '' : `/${r.subresource}`}`;
      acc[k] = (acc[k] ?? 0) + 1;
      return acc;
    }, {}),
  )
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  // the double's garbage collector works from a queue of what changed; batching its passes (as the real one's work queue does) keeps it off the hot path
  const server = await startApiServer({ crds: [`${repoRoot}crd.yaml`], gcDelayMs: 2000 });
  const api = kubeApi(server.kubeConfig());
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${String(i)}`);
  for (const ns of namespaces) server.ensureNamespace(ns);

  const created = Date.now();
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < TRIGGERS; i++) {
    const ns = namespaces[i % NAMESPACES] ?? 'default';
    batch.push(
      api.create({ group: 'kurier.dev', version: 'v1alpha1', plural: 'kafkatriggers' }, ns, {
        apiVersion: 'kurier.dev/v1alpha1',
        kind: 'KafkaTrigger',
        metadata: { name: `t${String(i)}`, namespace: ns },
        spec: { kafka: { brokers: ['kafka.kafka:9092'], topic: `topic-${String(i)}` }, function: { url: `http://fn-${String(i)}.${ns}:8080/` } },
      }),
    );
    if (batch.length >= 50) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  process.stdout.write(`created ${String(TRIGGERS)} KafkaTriggers in ${String(NAMESPACES)} namespaces in ${String(Date.now() - created)} ms\n`);

  const command = controllerCommand();
  const port = await freePort();
  server.resetRequests();
  const started = Date.now();
  const child = spawn(
    execPath,
    [
      ...NODE_FLAGS,
      ...command,
      `--kubeconfig=${server.kubeconfigPath}`,
      `--metrics-port=${String(port)}`,
      `--workers=${String(WORKERS)}`,
      `--resync-period=${String(RESYNC_S)}s`,
      '--log-level=warn',
    ],
    // The image's environment (Dockerfile, chart): fewer glibc malloc arenas.
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MALLOC_ARENA_MAX: process.env['MALLOC_ARENA_MAX'] ?? '2' } },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const pid = child.pid ?? 0;
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid).rssMb);
    } catch {
      // the child has exited
    }
  }, 100);

  // scanning the request log is cheap; listing the store clones every object and would slow the double
  const statusWritten = new Set<string>();
  let scanned = 0;
  const convergedCount = (): number => {
    const log = server.requests;
    for (; scanned < log.length; scanned++) {
      const r = log[scanned];
      if (r !== undefined && r.verb === 'update' && r.subresource === 'status' && r.status === 200) statusWritten.add(`${r.namespace ?? ''}/${r.name ?? ''}`);
    }
    return statusWritten.size;
  };
  const doubleCpuBefore = cpuSecondsOf('self');
  const deadline = Date.now() + TIMEOUT_S * 1000;
  while (convergedCount() < TRIGGERS) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      clearInterval(sampler);
      process.stdout.write(`requests so far: ${byVerb(server.requests)}\n`);
      throw new Error(`not converged after ${String(TIMEOUT_S)} s: ${String(convergedCount())}/${String(TRIGGERS)}`);
    }
    await sleep(250);
  }
  const convergeMs = Date.now() - started;
  const controllerCpu = cpuSecondsOf(pid);
  const failedReconciles = await metric(port, /^kurier_controller_reconciles_total\{result="error"\} (\d+)/gm);
  const doubleCpu = cpuSecondsOf('self') - doubleCpuBefore;
  const unconverged = namespaces
    .flatMap((ns) => server.store.list('kurier.dev/v1alpha1', 'KafkaTrigger', ns) as { status?: { observedGeneration?: number; deployment?: unknown } }[])
    .filter((t) => t.status?.observedGeneration !== 1 || t.status.deployment === undefined).length;
  if (unconverged > 0) throw new Error(`${String(unconverged)} triggers have no status after their status write`);
  const deployments = namespaces.reduce((s, ns) => s + server.store.list('apps/v1', 'Deployment', ns).length, 0);
  await sleep(1500);
  const convergeRequests = [...server.requests];

  // a resync with nothing changed: the controller reconciles every key and should write nothing
  server.resetRequests();
  const before = await reconcilesTotal(port);
  const resyncDeadline = Date.now() + (RESYNC_S + 30) * 1000;
  while ((await reconcilesTotal(port)) < before + TRIGGERS) {
    if (Date.now() > resyncDeadline) throw new Error('no full resync seen');
    await sleep(200);
  }
  await sleep(500);
  const resyncRequests = [...server.requests];
  const { rssMb, peakMb } = rssOf(pid);
  const heap = await heapOf(port);
  child.kill('SIGTERM');
  const code = await exited;
  clearInterval(sampler);
  await server.close();

  const fmt = (n: number): string => n.toFixed(1);
  process.stdout.write(
    [
      `controller: ${String(WORKERS)} workers, node flags [${NODE_FLAGS.join(' ')}], child pid ${String(pid)}, exit code after SIGTERM ${String(code)}`,
      `converged ${String(TRIGGERS)} triggers (${String(deployments)} Deployments) in ${fmt(convergeMs / 1000)} s from process start (target at 10,000: < 60 s)`,
      `CPU while converging: controller ${fmt(controllerCpu)} s, API server double (bench process) ${fmt(doubleCpu)} s, on a 2-core machine shared with other work`,
      `reconciles that failed and were retried while converging: ${String(failedReconciles)} (conflicts with a cache that lagged behind)`,
      `API requests while converging: ${String(convergeRequests.length)} = ${fmt(convergeRequests.length / TRIGGERS)} per trigger (writes ${fmt(convergeRequests.filter(isWrite).length / TRIGGERS)} per trigger)`,
      `  ${byVerb(convergeRequests)}`,
      `API writes during a no-change resync of ${String(TRIGGERS)} triggers: ${String(resyncRequests.filter(isWrite).length)} (target 0); all requests: ${String(resyncRequests.length)}`,
      `controller RSS: ${fmt(rssMb)} MB now, ${fmt(Math.max(peak, peakMb))} MB peak (target at 10,000: < 300 MB; ${heap}; ${USE_TSX ? 'run through tsx, which compiles the sources in-process and adds ~100 MB' : 'compiled JavaScript, as in the image'})`,
      '',
    ].join('\n'),
  );
}

await main();
