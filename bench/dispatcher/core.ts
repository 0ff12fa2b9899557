/**
 * The dispatcher core's own CPU cost per message, without broker or network: building the
 * request headers, and a whole pass through the pipeline (admit → deliver → settled) with a
 * function client that answers 200 at once, at maxInFlight 32 unordered. In-process and pure
 * CPU, so much steadier than the end-to-end run on a shared machine: use it to compare a change
 * to dispatchers/core before and after. With `--candidate DIR` (another tree, e.g. a patched
 * copy) the same measurements run on DIR/dispatchers/core too, rounds interleaved A/B/A/B in one
 * process, so both see the same machine load.
 *
 *   npx tsx bench/dispatcher/core.ts [--messages 100000 --rounds 5 --candidate DIR]
 */
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

async function pipelinePass(core: Core, count: number): Promise<void> {
  const pipeline = core.createPipeline({ source: 'nats', trigger, functionUrl: 'http://127.0.0.1:1/', delivery, client, publisher: { publish: () => Promise.resolve() }, metrics: createMetrics(), logger });
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
async function measure(task: (core: Core, count: number) => Promise<void> | void): Promise<number[]> {
  const perMessage = cores.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, core] of cores.entries()) {
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
const pipeline = await measure(pipelinePass);
const cells = (values: number[]): string => values.map((value) => value.toFixed(2).padStart(10)).join('') + (values.length === 2 ? `   ratio ${((values[1] ?? 0) / (values[0] ?? 1)).toFixed(2)}` : '');
console.log(`dispatcher core, ${MESSAGES} messages × ${ROUNDS} rounds, CPU µs per message (median)${cores.length === 2 ? `: this tree, then ${CANDIDATE ?? ''}` : ''}`);
console.log(`  building a message (floor)         ${cells(floor)}`);
console.log(`  buildHeaders                       ${cells(headers)}`);
console.log(`  pipeline admit → settled (no HTTP) ${cells(pipeline)}`);
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
