import type { VariableDoc } from '../core/variables.js';

/** Every KAFKA_* variable the Kafka dispatcher reads (docs/kafka.md). */
export const KAFKA_VARIABLES: readonly VariableDoc[] = [
  { name: 'KAFKA_BROKERS', default: 'required', meaning: 'bootstrap host:port list, comma-separated' },
  { name: 'KAFKA_TOPIC', default: 'required (or KAFKA_TOPICS)', meaning: 'topic to consume' },
  { name: 'KAFKA_TOPICS', default: 'none', meaning: 'topics to consume, comma-separated (the union with KAFKA_TOPIC)' },
  { name: 'KAFKA_GROUP_ID', default: '<namespace>.<name>', meaning: 'consumer group; every replica joins it' },
  { name: 'KAFKA_FROM_BEGINNING', default: 'false', meaning: 'a group without committed offsets starts at the earliest offset' },
  { name: 'KAFKA_SESSION_TIMEOUT', default: '30s', meaning: 'group session timeout' },
  { name: 'KAFKA_REBALANCE_TIMEOUT', default: '60s', meaning: 'how long the group waits for members to re-join' },
  { name: 'KAFKA_HEARTBEAT_INTERVAL', default: '3s', meaning: 'below the session timeout' },
  { name: 'KAFKA_SASL_MECHANISM', default: 'none', meaning: 'plain, scram-sha-256 or scram-sha-512' },
  { name: 'KAFKA_SASL_USERNAME', default: 'none', meaning: 'SASL user' },
  { name: 'KAFKA_SASL_PASSWORD', default: 'none', meaning: 'SASL password' },
  { name: 'KAFKA_TLS_ENABLED', default: 'false, implied by any KAFKA_TLS_*', meaning: 'TLS to the brokers' },
  { name: 'KAFKA_TLS_CA', default: 'none', meaning: 'PEM of the trusted CA' },
  { name: 'KAFKA_TLS_CERT', default: 'none', meaning: 'PEM client certificate, with KAFKA_TLS_KEY' },
  { name: 'KAFKA_TLS_KEY', default: 'none', meaning: 'PEM client key, with KAFKA_TLS_CERT' },
  { name: 'KAFKA_TLS_INSECURE_SKIP_VERIFY', default: 'false', meaning: 'do not verify the broker certificate (testing only)' },
];
