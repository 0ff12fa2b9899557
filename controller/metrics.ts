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
  readonly triggerReady: Gauge<'kind' | 'trigger_namespace' | 'trigger'>;
}

/** One trigger's Ready condition as the controller's cache holds it. */
export interface TriggerReadiness {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly ready: boolean;
}

/**
 * Creates the metrics; `queueDepth` reads the queue length and `triggers` the triggers' Ready
 * conditions at scrape time (an empty list when this instance is not the one reconciling).
 */
export function createMetrics(options: {
  queueDepth: () => number;
  triggers?: () => readonly TriggerReadiness[];
  defaultMetrics?: boolean;
}): ControllerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'kurier_controller_' });
  const metrics: ControllerMetrics = {
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
    triggerReady: new Gauge({
      name: 'kurier_controller_trigger_ready',
      help: "1 when the trigger's Ready condition is True, 0 otherwise (exported by the reconciling instance).",
      // Not `namespace`/`name`: Prometheus' Kubernetes target labels would rename a `namespace`.
      labelNames: ['kind', 'trigger_namespace', 'trigger'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of options.triggers?.() ?? []) this.set({ kind: t.kind, trigger_namespace: t.namespace, trigger: t.name }, t.ready ? 1 : 0);
      },
    }),
  };
  // Every result exists from the start at 0, so rate() and alerts see the first error.
  for (const result of Object.values(ReconcileResult)) metrics.reconciles.inc({ result }, 0);
  return metrics;
}
