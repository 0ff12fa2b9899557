import type { DestinationStream } from 'pino';
import { parseConfig } from './config.js';
import type { DispatcherConfig } from './config.js';
import { ConfigError, EnvReader } from './env-reader.js';
import type { Env } from './env-reader.js';
import { createFunctionClient } from './http-client.js';
import { createLogger } from '../../common/logger.js';
import { createMetrics, triggerLabels } from './metrics.js';
import { createPipeline } from './pipeline.js';
import type { DispatchPipeline } from './pipeline.js';
import { setUpFanOut } from './fan-out-setup.js';
import type { FanOutSetup } from './fan-out-setup.js';
import { readTargetsFile, TargetsFileError } from './targets-file.js';
import type { Target } from './targets-file.js';
import { redactUrl } from './redact.js';
import { startHealthServer } from '../../common/server.js';
import { createDeliveryTracer } from './tracing.js';
import type { Source, SourceModule } from './types.js';
import { COMMON_VARIABLES, ownedPrefixes, type VariableDoc } from './variables.js';

export interface RuntimeOptions {
  readonly source: Source;
  readonly module: SourceModule<unknown>;
  readonly env: Env;
  /** Subscribes to SIGTERM/SIGINT; returns an unsubscribe function. */
  readonly onSignal: (handler: (signal: string) => void) => () => void;
  /** Where configuration problems go, one line each (stderr). */
  readonly writeError: (line: string) => void;
  readonly logDestination?: DestinationStream;
  /** The source's own variables; a set `<SOURCE>_*`/`DELIVERY_*` variable outside them and the common ones is warned about. */
  readonly variables?: readonly VariableDoc[];
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reads every variable (common and source-specific); reports each problem or returns the configuration. */
export function readConfiguration(
  source: Source,
  module: SourceModule<unknown>,
  env: Env,
  variables: readonly VariableDoc[] = [],
): { config: DispatcherConfig; sourceConfig: unknown; warnings: string[] } {
  const reader = new EnvReader(env);
  const config = parseConfig(reader, source);
  const sourceConfig = module.parseConfig(reader, config.trigger);
  reader.check();
  const known = [...COMMON_VARIABLES, ...variables].map((variable) => variable.name);
  const warnings = variables.length === 0 ? [] : reader.unknownVariables(ownedPrefixes(source), known);
  return { config, sourceConfig, warnings };
}

/**
 * Runs one dispatcher until it is told to stop. Resolves with the exit code: 0 after a clean
 * drain, 1 on a configuration problem, a failed start, or a second signal (exits at once).
 */
export async function runDispatcher(options: RuntimeOptions): Promise<number> {
  const { source, module } = options;
  let configuration: ReturnType<typeof readConfiguration>;
  try {
    configuration = readConfiguration(source, module, options.env, options.variables);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) options.writeError(`kurier dispatch ${source}: ${problem}`);
    return 1;
  }
  const { config, sourceConfig, warnings } = configuration;
  const { trigger, targetsFile } = config;
  let initialTargets: Target[] = [];
  if (targetsFile !== undefined) {
    try {
      initialTargets = await readTargetsFile(targetsFile.path);
    } catch (error) {
      if (!(error instanceof TargetsFileError)) throw error;
      options.writeError(`kurier dispatch ${source}: FUNCTION_TARGETS_FILE ${targetsFile.path}: ${error.problem}`);
      return 1;
    }
  }
  const logger = createLogger({ trigger: `${trigger.namespace}/${trigger.name}`, source }, options.logDestination);
  for (const warning of warnings) logger.warn({}, warning);
  const metrics = createMetrics({ defaultMetrics: true, labels: triggerLabels(trigger), fanOut: targetsFile !== undefined });
  const adapter = module.createAdapter(sourceConfig, { trigger, logger, registry: metrics.registry, delivery: config.delivery });
  const tracer = await createDeliveryTracer(options.env, { source, trigger, logger });
  if (tracer !== undefined) logger.info({}, 'tracing enabled: one span per delivery attempt, exported over OTLP/HTTP');
  // One function: one pipeline. A targets file: one pipeline per target behind a fan-out.
  const fanOutSetup: FanOutSetup | undefined = targetsFile === undefined
    ? undefined
    : setUpFanOut({ source, trigger, delivery: config.delivery, targetsFile, initial: initialTargets, publisher: adapter, metrics, logger, tracer });
  const fanOut = fanOutSetup?.fanOut;
  let pipeline: DispatchPipeline;
  let closeClients: () => void;
  if (fanOutSetup === undefined) {
    const client = createFunctionClient(config.functionUrl, config.delivery.maxInFlight);
    pipeline = createPipeline({ source, trigger, functionUrl: config.functionUrl, delivery: config.delivery, client, publisher: adapter, metrics, logger, tracer });
    closeClients = () => { client.close(); };
  } else {
    pipeline = fanOutSetup.fanOut;
    closeClients = () => {
      fanOutSetup.stopWatching();
      fanOutSetup.fanOut.close();
    };
  }
  const noTargets = (): boolean => fanOut !== undefined && fanOut.targets.length === 0;
  const notReady = (): string =>
    noTargets() ? `not ready: no targets (FUNCTION_TARGETS_FILE ${targetsFile?.path ?? ''} lists none); nothing is consumed until one appears` : 'not ready';

  let signals = 0;
  let requestStop!: () => void;
  let requestExit!: () => void;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  const exitRequested = new Promise<number>((resolve) => (requestExit = () => { resolve(1); }));
  const unsubscribe = options.onSignal((signal) => {
    signals += 1;
    if (signals === 1) {
      logger.info({ signal }, 'shutdown requested: draining');
      requestStop();
    } else {
      logger.warn({ signal }, 'second signal: exiting at once');
      requestExit();
    }
  });

  let started = false;
  let stopping = false;
  let server: Awaited<ReturnType<typeof startHealthServer>>;
  try {
    server = await startHealthServer(
      config.metricsPort,
      () => started && !stopping && !pipeline.draining && adapter.connected() && !noTargets(),
      metrics.registry,
      notReady,
      { check: () => adapter.alive?.() ?? true, failure: 'the source stopped consuming and could not recover' },
    );
  } catch (error) {
    // e.g. EADDRINUSE: one clear line instead of a crash.
    logger.error({ port: config.metricsPort, err: errorText(error) }, `cannot serve /healthz and /metrics on METRICS_PORT ${config.metricsPort}`);
    unsubscribe();
    closeClients();
    return 1;
  }
  logger.info({ port: server.port }, 'health and metrics server listening');

  const run = async (): Promise<number> => {
    if (noTargets()) {
      // Nothing is taken from the source while no function would receive it.
      logger.info({ file: targetsFile?.path }, 'no targets: waiting for the targets file to list one before subscribing');
      await Promise.race([fanOut?.whenTargets(), stopRequested]);
      if (signals > 0) {
        logger.info({}, 'dispatcher stopped before it started');
        return 0;
      }
    }
    try {
      await Promise.race([adapter.start(pipeline), stopRequested]);
    } catch (error) {
      logger.error({ err: errorText(error) }, 'could not start the source');
      await adapter.close().catch(() => undefined);
      return 1;
    }
    if (signals > 0) {
      // Told to stop before the source was even connected: nothing was taken, nothing to drain.
      await adapter.close().catch(() => undefined);
      logger.info({}, 'dispatcher stopped before it started');
      return 0;
    }
    started = true;
    logger.info(
      {
        ...(fanOut === undefined ? { function: redactUrl(config.functionUrl) } : { targets: fanOut.targets.map((target) => target.name) }),
        ordering: config.delivery.ordering,
        maxInFlight: config.delivery.maxInFlight,
      },
      'dispatcher started',
    );
    await stopRequested;
    stopping = true;
    // Deliveries get most of the grace period; closing (acks, commits, connections) gets the rest.
    const closeBudget = Math.min(5_000, config.shutdownGraceMs / 5);
    const drainDeadline = Date.now() + config.shutdownGraceMs - closeBudget;
    // Stop fetching before releasing anything: a message released (nak'd) while the source still
    // pulls would come straight back into this process, where nobody settles it any more.
    try {
      await Promise.race([adapter.pause(), new Promise((resolve) => setTimeout(resolve, closeBudget).unref())]);
    } catch (error) {
      logger.warn({ err: errorText(error) }, 'pausing the source failed');
    }
    await pipeline.drain(Math.max(0, drainDeadline - Date.now()));
    try {
      const closed = await Promise.race([
        adapter.close().then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => { resolve(false); }, closeBudget).unref()),
      ]);
      if (!closed) logger.warn({ budgetMs: closeBudget }, 'closing the source took too long; exiting anyway');
    } catch (error) {
      logger.warn({ err: errorText(error) }, 'closing the source failed');
    }
    logger.info({}, 'dispatcher stopped');
    return 0;
  };

  try {
    return await Promise.race([run(), exitRequested]);
  } finally {
    unsubscribe();
    closeClients();
    await server.close();
    await tracer?.shutdown().catch((error: unknown) => { logger.warn({ err: errorText(error) }, 'flushing spans failed'); });
  }
}
