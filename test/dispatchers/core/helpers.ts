import type { Clock } from '../../../dispatchers/core/clock.js';
import { parseRetryWhen, DEFAULT_RETRY_WHEN } from '../../../dispatchers/core/config.js';
import type { DeliveryConfig } from '../../../dispatchers/core/config.js';
import { createFunctionClient } from '../../../dispatchers/core/http-client.js';
import { createMetrics } from '../../../dispatchers/core/metrics.js';
import type { DispatcherMetrics } from '../../../dispatchers/core/metrics.js';
import { createPipeline } from '../../../dispatchers/core/pipeline.js';
import type { DispatchPipeline } from '../../../dispatchers/core/pipeline.js';
import type { Logger, Message, Publisher } from '../../../dispatchers/core/types.js';

/** A clock whose sleeps return at once (advancing `now`) and are recorded; aborts still reject. */
export class FakeClock implements Clock {
  nowMs = Date.parse('2026-01-01T00:00:00Z');
  readonly sleeps: number[] = [];
  /** When set, sleeps of at least this length block until the signal aborts (to test drain during backoff). */
  blockFrom: number | undefined;
  now(): number {
    return this.nowMs;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    if (this.blockFrom !== undefined && ms >= this.blockFrom) {
      this.sleeps.push(ms);
      return new Promise((_resolve, reject) => {
        signal?.addEventListener('abort', () => { reject(signal.reason as Error); }, { once: true });
      });
    }
    this.sleeps.push(ms);
    this.nowMs += ms;
    return Promise.resolve();
  }
}

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export function deliveryConfig(overrides: Partial<Omit<DeliveryConfig, 'retry'>> & { retry?: Partial<DeliveryConfig['retry']> } = {}): DeliveryConfig {
  const { retry, ...rest } = overrides;
  return {
    ordering: 'ordered',
    maxInFlight: 1,
    timeoutMs: 2_000,
    deadLetterTopic: undefined,
    replyTopic: undefined,
    ...rest,
    retry: {
      maxAttempts: 0,
      initialDelayMs: 100,
      maxDelayMs: 1_000,
      maxElapsedMs: undefined,
      when: parseRetryWhen(DEFAULT_RETRY_WHEN.split(','), () => undefined),
      ...retry,
    },
  };
}

export class RecordingPublisher implements Publisher {
  readonly published: { destination: string; body: Buffer; headers: Record<string, string>; key: string | undefined }[] = [];
  failNext = 0;
  async publish(destination: string, body: Buffer, headers: Readonly<Record<string, string>>, key?: string): Promise<void> {
    await Promise.resolve();
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('broker said no');
    }
    this.published.push({ destination, body, headers: { ...headers }, key });
  }
}

let counter = 0;
export function message(overrides: Partial<Message> = {}): Message {
  counter += 1;
  return {
    id: `msg-${counter}`,
    body: Buffer.from(`{"n":${counter}}`),
    headers: {},
    topic: 'orders',
    lane: 'orders',
    time: new Date('2026-01-01T00:00:00Z'),
    coordinates: { sequence: counter },
    ...overrides,
  };
}

export interface Harness {
  pipeline: DispatchPipeline;
  clock: FakeClock;
  publisher: RecordingPublisher;
  metrics: DispatcherMetrics;
  close(): void;
}

export function harness(url: string, delivery: DeliveryConfig, options: { random?: () => number; clock?: FakeClock } = {}): Harness {
  const clock = options.clock ?? new FakeClock();
  const publisher = new RecordingPublisher();
  const metrics = createMetrics();
  const client = createFunctionClient(url, delivery.maxInFlight);
  const pipeline = createPipeline({
    source: 'nats',
    trigger: { kind: 'NATSTrigger', name: 'orders', namespace: 'shop', uid: 'u-1' },
    functionUrl: url,
    delivery,
    client,
    publisher,
    metrics,
    logger: silentLogger,
    clock,
    random: options.random ?? (() => 0.5),
  });
  return { pipeline, clock, publisher, metrics, close: () => { client.close(); } };
}

export async function counterValue(metrics: DispatcherMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((value) => Object.entries(labels).every(([k, v]) => value.labels[k] === v));
  return match?.value ?? 0;
}
