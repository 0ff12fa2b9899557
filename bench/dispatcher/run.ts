/**
 * Dispatcher throughput against a hand-written baseline, side by side in one run.
 *
 * For each broker (NATS JetStream, RabbitMQ, Kafka on librdkafka's mock cluster started through
 * `kcat`) and each concurrency, and `--repeat` times with the order alternating: publish
 * `--messages` small JSON messages up front into a fresh stream/queue/topic,
 * start the consumer as a child process — the real `kurier dispatch <source>`, or the raw
 * consume-and-POST loop in baseline.ts — and time from the first request reaching the local
 * function to the last distinct message answered 2xx. Then `--latency` messages are published
 * paced, for publish→function latency, the child's RSS is read from /proc and it is stopped
 * (SIGTERM). One more configuration runs the dispatcher through a function that answers 503 to
 * `--fail-fraction` of the requests and counts what is missing. Prints; asserts nothing.
 *
 *   npm run bench:dispatcher [-- --messages 3000 --repeat 3 --concurrency 1,32
 *                                --brokers nats,rabbitmq,kafka --latency 100 --fail-fraction 0.1 --cpu-prof DIR]
 *
 * --cpu-prof DIR writes a V8 profile of every consumer process (summarise with profile-summary.ts);
 * --candidate DIR also runs the dispatcher of another tree (a patched copy, a tsc build with bin/ and
 * dist/) in the same rotation, to measure a change before it lands;
 * BENCH_NODE_OPTIONS is added to both children's NODE_OPTIONS (e.g. an --import that instruments them);
 * --tracing also runs the dispatcher with OpenTelemetry tracing on (OTEL_EXPORTER_OTLP_ENDPOINT at a
 * local OTLP/HTTP sink in this process) in the same rotation: the cost of a span per attempt.
 *
 * The harder case of issue 13 (see docs/benchmarks.md, "The harder case"):
 * --body text publishes short non-JSON bodies instead of JSON;
 * --bundle runs the dispatcher from dist/kurier.mjs (`npm run build:bundle`) under plain node with
 *   LOG_LEVEL=warn and DELIVERY_ORDERING=unordered at every level, and the baseline under plain node
 *   (Node's own type stripping) instead of tsx, so neither pays for the loader;
 * --function-delay MS makes the function answer after MS milliseconds (the 5 ms variant);
 * --warmup N times each run from its Nth delivered message on (the JIT's warm-up, which a
 *   long-running dispatcher pays once, left out of msgs/s and CPU); the default 0 times it all;
 * --idle MS (memory): the consumer starts on the empty stream/queue first, its RSS after MS ms idle is
 *   printed as "idle MB", and only then is the backlog published — a burst arriving while it runs
 *   (msgs/s is then bounded by the publisher: read the memory columns only);
 * --dispatcher-node-options "…" sets NODE_OPTIONS for the dispatcher and the candidate only (e.g. the
 *   heap limits of templates/deployment.yaml), not the baseline;
 * --strace DIR attaches `strace -f -c` (write, writev, sendmsg, sendto; --strace-calls LIST or `all` for
 *   others) to every consumer from spawn to
 *   its last backlog delivery and prints the calls per message. strace slows the process many times
 *   over: use it for counts, not rates.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argv, execPath, pid as ownPid } from 'node:process';
import { performance } from 'node:perf_hooks';
import { DispatcherProcess } from '../../test/support/dispatcher-process.js';
import { metricsText, sampleValue } from '../../test/support/metrics-text.js';
import { repoRoot } from '../../test/support/run-kurier.js';
import { BROKER_NAMES, KAFKA_PARTITIONS, openBroker, publishPaced, setBodyShape } from './brokers.js';
import type { Broker, BrokerName, Destination } from './brokers.js';
import { BenchFunction } from './function-server.js';

function option(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? undefined : argv[i + 1];
}

function numberOption(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got "${raw}"`);
  return value;
}

const MESSAGES = numberOption('messages', 3_000);
const REPEAT = numberOption('repeat', 3);
const WARMUP = numberOption('warmup', 0);
if (WARMUP >= MESSAGES - 1) throw new Error(`--warmup must be below --messages − 1 (${MESSAGES - 1}), got ${WARMUP}`);
const LATENCY_MESSAGES = numberOption('latency', 100);
const LATENCY_INTERVAL_MS = 4;
const FAIL_FRACTION = numberOption('fail-fraction', 0.1);
const CONCURRENCIES = (option('concurrency') ?? '1,32').split(',').map(Number);
if (CONCURRENCIES.some((c) => !Number.isInteger(c) || c < 1 || c > 10_000)) throw new Error(`--concurrency takes integers 1..10000, comma-separated, got "${option('concurrency') ?? ''}"`);
const isBroker = (name: string): name is BrokerName => (BROKER_NAMES as readonly string[]).includes(name);
const BROKERS = (option('brokers') ?? 'nats,rabbitmq').split(',').filter(isBroker);
if (BROKERS.length === 0) throw new Error(`--brokers takes ${BROKER_NAMES.join(', ')} (comma-separated), got "${option('brokers') ?? ''}"`);
const CPU_PROF_DIR = option('cpu-prof');
const CANDIDATE = option('candidate');
const TRACING = argv.includes('--tracing');
const BUNDLE = argv.includes('--bundle');
const BODY = option('body') ?? 'json';
if (BODY !== 'json' && BODY !== 'text') throw new Error(`--body takes json or text, got "${BODY}"`);
setBodyShape(BODY);
const FUNCTION_DELAY_MS = numberOption('function-delay', 0);
const STRACE_DIR = option('strace');
const STRACE_CALLS = option('strace-calls') ?? 'write,writev,sendmsg,sendto';
const IDLE_MS = numberOption('idle', 0);
const DISPATCHER_NODE_OPTIONS = option('dispatcher-node-options') ?? '';
const BUNDLE_PATH = join(repoRoot, 'dist', 'kurier.mjs');
if (BUNDLE && !existsSync(BUNDLE_PATH)) throw new Error(`--bundle needs ${BUNDLE_PATH}: run \`npm run build:bundle\` first`);
const NATS_URL = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222';
const RABBITMQ_URL = process.env.RABBITMQ_TEST_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const RUN_TIMEOUT_MS = 120_000;

for (const url of [NATS_URL, RABBITMQ_URL]) {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`the benchmark only talks to 127.0.0.1, not ${url}`);
}

/**
 * `candidate`: the dispatcher from another tree (`--candidate DIR`), e.g. a patched copy or a tsc build;
 * `traced`: this tree's dispatcher with tracing on (`--tracing`).
 */
type Kind = 'dispatcher' | 'candidate' | 'traced' | 'baseline';

interface Config {
  readonly broker: BrokerName;
  /** What the consumer connects to (Broker.url). */
  readonly url: string;
  readonly concurrency: number;
  readonly failFraction: number;
}

interface Result {
  readonly kind: Kind;
  /** Which repeat the run belongs to: ratios pair each run with the baseline's of the same repeat. */
  readonly repeat: number;
  readonly msgsPerSec: number;
  /** CPU time of the consumer process per backlog message: less sensitive to other load than msgs/s. */
  readonly cpuUsPerMsg: number;
  /** The kernel's share of that CPU time. */
  readonly systemShare: number;
  readonly startupMs: number;
  readonly latenciesMs: readonly number[];
  readonly peakRssMb: number;
  readonly endRssMb: number;
  /** With --idle: RSS after the idle wait, before any message. */
  readonly idleRssMb: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly connections: number;
  readonly failuresInjected: number;
  readonly retries: number;
  /** With --strace: socket/file write system calls per backlog message, by call. */
  readonly writesPerMsg: Readonly<Record<string, number>> | undefined;
}

/** Something consuming one run's messages: the dispatcher or the baseline, as a child process. */
interface Consumer {
  readonly pid: number;
  /** Counter of retried attempts (the dispatcher's metric; NaN where there is none). */
  retries(): Promise<number>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess | DispatcherProcess>();
/** Streams/queues not yet removed, for an interrupted run. */
const live = new Map<Destination, Broker>();

function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** CPU time (user, system) the process has used, in ms; clock ticks are 10 ms on Linux. */
function cpuMsOf(pid: number): { user: number; system: number } {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
  } catch {
    return { user: Number.NaN, system: Number.NaN };
  }
}

function dispatcherEnv(config: Config, destination: Destination, runId: string, functionUrl: string, kind: Kind): Record<string, string> {
  const env: Record<string, string> = {
    FUNCTION_URL: functionUrl,
    TRIGGER_NAME: 'bench',
    TRIGGER_NAMESPACE: 'bench',
    DELIVERY_MAX_IN_FLIGHT: String(config.concurrency),
    // ordered (the default) keeps one message in flight per subject/queue; the baseline has no order.
    DELIVERY_ORDERING: config.concurrency === 1 && !BUNDLE ? 'ordered' : 'unordered',
    DELIVERY_RETRY_INITIAL_DELAY: '20ms',
    DELIVERY_RETRY_MAX_DELAY: '200ms',
    SHUTDOWN_GRACE_PERIOD: '5s',
  };
  if (BUNDLE) env.LOG_LEVEL = 'warn';
  const nodeOptions = [process.env.BENCH_NODE_OPTIONS ?? '', DISPATCHER_NODE_OPTIONS];
  if (CPU_PROF_DIR !== undefined) nodeOptions.push(`--cpu-prof --cpu-prof-dir=${CPU_PROF_DIR} --cpu-prof-name=${kind}-${runId}.cpuprofile`);
  env.NODE_OPTIONS = nodeOptions.join(' ').trim();
  if (config.broker === 'nats') {
    Object.assign(env, {
      NATS_URL: config.url,
      NATS_SUBJECT: destination.address,
      NATS_JETSTREAM_STREAM: destination.name,
      NATS_JETSTREAM_CONSUMER: `bench-${runId}`,
    });
  } else if (config.broker === 'kafka') {
    // A fresh group per run, reading the backlog produced before it joined; kafkajs' default
    // session, rebalance and heartbeat timeouts, as the baseline's consumer has.
    Object.assign(env, { KAFKA_BROKERS: config.url, KAFKA_TOPIC: destination.address, KAFKA_GROUP_ID: `bench-${runId}`, KAFKA_FROM_BEGINNING: 'true' });
  } else {
    Object.assign(env, { RABBITMQ_URL: config.url, RABBITMQ_QUEUE: destination.address });
  }
  return env;
}

/** Where traced dispatchers export: answers every OTLP/HTTP request 200 and counts the bytes. */
const otlpSink = { url: '', requests: 0, bytes: 0 };

async function startOtlpSink(): Promise<() => Promise<void>> {
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => { otlpSink.bytes += chunk.length; });
    request.on('end', () => {
      otlpSink.requests += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  otlpSink.url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  return () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); });
}

function startDispatcher(config: Config, destination: Destination, runId: string, functionUrl: string, metricsPort: number, kind: Kind = 'dispatcher'): Consumer {
  const env = dispatcherEnv(config, destination, runId, functionUrl, kind);
  if (kind === 'traced') env.OTEL_EXPORTER_OTLP_ENDPOINT = otlpSink.url;
  if (BUNDLE) {
    const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', METRICS_PORT: String(metricsPort), ...env };
    return startChild([BUNDLE_PATH, 'dispatch', config.broker], childEnv, repoRoot, metricsPort);
  }
  const dispatcher = DispatcherProcess.spawn(config.broker, env);
  children.add(dispatcher);
  return {
    pid: dispatcher.pid ?? 0,
    retries: () => dispatcher.metric('kurier_dispatcher_retries_total').catch(() => Number.NaN),
    stop: async () => {
      const exit = await dispatcher.terminate(15_000).catch((error: unknown) => ({ code: -1, signal: String(error) }));
      children.delete(dispatcher);
      if (exit.code !== 0) process.stderr.write(`dispatcher exited ${JSON.stringify(exit)}\n${dispatcher.stderr}${dispatcher.tail(5)}\n`);
    },
  };
}

/** A port nothing listens on now, for a child's METRICS_PORT (its logs are not read, so 0 would leave it unknown). */
async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
  return port;
}

/** A child consumer; with `metricsPort`, its retries are read from the dispatcher's /metrics there. */
function startChild(command: string[], env: Record<string, string>, cwd: string, metricsPort?: number): Consumer {
  const child = spawn(execPath, command, { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  return {
    pid: child.pid ?? 0,
    retries: () => (metricsPort === undefined
      ? Promise.resolve(Number.NaN)
      : metricsText(metricsPort).then((text) => sampleValue(text, 'kurier_dispatcher_retries_total')).catch(() => Number.NaN)),
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      children.delete(child);
    },
  };
}

/** `strace -f -c` attached to a running process; stop() detaches it and returns the calls counted. */
function startStrace(pid: number, file: string): { stop(): Promise<Record<string, number>> } {
  const filter = STRACE_CALLS === 'all' ? [] : ['-e', `trace=${STRACE_CALLS}`];
  const tracer = spawn('strace', ['-f', '-c', ...filter, '-o', file, '-p', String(pid)], { stdio: 'ignore' });
  children.add(tracer);
  const exited = new Promise<void>((resolve) => tracer.once('exit', () => { resolve(); }));
  return {
    stop: async () => {
      tracer.kill('SIGINT');
      await exited;
      children.delete(tracer);
      const counts: Record<string, number> = {};
      // strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const fields = line.trim().split(/\s+/);
        const call = fields.at(-1) ?? '';
        // The header (its calls column reads "calls"), rules and the total row are not calls.
        if (call === 'total' || !/^\d+$/.test(fields[3] ?? '')) continue;
        counts[call] = Number(fields[3]);
      }
      return counts;
    },
  };
}

function startCandidate(config: Config, destination: Destination, runId: string, functionUrl: string, metricsPort: number): Consumer {
  const root = CANDIDATE ?? repoRoot;
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', METRICS_PORT: String(metricsPort), ...dispatcherEnv(config, destination, runId, functionUrl, 'candidate') };
  // With --bundle the candidate runs from its own bundle too (build it in DIR first).
  const bundle = join(root, 'dist', 'kurier.mjs');
  if (BUNDLE && !existsSync(bundle)) throw new Error(`--bundle with --candidate needs ${bundle}: run \`npm run build:bundle\` in ${root}`);
  return startChild([BUNDLE ? bundle : join(root, 'bin', 'kurier.js'), 'dispatch', config.broker], env, root, metricsPort);
}

function startBaseline(config: Config, destination: Destination, runId: string, functionUrl: string): Consumer {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    BENCH_BROKER: config.broker,
    BENCH_URL: config.url,
    BENCH_FUNCTION_URL: functionUrl,
    BENCH_CONCURRENCY: String(config.concurrency),
    BENCH_STREAM: destination.name,
    BENCH_SUBJECT: destination.address,
    BENCH_CONSUMER: `bench-${runId}`,
    BENCH_QUEUE: destination.address,
    BENCH_TOPIC: destination.address,
    BENCH_GROUP: `bench-${runId}`,
    BENCH_PARTITIONS: String(KAFKA_PARTITIONS),
    NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '',
  };
  if (process.env.BENCH_MAX_ACK_PENDING !== undefined) env.BENCH_MAX_ACK_PENDING = process.env.BENCH_MAX_ACK_PENDING;
  if (process.env.BENCH_FULL_HEADERS !== undefined) env.BENCH_FULL_HEADERS = process.env.BENCH_FULL_HEADERS;
  // The same loader as bin/kurier.js uses for the dispatcher (tsx), so both pay the same start-up and memory for it;
  // with --bundle neither has a loader (Node strips baseline.ts's types itself).
  const profile = CPU_PROF_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`, `--cpu-prof-name=baseline-${runId}.cpuprofile`];
  const loader = BUNDLE ? ['--no-warnings=ExperimentalWarning'] : ['--import', 'tsx'];
  // kafkajs' TimeoutNegativeWarning at every start (the dispatcher drops it too: dispatchers/kafka/quiet-kafkajs.ts).
  const quiet = config.broker === 'kafka' ? ['--disable-warning=TimeoutNegativeWarning'] : [];
  return startChild([...profile, ...loader, ...quiet, `${repoRoot}bench/dispatcher/baseline.ts`], env, repoRoot);
}

async function runOnce(kind: Kind, config: Config, broker: Broker, fn: BenchFunction, index: number, repeat = 0): Promise<Result> {
  const runId = `${ownPid}-${index}`;
  const destination = await broker.create(runId);
  live.set(destination, broker);
  let consumer: Consumer | undefined;
  try {
    fn.dropConnections();
    fn.begin(runId, MESSAGES, { failFraction: config.failFraction, seed: index + 1, extra: LATENCY_MESSAGES });
    if (IDLE_MS === 0) await broker.publishBacklog(destination, runId, 0, MESSAGES);
    const metricsPort = await freePort();
    const spawnedAt = performance.now();
    const start = {
      dispatcher: startDispatcher,
      candidate: startCandidate,
      traced: (...args: Parameters<typeof startCandidate>) => startDispatcher(...args, 'traced'),
      baseline: startBaseline,
    }[kind];
    consumer = start(config, destination, runId, fn.url, metricsPort);
    const { pid } = consumer;

    const tracer = STRACE_DIR === undefined ? undefined : startStrace(pid, join(STRACE_DIR, `${kind}-${config.broker}-${String(config.concurrency)}-${runId}.strace`));
    let cpuAtFirst = { user: Number.NaN, system: Number.NaN };
    let timedFrom = Number.NaN;
    if (WARMUP === 0) fn.firstRequest(() => { cpuAtFirst = cpuMsOf(pid); });
    else fn.atDistinct(WARMUP, (at) => { cpuAtFirst = cpuMsOf(pid); timedFrom = at; });
    let idleRssMb = Number.NaN;
    if (IDLE_MS > 0) {
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      idleRssMb = memoryOf(pid).rssMb;
      await broker.publishBacklog(destination, runId, 0, MESSAGES);
    }
    await fn.waitForDistinct(MESSAGES, RUN_TIMEOUT_MS);
    const cpuAtLast = cpuMsOf(pid);
    const backlog = fn.stats();
    const writes = tracer === undefined ? undefined : await tracer.stop();
    if (LATENCY_MESSAGES > 0) {
      await publishPaced(broker, destination, runId, MESSAGES, LATENCY_MESSAGES, LATENCY_INTERVAL_MS, (seq, at) => { fn.published(seq, at); });
      await fn.waitForDistinct(MESSAGES + LATENCY_MESSAGES, RUN_TIMEOUT_MS);
    }
    const memory = memoryOf(consumer.pid);
    const retries = await consumer.retries();
    const final = fn.stats();
    // Without a warm-up: from the first request to the last delivery (MESSAGES − 1 intervals, the
    // CPU of all MESSAGES). With one: from the WARMUP-th delivery on, the rest of the backlog.
    const timed = WARMUP === 0 ? { from: backlog.firstAt, intervals: MESSAGES - 1, messages: MESSAGES } : { from: timedFrom, intervals: MESSAGES - WARMUP, messages: MESSAGES - WARMUP };
    return {
      kind,
      repeat,
      msgsPerSec: timed.intervals / ((backlog.lastAt - timed.from) / 1000),
      cpuUsPerMsg: ((cpuAtLast.user + cpuAtLast.system - cpuAtFirst.user - cpuAtFirst.system) * 1000) / timed.messages,
      systemShare: (cpuAtLast.system - cpuAtFirst.system) / (cpuAtLast.user + cpuAtLast.system - cpuAtFirst.user - cpuAtFirst.system),
      startupMs: backlog.firstAt - spawnedAt,
      latenciesMs: final.latenciesMs,
      peakRssMb: memory.peakMb,
      endRssMb: memory.rssMb,
      idleRssMb,
      missing: final.expected - final.distinct,
      duplicates: final.duplicates,
      connections: final.connections,
      failuresInjected: final.failuresInjected,
      retries,
      writesPerMsg: writes === undefined ? undefined : Object.fromEntries(Object.entries(writes).map(([call, count]) => [call, count / MESSAGES])),
    };
  } finally {
    await consumer?.stop();
    await broker.remove(destination);
    live.delete(destination);
  }
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const median = (values: readonly number[]): number => quantile(values, 0.5);
const fixed = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');

function row(cells: readonly string[]): string {
  const widths = [9, 4, 11, 7, 8, 6, 7, 6, 7, 7, 7, 7, 8, 5, 4];
  return cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 8) : cell.padStart(widths[i] ?? 8))).join(' ');
}

const HEADER = row(['broker', 'mif', 'consumer', 'min/s', 'median/s', 'ratio', 'cpu µs', 'ratio', 'p50 ms', 'p99 ms', 'peak MB', 'idle MB', 'start ms', 'conns', 'dups']);

function summarize(config: Config, results: readonly Result[]): string[] {
  // The machine's speed drifts over a run (a shared host): each run is compared with the baseline
  // run of the same repeat, next to it in time, and the ratio shown is the median of those ratios.
  const pairedRatio = (kind: Kind, value: (r: Result) => number): number => median(
    results.filter((r) => r.kind === kind).map((r) => {
      const baseline = results.find((b) => b.kind === 'baseline' && b.repeat === r.repeat);
      return baseline === undefined ? Number.NaN : value(r) / value(baseline);
    }),
  );
  const kinds = [...new Set(results.map((r) => r.kind))];
  return kinds.map((kind) => {
    const mine = results.filter((r) => r.kind === kind);
    const rateRatio = pairedRatio(kind, (r) => r.msgsPerSec);
    const cpuRatio = pairedRatio(kind, (r) => r.cpuUsPerMsg);
    const rates = mine.map((r) => r.msgsPerSec);
    const latencies = mine.flatMap((r) => r.latenciesMs);
    return row([
      config.broker,
      String(config.concurrency),
      kind,
      fixed(Math.min(...rates)),
      fixed(median(rates)),
      kind === 'baseline' ? '' : fixed(rateRatio, 2),
      fixed(median(mine.map((r) => r.cpuUsPerMsg))),
      kind === 'baseline' ? '' : fixed(cpuRatio, 2),
      fixed(quantile(latencies, 0.5), 2),
      fixed(quantile(latencies, 0.99), 2),
      fixed(Math.max(...mine.map((r) => r.peakRssMb))),
      fixed(Math.max(...mine.map((r) => r.idleRssMb))),
      fixed(median(mine.map((r) => r.startupMs))),
      String(Math.max(...mine.map((r) => r.connections))),
      String(mine.reduce((sum, r) => sum + r.duplicates, 0)),
    ]);
  });
}

async function main(): Promise<void> {
  const began = performance.now();
  const fn = await BenchFunction.start();
  fn.delayMs = FUNCTION_DELAY_MS;
  const stopSink = await startOtlpSink();
  const brokers = new Map<BrokerName, Broker>();
  for (const name of BROKERS) {
    try {
      brokers.set(name, await openBroker(name, name === 'nats' ? NATS_URL : name === 'rabbitmq' ? RABBITMQ_URL : ''));
    } catch (error) {
      process.stderr.write(`skipping ${name}: cannot connect (${error instanceof Error ? error.message : String(error)})\n`);
    }
  }
  const cpus = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown CPU';
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`kurier dispatcher benchmark: ${MESSAGES} messages per run, ${REPEAT} runs per consumer, ${LATENCY_MESSAGES} paced latency messages, Node ${process.version}`);
  console.log(`machine: ${String(navigator.hardwareConcurrency)} × ${cpus}; load average at start ${load}`);
  console.log(`bodies ${BODY}, function answers after ${String(FUNCTION_DELAY_MS)} ms, dispatcher ${BUNDLE ? 'from dist/kurier.mjs (LOG_LEVEL=warn, unordered), baseline under plain node' : 'and baseline under tsx'}`);
  const lines: string[] = [];
  let index = 0;
  try {
    for (const [name, broker] of brokers) {
      for (const concurrency of CONCURRENCIES) {
        const config: Config = { broker: name, url: broker.url, concurrency, failFraction: 0 };
        const results: Result[] = [];
        for (let repeat = 0; repeat < REPEAT; repeat += 1) {
          const kinds: Kind[] = ['dispatcher', ...(CANDIDATE === undefined ? [] : ['candidate' as const]), ...(TRACING ? ['traced' as const] : []), 'baseline'];
          const order = repeat % 2 === 0 ? kinds : [...kinds].reverse();
          for (const kind of order) {
            const result = await runOnce(kind, config, broker, fn, index++, repeat);
            results.push(result);
            if (result.missing > 0) throw new Error(`${kind} missed ${result.missing} messages`);
            process.stderr.write(`  ${name} mif=${concurrency} ${kind}: ${fixed(result.msgsPerSec)} msgs/s, ${fixed(result.cpuUsPerMsg)} µs CPU/msg (${fixed(result.systemShare * 100)}% kernel), RSS peak ${fixed(result.peakRssMb)} MB, at end ${fixed(result.endRssMb)} MB${IDLE_MS > 0 ? `, idle ${fixed(result.idleRssMb)} MB` : ''}\n`);
            if (result.writesPerMsg !== undefined) {
              const calls = Object.entries(result.writesPerMsg).map(([call, perMsg]) => `${call} ${perMsg.toFixed(2)}`).join(', ');
              console.log(`strace ${name} mif=${concurrency} ${kind}: per message ${calls || 'none counted'}`);
            }
          }
        }
        lines.push(...summarize(config, results));
      }
    }
    console.log('');
    console.log(HEADER);
    for (const line of lines) console.log(line);
    const failing = brokers.get('nats') ?? [...brokers.values()][0];
    if (FAIL_FRACTION > 0 && failing !== undefined) {
      const concurrency = Math.max(...CONCURRENCIES);
      const config: Config = { broker: failing.name, url: failing.url, concurrency, failFraction: FAIL_FRACTION };
      const result = await runOnce('dispatcher', config, failing, fn, index++);
      console.log('');
      console.log(
        `function failing ${fixed(FAIL_FRACTION * 100)}% of requests with 503 (${failing.name}, mif ${concurrency}, retry 20ms..200ms): ` +
          `dispatcher ${fixed(result.msgsPerSec)} msgs/s, ${MESSAGES + LATENCY_MESSAGES - result.missing}/${MESSAGES + LATENCY_MESSAGES} delivered, ` +
          `missing ${result.missing}, duplicates ${result.duplicates}, 503s injected ${result.failuresInjected}, retries ${result.retries}, cpu ${fixed(result.cpuUsPerMsg)} µs/msg`,
      );
    }
  } finally {
    for (const broker of brokers.values()) await broker.close().catch(() => undefined);
    await fn.close();
    await stopSink();
  }
  if (TRACING) console.log(`\ntraced dispatchers exported ${String(otlpSink.requests)} OTLP requests, ${fixed(otlpSink.bytes / 1e6, 1)} MB of spans`);
  console.log('');
  console.log(`whole run ${fixed((performance.now() - began) / 1000, 1)} s. msgs/s: backlog messages / (last delivered − first request${WARMUP > 0 ? `; here from the ${String(WARMUP)}th delivery, --warmup` : ''}); ratio: median over the`);
  console.log('repeats of (this run / the baseline run of the same repeat), runs next to each other in time');
  console.log('(higher is better for msgs/s, lower for cpu). cpu µs: consumer process CPU (user+sys) per message over the same span. p50/p99: publish → function');
  console.log('latency of the paced messages, all runs pooled. peak MB: VmHWM of the consumer process (idle MB: VmRSS after --idle ms, before any message). start ms: spawn → first request. conns: connections to the function.');
}

const interrupted = (): void => {
  for (const child of children) {
    if (child instanceof DispatcherProcess) child.signal('SIGKILL');
    else child.kill('SIGKILL');
  }
  void Promise.allSettled([...live].map(([destination, broker]) => broker.remove(destination))).finally(() => process.exit(130));
};
process.once('SIGINT', interrupted);

await main();
