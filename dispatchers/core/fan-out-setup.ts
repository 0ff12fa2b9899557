import { Counter, Gauge } from 'prom-client';
import type { DeliveryConfig, TargetsFileConfig } from './config.js';
import { createFanOut } from './fan-out.js';
import type { FanOutPipeline } from './fan-out.js';
import { createFunctionClient } from './http-client.js';
import type { DispatcherMetrics } from './metrics.js';
import { createPipeline } from './pipeline.js';
import { redactUrl } from './redact.js';
import { metricsForTarget } from './target-metrics.js';
import type { Target } from './targets-file.js';
import { watchTargetsFile } from './targets-file.js';
import type { DeliveryTracer } from './tracing.js';
import type { Logger, Publisher, Source, TriggerIdentity } from './types.js';

export interface FanOutSetupOptions {
  readonly source: Source;
  readonly trigger: TriggerIdentity;
  readonly delivery: DeliveryConfig;
  readonly targetsFile: TargetsFileConfig;
  /** The list read at start (a file that cannot be read at start stops the dispatcher instead). */
  readonly initial: readonly Target[];
  readonly publisher: Publisher;
  readonly metrics: DispatcherMetrics;
  readonly logger: Logger;
  readonly tracer: DeliveryTracer | undefined;
}

export interface FanOutSetup {
  readonly fanOut: FanOutPipeline;
  /** Stops re-reading the file. */
  stopWatching(): void;
}

/** The logger of one target's pipeline: every line names the target. */
function targetLogger(logger: Logger, target: string): Logger {
  return {
    debug: (fields, message) => { logger.debug({ ...fields, target }, message); },
    info: (fields, message) => { logger.info({ ...fields, target }, message); },
    warn: (fields, message) => { logger.warn({ ...fields, target }, message); },
    error: (fields, message) => { logger.error({ ...fields, target }, message); },
  };
}

function targetsGauge(metrics: DispatcherMetrics): Gauge {
  return new Gauge({ name: 'kurier_dispatcher_targets', help: 'Targets a fan-out dispatcher delivers every message to.', registers: [metrics.registry] });
}

function fileErrorsCounter(metrics: DispatcherMetrics): Counter {
  return new Counter({
    name: 'kurier_dispatcher_targets_file_errors_total',
    help: 'Reads of FUNCTION_TARGETS_FILE that failed (unreadable or malformed); the last good list stays in use.',
    registers: [metrics.registry],
  });
}

/**
 * Wires a fan-out dispatcher: one delivery pipeline per target (its own HTTP client, retries,
 * ordering and maxInFlight; metrics and logs labelled with the target; dead letters naming it),
 * behind one {@link FanOutPipeline}, and the file re-read every poll interval.
 */
export function setUpFanOut(options: FanOutSetupOptions): FanOutSetup {
  const { metrics, logger, delivery, targetsFile } = options;
  const fanOut = createFanOut({
    targets: options.initial,
    received: metrics.received,
    targetCount: targetsGauge(metrics),
    logger,
    createTarget: (target) => {
      const client = createFunctionClient(target.url, delivery.maxInFlight);
      const pipeline = createPipeline({
        source: options.source,
        trigger: options.trigger,
        functionUrl: target.url,
        target: target.name,
        delivery,
        client,
        publisher: options.publisher,
        metrics: metricsForTarget(metrics, target.name),
        logger: targetLogger(logger, target.name),
        tracer: options.tracer,
      });
      return { pipeline, close: () => { client.close(); } };
    },
  });
  const fileErrors = fileErrorsCounter(metrics);
  const describe = (targets: readonly Target[]): { name: string; url: string }[] => targets.map(({ name, url }) => ({ name, url: redactUrl(url) }));
  const watch = watchTargetsFile({
    path: targetsFile.path,
    intervalMs: targetsFile.pollIntervalMs,
    initial: options.initial,
    onChange: (targets) => {
      logger.info({ file: targetsFile.path, targets: describe(targets) }, `targets changed: ${String(targets.length)} now`);
      fanOut.setTargets(targets);
    },
    onProblem: (problem, isNew) => {
      fileErrors.inc();
      if (isNew) logger.warn({ file: targetsFile.path, err: problem }, 'the targets file cannot be used; keeping the last good list');
    },
    onRecovered: () => { logger.info({ file: targetsFile.path }, 'the targets file can be read again'); },
  });
  return { fanOut, stopWatching: () => { watch.stop(); } };
}
