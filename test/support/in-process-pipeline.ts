/** A source adapter wired to the real core pipeline inside the test process (no child process). */
import type { DispatcherConfig } from '../../dispatchers/core/config.js';
import { silentLogger } from '../../common/logger.js';
import { createFunctionClient } from '../../dispatchers/core/http-client.js';
import type { FunctionClient } from '../../dispatchers/core/http-client.js';
import type { DispatcherMetrics } from '../../dispatchers/core/metrics.js';
import { createPipeline } from '../../dispatchers/core/pipeline.js';
import type { DispatchPipeline } from '../../dispatchers/core/pipeline.js';
import type { Logger, Source, SourceAdapter } from '../../dispatchers/core/types.js';

export interface WiredPipeline {
  readonly pipeline: DispatchPipeline;
  readonly client: FunctionClient;
  /** The SIGTERM path, in the runtime's order: pause the adapter, drain, close it and the HTTP client. */
  readonly stop: (graceMs?: number) => Promise<void>;
}

/** Builds the pipeline the runtime would build for `adapter`; the caller starts the adapter. */
export function wirePipeline(source: Source, common: DispatcherConfig, adapter: SourceAdapter, metrics: DispatcherMetrics, logger: Logger = silentLogger): WiredPipeline {
  const client = createFunctionClient(common.functionUrl, common.delivery.maxInFlight);
  const pipeline = createPipeline({
    source,
    trigger: common.trigger,
    functionUrl: common.functionUrl,
    delivery: common.delivery,
    client,
    publisher: adapter,
    metrics,
    logger,
  });
  return {
    pipeline,
    client,
    stop: async (graceMs = 5_000) => {
      await adapter.pause();
      await pipeline.drain(graceMs);
      await adapter.close();
      client.close();
    },
  };
}
