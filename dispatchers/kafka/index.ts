import type { SourceModule } from '../core/types.js';
import { Source } from '../core/types.js';
import { KafkaAdapter } from './adapter.js';
import { parseKafkaConfig } from './config.js';
import type { KafkaConfig } from './config.js';

/** `kurier dispatch kafka`: a kafkajs consumer-group member (see docs/kafka.md). */
export const sourceModule: SourceModule<KafkaConfig> = {
  source: Source.Kafka,
  parseConfig: parseKafkaConfig,
  createAdapter: (config, context) => new KafkaAdapter(config, context),
};
