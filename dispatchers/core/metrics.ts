import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const DeliveryOutcome = {
  Delivered: 'delivered',
  DeadLettered: 'dead_lettered',
  Failed: 'failed',
  Released: 'released',
} as const;
export type DeliveryOutcome = (typeof DeliveryOutcome)[keyof typeof DeliveryOutcome];

/** The dispatcher's Prometheus metrics (docs/dispatchers.md lists them). */
export interface DispatcherMetrics {
  readonly registry: Registry;
  readonly received: Counter;
  readonly deliveries: Counter<'outcome'>;
  readonly retries: Counter;
  readonly inFlight: Gauge;
  readonly duration: Histogram;
  readonly publishFailures: Counter<'purpose'>;
  readonly repliesRefused: Counter;
}

export const CONSUMER_LAG = 'kurier_dispatcher_consumer_lag';

/**
 * The consumer-lag gauge on `registry` (created on first use), for adapters whose source reports
 * lag: `consumerLagGauge(context.registry).set({ lane }, pending)`.
 */
export function consumerLagGauge(registry: Registry): Gauge<'lane'> {
  const existing = registry.getSingleMetric(CONSUMER_LAG);
  if (existing !== undefined) return existing as Gauge<'lane'>;
  return new Gauge({
    name: CONSUMER_LAG,
    help: 'Messages waiting in the source for this consumer, where the source reports it.',
    labelNames: ['lane'],
    registers: [registry],
  });
}

/** Creates the metrics on a fresh registry (never the global one, so tests can run several pipelines). */
export function createMetrics(options: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}): DispatcherMetrics {
  const registry = new Registry();
  if (options.labels !== undefined) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    received: new Counter({
      name: 'kurier_dispatcher_messages_received_total',
      help: 'Messages taken from the source.',
      registers,
    }),
    deliveries: new Counter({
      name: 'kurier_dispatcher_deliveries_total',
      help: 'Messages that left the pipeline, by outcome (delivered, dead_lettered, failed, released).',
      labelNames: ['outcome'],
      registers,
    }),
    retries: new Counter({
      name: 'kurier_dispatcher_retries_total',
      help: 'Delivery attempts that failed with a retryable outcome and were retried.',
      registers,
    }),
    inFlight: new Gauge({
      name: 'kurier_dispatcher_in_flight',
      help: 'HTTP requests to the function in progress.',
      registers,
    }),
    duration: new Histogram({
      name: 'kurier_dispatcher_delivery_duration_seconds',
      help: 'Duration of one HTTP attempt to the function, whatever its outcome.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    publishFailures: new Counter({
      name: 'kurier_dispatcher_publish_failures_total',
      help: 'Failed publishes of dead-letter envelopes or replies (each is retried).',
      labelNames: ['purpose'],
      registers,
    }),
    repliesRefused: new Counter({
      name: 'kurier_dispatcher_replies_refused_total',
      help: 'Replies not published because the function answered more than 16 MiB.',
      registers,
    }),
  };
}
