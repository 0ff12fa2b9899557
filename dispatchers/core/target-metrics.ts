import type { DispatcherMetrics } from './metrics.js';
import { initialiseSeries } from './metrics.js';

/** prom-client methods that take a label object first (or a value and no labels). */
const VALUE_METHODS = new Set<PropertyKey>(['inc', 'dec', 'set', 'observe']);
/** prom-client methods whose only argument is a label object. */
const LABEL_METHODS = new Set<PropertyKey>(['labels', 'startTimer', 'remove']);

type Method = (...args: unknown[]) => unknown;

function isLabels(value: unknown): value is Record<string, string | number> {
  return typeof value === 'object' && value !== null;
}

function withLabel(method: Method, self: object, property: PropertyKey, target: string): Method {
  if (VALUE_METHODS.has(property)) {
    return (...args) => (isLabels(args[0]) ? method.call(self, { ...args[0], target }, ...args.slice(1)) : method.call(self, { target }, ...args));
  }
  return (...args) => method.call(self, { ...(isLabels(args[0]) ? args[0] : {}), target });
}

/**
 * `metric` as the pipeline of one target sees it: every series it touches carries `target`.
 * A proxy rather than a copy of each prom-client signature, so the pipeline keeps calling the
 * metric as it always did (`inc({ outcome })`, `labels(…)`, `startTimer()`), whatever it calls.
 */
function labelledFor<T extends object>(metric: T, target: string): T {
  return new Proxy(metric, {
    get(object, property): unknown {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      if (VALUE_METHODS.has(property) || LABEL_METHODS.has(property)) return withLabel(value as Method, object, property, target);
      return (value as Method).bind(object);
    },
  });
}

/** A counter whose `inc` does nothing: received messages are counted once by the fan-out, not per target. */
function uncounted<T extends object>(metric: T): T {
  return new Proxy(metric, {
    get(object, property): unknown {
      if (property === 'inc') return () => undefined;
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === 'function' ? (value as Method).bind(object) : value;
    },
  });
}

/**
 * The metrics one target's pipeline records into: the same names and registry, each delivery
 * series labelled `target="<name>"` and created at 0; `received` is left to the fan-out.
 */
export function metricsForTarget(metrics: DispatcherMetrics, target: string): DispatcherMetrics {
  const view: DispatcherMetrics = {
    registry: metrics.registry,
    received: uncounted(metrics.received),
    deliveries: labelledFor(metrics.deliveries, target),
    retries: labelledFor(metrics.retries, target),
    inFlight: labelledFor(metrics.inFlight, target),
    duration: labelledFor(metrics.duration, target),
    publishFailures: labelledFor(metrics.publishFailures, target),
    repliesRefused: labelledFor(metrics.repliesRefused, target),
  };
  initialiseSeries(metrics, { target });
  return view;
}
