/** The controller's Prometheus metrics, on a registry of its own (two controllers may share a process in tests). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const ReconcileResult = { Success: 'success', Error: 'error', Invalid: 'invalid', Refused: 'refused' } as const;
export type ReconcileResult = (typeof ReconcileResult)[keyof typeof ReconcileResult];

export interface ControllerMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'result'>;
  readonly reconcileDuration: Histogram;
  readonly queueDepth: Gauge;
  readonly retries: Counter;
  readonly leader: Gauge;
}

/** Creates the metrics; `queueDepth` reads the queue length at scrape time. */
export function createMetrics(options: { queueDepth: () => number; defaultMetrics?: boolean }): ControllerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'kurier_controller_' });
  return {
    registry,
    reconciles: new Counter({
      name: 'kurier_controller_reconciles_total',
      help: 'Reconcile passes by result (success, error, invalid, refused).',
      labelNames: ['result'],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'kurier_controller_reconcile_duration_seconds',
      help: 'Time one reconcile pass took.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'kurier_controller_queue_depth',
      help: 'Trigger keys waiting in the work queue.',
      registers: [registry],
      collect() {
        this.set(options.queueDepth());
      },
    }),
    retries: new Counter({
      name: 'kurier_controller_retries_total',
      help: 'Keys requeued with backoff after a failed reconcile.',
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'kurier_controller_leader',
      help: '1 while this instance holds the leader lease (or runs without leader election).',
      registers: [registry],
    }),
  };
}
