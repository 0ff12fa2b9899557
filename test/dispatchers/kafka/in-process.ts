/** The Kafka adapter wired to the real core pipeline in the test process (no child process). */
import { parseConfig } from '../../../dispatchers/core/config.js';
import { EnvReader } from '../../../dispatchers/core/env-reader.js';
import { createMetrics } from '../../../dispatchers/core/metrics.js';
import type { DispatcherMetrics } from '../../../dispatchers/core/metrics.js';
import type { DispatchPipeline } from '../../../dispatchers/core/pipeline.js';
import type { Logger } from '../../../dispatchers/core/types.js';
import { KafkaAdapter } from '../../../dispatchers/kafka/adapter.js';
import type { KafkaAdapterDependencies } from '../../../dispatchers/kafka/adapter.js';
import { parseKafkaConfig } from '../../../dispatchers/kafka/config.js';
import type { KafkaConfig } from '../../../dispatchers/kafka/config.js';
import { silentLogger } from '../../../common/logger.js';
import { wirePipeline } from '../../support/in-process-pipeline.js';
import type { KafkaTestCluster } from '../../support/kafka-mock.js';

/**
 * Group timeouts short enough for the mock cluster (see TESTING.md): its rebalances take about the
 * session timeout minus a heartbeat or so (3 s → ~2.5 s, 6 s → ~5 s).
 */
export const FAST_GROUP_ENV = {
  KAFKA_SESSION_TIMEOUT: '3s',
  KAFKA_REBALANCE_TIMEOUT: '3s',
  KAFKA_HEARTBEAT_INTERVAL: '500ms',
} as const;

export interface InProcessDispatcher {
  readonly adapter: KafkaAdapter;
  readonly pipeline: DispatchPipeline;
  readonly metrics: DispatcherMetrics;
  readonly config: KafkaConfig;
  /** The SIGTERM path: drain, pause, close (commit, leave the group). */
  stop(graceMs?: number): Promise<void>;
}

export function kafkaEnv(cluster: KafkaTestCluster, topic: string, groupId: string, functionUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TRIGGER_KIND: 'KafkaTrigger',
    TRIGGER_NAME: 'orders',
    TRIGGER_NAMESPACE: 'shop',
    FUNCTION_URL: functionUrl,
    KAFKA_BROKERS: cluster.brokers.join(','),
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: groupId,
    KAFKA_FROM_BEGINNING: 'true',
    DELIVERY_RETRY_INITIAL_DELAY: '20ms',
    DELIVERY_RETRY_MAX_DELAY: '200ms',
    DELIVERY_TIMEOUT: '5s',
    ...FAST_GROUP_ENV,
    ...extra,
  };
}

export async function startInProcess(env: Record<string, string>, logger: Logger = silentLogger, dependencies: KafkaAdapterDependencies = {}): Promise<InProcessDispatcher> {
  const reader = new EnvReader(env);
  const common = parseConfig(reader, 'kafka');
  const config = parseKafkaConfig(reader, common.trigger);
  reader.check();
  const metrics = createMetrics();
  const adapter = new KafkaAdapter(config, { trigger: common.trigger, logger, registry: metrics.registry, delivery: common.delivery }, dependencies);
  const { pipeline, stop } = wirePipeline('kafka', common, adapter, metrics, logger);
  await adapter.start(pipeline);
  return { adapter, pipeline, metrics, config, stop };
}
