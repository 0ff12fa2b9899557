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
  readonly deliveries: Counter<'outcome' | 'target'>;
  readonly retries: Counter<'target'>;
  readonly inFlight: Gauge<'target'>;
  readonly duration: Histogram<'target'>;
  readonly publishFailures: Counter<'purpose' | 'target'>;
  readonly repliesRefused: Counter<'target'>;
}

export const CONSUMER_LAG = 'kurier_dispatcher_consumer_lag';

/**
 * Where lag is measured, the same shape for every source: `topic` is the Kafka topic, the
 * JetStream stream (Pulsar topic, RabbitMQ queue if they ever report it); `partition` only where
 * the source has partitions. The dashboard sums over both, per trigger.
 */
export interface LagPosition {
  readonly topic: string;
  readonly partition?: number | undefined;
}

export type LagLabel = 'topic' | 'partition';

/** The labels of one lag series (a missing partition is no label at all, not an empty one). */
export function lagLabels(position: LagPosition): Partial<Record<LagLabel, string>> {
  return position.partition === undefined ? { topic: position.topic } : { topic: position.topic, partition: String(position.partition) };
}

/**
 * The consumer-lag gauge on `registry` (created on first use), for adapters whose source reports
 * lag: `consumerLagGauge(context.registry).set(lagLabels({ topic, partition }), pending)`.
 */
export function consumerLagGauge(registry: Registry): Gauge<LagLabel> {
  const existing = registry.getSingleMetric(CONSUMER_LAG);
  if (existing !== undefined) return existing as Gauge<LagLabel>;
  return new Gauge({
    name: CONSUMER_LAG,
    help: 'Messages waiting in the source for this consumer, by topic (Kafka topic, JetStream stream) and partition where the source has them.',
    labelNames: ['topic', 'partition'],
    registers: [registry],
  });
}

/**
 * The identity labels every dispatcher series carries, so one dashboard can tell triggers apart
 * however Prometheus discovered the pod. `namespace` is avoided on purpose: Prometheus' own
 * Kubernetes target label of that name would rename ours to `exported_namespace`.
 */
export function triggerLabels(trigger: { readonly kind: string; readonly namespace: string; readonly name: string }): Record<string, string> {
  return { kind: trigger.kind, trigger_namespace: trigger.namespace, trigger: trigger.name };
}

/**
 * Creates the metrics on a fresh registry (never the global one, so tests can run several pipelines).
 * `fanOut`: the delivery series carry a `target` label (see target-metrics.ts), so the series
 * without one are not created at 0.
 */
export function createMetrics(options: { defaultMetrics?: boolean; labels?: Record<string, string>; fanOut?: boolean } = {}): DispatcherMetrics {
  const registry = new Registry();
  if (options.labels !== undefined) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics: DispatcherMetrics = {
    registry,
    received: new Counter({
      name: 'kurier_dispatcher_messages_received_total',
      help: 'Messages taken from the source.',
      registers,
    }),
    deliveries: new Counter({
      name: 'kurier_dispatcher_deliveries_total',
      help: 'Messages that left the pipeline, by outcome (delivered, dead_lettered, failed, released), and by target in a fan-out.',
      labelNames: ['outcome', 'target'],
      registers,
    }),
    retries: new Counter({
      name: 'kurier_dispatcher_retries_total',
      help: 'Delivery attempts that failed with a retryable outcome and were retried (by target in a fan-out).',
      labelNames: ['target'],
      registers,
    }),
    inFlight: new Gauge({
      name: 'kurier_dispatcher_in_flight',
      help: 'HTTP requests to the function in progress (by target in a fan-out).',
      labelNames: ['target'],
      registers,
    }),
    duration: new Histogram({
      name: 'kurier_dispatcher_delivery_duration_seconds',
      help: 'Duration of one HTTP attempt to the function, whatever its outcome (by target in a fan-out).',
      labelNames: ['target'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    publishFailures: new Counter({
      name: 'kurier_dispatcher_publish_failures_total',
      help: 'Failed publishes of dead-letter envelopes or replies (each is retried), and by target in a fan-out.',
      labelNames: ['purpose', 'target'],
      registers,
    }),
    repliesRefused: new Counter({
      name: 'kurier_dispatcher_replies_refused_total',
      help: 'Replies not published because the function answered more than 16 MiB (by target in a fan-out).',
      labelNames: ['target'],
      registers,
    }),
  };
  // Every known label value exists from the start at 0: increase() sees the first dead letter, and
  // alerts and dashboards find the series before anything went wrong.
  if (options.fanOut !== true) initialiseSeries(metrics, {});
  return metrics;
}

/** Creates every known outcome and purpose series at 0, with `labels` (a fan-out's `{ target }`). */
export function initialiseSeries(metrics: DispatcherMetrics, labels: { readonly target?: string }): void {
  for (const outcome of Object.values(DeliveryOutcome)) metrics.deliveries.inc({ ...labels, outcome }, 0);
  for (const purpose of ['dead_letter', 'reply']) metrics.publishFailures.inc({ ...labels, purpose }, 0);
}
