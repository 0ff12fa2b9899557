/**
 * The dispatcher core's own CPU cost per message, without broker or network: building the
 * request headers, and a whole pass through the pipeline (admit → deliver → settled) with a
 * function client that answers 200 at once, at maxInFlight 32 unordered. In-process and pure
 * CPU, so much steadier than the end-to-end run on a shared machine: use it to compare a change
 * to dispatchers/core before and after. With `--candidate DIR` (another tree, e.g. a patched
 * copy) the same measurements run on DIR/dispatchers/core too, rounds interleaved A/B/A/B in one
 * process, so both see the same machine load.
 *
 * The last row runs the same pipeline with tracing on: a span per attempt through the real SDK
 * and OTLP/HTTP exporter to a sink on 127.0.0.1, flushed at the end of each pass (the span queue is
 * sized so none is dropped), against the row above it with tracing off.
 *
 *   npx tsx bench/dispatcher/core.ts [--messages 100000 --rounds 5 --candidate DIR]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { argv } from 'node:process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../../dispatchers/core/config.js';
import { EnvReader } from '../../dispatchers/core/env-reader.js';
import type { FunctionClient } from '../../dispatchers/core/http-client.js';
import { createMetrics } from '../../dispatchers/core/metrics.js';
import * as pipelineModule from '../../dispatchers/core/pipeline.js';
import * as requestModule from '../../dispatchers/core/request.js';
import { createDeliveryTracer } from '../../dispatchers/core/tracing.js';
import type { DeliveryTracer } from '../../dispatchers/core/tracing.js';
import type { Logger, Message, TriggerIdentity } from '../../dispatchers/core/types.js';
import { body } from './brokers.js';

interface Core {
  readonly name: string;
  readonly createPipeline: typeof pipelineModule.createPipeline;
  readonly buildHeaders: typeof requestModule.buildHeaders;
}

function numberOption(name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  const value = i === -1 ? fallback : Number(argv[i + 1]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

const MESSAGES = numberOption('messages', 100_000);
const candidateIndex = argv.indexOf('--candidate');
const CANDIDATE = candidateIndex === -1 ? undefined : argv[candidateIndex + 1];
const ROUNDS = numberOption('rounds', 5);
const trigger: TriggerIdentity = { kind: 'NATSTrigger', name: 'bench', namespace: 'bench', uid: '' };
const payload = body('core', 1);
const time = new Date();

/** A JetStream-like message: JSON body, no headers of its own, no content type (the common case). */
function message(i: number): Message {
  return { id: `BENCH:${i}`, body: payload, headers: {}, contentType: undefined, topic: 'orders.created', lane: 'orders.>', key: 'orders.created', time, coordinates: { stream: 'BENCH', sequence: i } };
}

const silent = (): void => undefined;
const logger = { info: silent, warn: silent, error: silent, debug: silent } as unknown as Logger;
const answered = { status: 200, headers: {}, body: Buffer.alloc(0), truncated: false };
const client: FunctionClient = { post: () => Promise.resolve(answered), close: silent };
const { delivery } = parseConfig(new EnvReader({ FUNCTION_URL: 'http://127.0.0.1:1/', DELIVERY_MAX_IN_FLIGHT: '32', DELIVERY_ORDERING: 'unordered' }), 'nats');

async function pipelinePass(core: Core, count: number, tracer?: DeliveryTracer): Promise<void> {
  const pipeline = core.createPipeline({ source: 'nats', trigger, functionUrl: 'http://127.0.0.1:1/', delivery, client, publisher: { publish: () => Promise.resolve() }, metrics: createMetrics(), logger, tracer });
  const settled: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += 1) {
    const admission = await pipeline.admit(message(i));
    settled.push(admission.settled);
    if (settled.length === delivery.maxInFlight) {
      await Promise.all(settled);
      settled.length = 0;
    }
  }
  await Promise.all(settled);
}

const cores: Core[] = [{ name: 'this tree', createPipeline: pipelineModule.createPipeline, buildHeaders: requestModule.buildHeaders }];
if (CANDIDATE !== undefined) {
  const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(CANDIDATE, 'dispatchers', 'core', file)).href)) as T;
  const candidatePipeline = await load<typeof pipelineModule>('pipeline.ts');
  const candidateRequest = await load<typeof requestModule>('request.ts');
  cores.push({ name: CANDIDATE, createPipeline: candidatePipeline.createPipeline, buildHeaders: candidateRequest.buildHeaders });
}

const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** CPU µs per message (user + system of this process) of each core, rounds interleaved; medians. */
async function measure(task: (core: Core, count: number) => Promise<void> | void, only: readonly Core[] = cores): Promise<number[]> {
  const perMessage = only.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, core] of only.entries()) {
      const before = process.cpuUsage();
      await task(core, MESSAGES);
      const used = process.cpuUsage(before);
      perMessage[i]?.push((used.user + used.system) / MESSAGES);
    }
  }
  return perMessage.map(median);
}

const started = performance.now();
const floor = await measure((_core, count) => {
  for (let i = 0; i < count; i += 1) message(i);
});
const headers = await measure((core, count) => {
  for (let i = 0; i < count; i += 1) core.buildHeaders(message(i), { source: 'nats', trigger });
});
const pipeline = await measure((core, count) => pipelinePass(core, count));

// Tracing on: the exporter reads these from the environment, as in a dispatcher pod.
const sink = { requests: 0, bytes: 0 };
const sinkServer = createServer((request, response) => {
  request.on('data', (chunk: Buffer) => { sink.bytes += chunk.length; });
  request.on('end', () => {
    sink.requests += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((resolve) => sinkServer.listen(0, '127.0.0.1', resolve));
process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${String((sinkServer.address() as AddressInfo).port)}`;
process.env['OTEL_BSP_MAX_QUEUE_SIZE'] = String(MESSAGES);
// The flood outruns the one-batch-at-a-time export; the shutdown flush then sends what is left at
// once, and the exporter refuses more than 30 concurrent requests: big batches keep it under that.
process.env['OTEL_BSP_MAX_EXPORT_BATCH_SIZE'] = String(Math.max(512, Math.ceil(MESSAGES / 20)));
// This tree only (a candidate may predate tracing), against this tree's untraced pass in the same rounds.
const [thisTree] = cores;
const tracedVsOff = thisTree === undefined ? [] : await measure(async (core, count) => {
  const tracer = core.name === 'traced' ? await createDeliveryTracer(process.env, { source: 'nats', trigger }) : undefined;
  await pipelinePass(core, count, tracer);
  await tracer?.shutdown();
}, [thisTree, { ...thisTree, name: 'traced' }]);
sinkServer.closeAllConnections();
sinkServer.close();
const cells = (values: number[]): string => values.map((value) => value.toFixed(2).padStart(10)).join('') + (values.length === 2 ? `   ratio ${((values[1] ?? 0) / (values[0] ?? 1)).toFixed(2)}` : '');
console.log(`dispatcher core, ${MESSAGES} messages × ${ROUNDS} rounds, CPU µs per message (median)${cores.length === 2 ? `: this tree, then ${CANDIDATE ?? ''}` : ''}`);
console.log(`  building a message (floor)         ${cells(floor)}`);
console.log(`  buildHeaders                       ${cells(headers)}`);
console.log(`  pipeline admit → settled (no HTTP) ${cells(pipeline)}`);
console.log(`  this tree: tracing off, then on     ${cells(tracedVsOff)}   (${(sink.bytes / 1e6).toFixed(1)} MB of spans in ${String(sink.requests)} OTLP requests)`);
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
