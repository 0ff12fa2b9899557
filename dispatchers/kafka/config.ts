import { kafkaBrokerProblem, kafkaTopicProblem } from '../../common/source-names.js';
import type { EnvReader } from '../core/env-reader.js';
import type { TriggerIdentity } from '../core/types.js';

export const SaslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SaslMechanisms)[number];

export const OrderingModes = ['ordered', 'key', 'unordered'] as const;
export type OrderingMode = (typeof OrderingModes)[number];

export interface KafkaTls {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly rejectUnauthorized: boolean;
}

/** Everything the Kafka dispatcher reads from its environment, validated. */
export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly topics: readonly string[];
  readonly groupId: string;
  readonly clientId: string;
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string } | undefined;
  readonly tls?: KafkaTls | undefined;
  /**
   * Messages admitted per partition and not yet settled before the partition is paused:
   * 1 in `ordered` mode, `DELIVERY_MAX_IN_FLIGHT` otherwise.
   */
  readonly partitionWindow: number;
  /**
   * Records a partition may hold past its oldest unsettled record (settled or not) before it is
   * paused: bounds the offset ledger while one record retries for long, and so the records a
   * restart reads again.
   */
  readonly maxUncommitted: number;
  /** How long a fetched batch waits for its partition's window before the partition is paused. */
  readonly windowWaitMs: number;
  /** Longest wait of a broker fetch with no data; also how soon a resumed partition is fetched again. */
  readonly fetchMaxWaitMs: number;
  /** Settled offsets are committed at most this often (and always on revoke and shutdown). */
  readonly commitIntervalMs: number;
}

/** Kafka's default session, rebalance and heartbeat timeouts (those of kafkajs). */
export const KAFKA_DEFAULTS = {
  sessionTimeoutMs: 30_000,
  rebalanceTimeoutMs: 60_000,
  heartbeatIntervalMs: 3_000,
  fetchMaxWaitMs: 500,
  commitIntervalMs: 200,
  maxUncommitted: 1_000,
} as const;

/**
 * Reads `KAFKA_*` (see docs/kafka.md). The delivery variables are the core's; only the ordering
 * mode and `maxInFlight` are read here, leniently, to size the per-partition window (the core
 * reports them when they are bad).
 */
export function parseKafkaConfig(reader: EnvReader, trigger: TriggerIdentity): KafkaConfig {
  const brokers = reader.list('KAFKA_BROKERS');
  if (brokers.length === 0) reader.problems.push('KAFKA_BROKERS is required (comma-separated host:port list)');
  for (const broker of brokers) {
    if (kafkaBrokerProblem(broker) !== undefined) reader.problems.push(`KAFKA_BROKERS entry ${JSON.stringify(broker)} is not host:port`);
  }
  const topics = [...new Set([...reader.list('KAFKA_TOPIC'), ...reader.list('KAFKA_TOPICS')])];
  if (topics.length === 0) reader.problems.push('KAFKA_TOPIC or KAFKA_TOPICS is required (the topic(s) to consume)');
  for (const topic of topics) {
    const problem = kafkaTopicProblem(topic);
    if (problem !== undefined) reader.problems.push(`KAFKA_TOPIC${reader.list('KAFKA_TOPIC').includes(topic) ? '' : 'S'}: ${problem}`);
  }

  const sessionTimeoutMs = reader.duration('KAFKA_SESSION_TIMEOUT', KAFKA_DEFAULTS.sessionTimeoutMs);
  const rebalanceTimeoutMs = reader.duration('KAFKA_REBALANCE_TIMEOUT', KAFKA_DEFAULTS.rebalanceTimeoutMs);
  const heartbeatIntervalMs = reader.duration('KAFKA_HEARTBEAT_INTERVAL', KAFKA_DEFAULTS.heartbeatIntervalMs);
  if (heartbeatIntervalMs <= 0 || heartbeatIntervalMs >= sessionTimeoutMs) {
    reader.problems.push(
      `KAFKA_HEARTBEAT_INTERVAL (${heartbeatIntervalMs}ms) must be above 0 and below KAFKA_SESSION_TIMEOUT (${sessionTimeoutMs}ms)`,
    );
  }

  const ordering = lenientOrdering(reader.string('DELIVERY_ORDERING'));
  const maxInFlight = lenientPositive(reader.string('DELIVERY_MAX_IN_FLIGHT'), 1);

  return Object.freeze({
    brokers,
    topics,
    groupId: reader.string('KAFKA_GROUP_ID', `${trigger.namespace}.${trigger.name}`),
    clientId: `kurier-${trigger.namespace}-${trigger.name}`,
    fromBeginning: reader.boolean('KAFKA_FROM_BEGINNING', false),
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    heartbeatIntervalMs,
    sasl: parseSasl(reader),
    tls: parseTls(reader),
    partitionWindow: ordering === 'ordered' ? 1 : maxInFlight,
    maxUncommitted: KAFKA_DEFAULTS.maxUncommitted,
    windowWaitMs: Math.min(heartbeatIntervalMs, 1_000),
    fetchMaxWaitMs: KAFKA_DEFAULTS.fetchMaxWaitMs,
    commitIntervalMs: KAFKA_DEFAULTS.commitIntervalMs,
  });
}

function lenientOrdering(value: string | undefined): OrderingMode {
  return OrderingModes.find((mode) => mode === value?.toLowerCase()) ?? 'ordered';
}

function lenientPositive(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && Number.isInteger(parsed) && parsed >= 1 ? parsed : fallback;
}

function parseSasl(reader: EnvReader): KafkaConfig['sasl'] {
  const raw = reader.string('KAFKA_SASL_MECHANISM');
  const username = reader.string('KAFKA_SASL_USERNAME');
  const password = reader.string('KAFKA_SASL_PASSWORD');
  if (raw === undefined) {
    if (username !== undefined || password !== undefined) {
      reader.problems.push('KAFKA_SASL_MECHANISM is required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set');
    }
    return undefined;
  }
  const mechanism = reader.oneOf('KAFKA_SASL_MECHANISM', SaslMechanisms, 'plain');
  const user = reader.required('KAFKA_SASL_USERNAME', `the SASL user for ${raw}`);
  const secret = reader.required('KAFKA_SASL_PASSWORD', `the SASL password for ${raw}`);
  return { mechanism, username: user, password: secret };
}

function parseTls(reader: EnvReader): KafkaTls | undefined {
  const ca = reader.string('KAFKA_TLS_CA');
  const cert = reader.string('KAFKA_TLS_CERT');
  const key = reader.string('KAFKA_TLS_KEY');
  const insecure = reader.boolean('KAFKA_TLS_INSECURE_SKIP_VERIFY', false);
  const anyMaterial = ca !== undefined || cert !== undefined || key !== undefined;
  const enabled = reader.boolean('KAFKA_TLS_ENABLED', anyMaterial || insecure);
  if ((cert === undefined) !== (key === undefined)) {
    reader.problems.push('KAFKA_TLS_CERT and KAFKA_TLS_KEY must be given together (client certificate and its key)');
  }
  for (const [name, value] of [['KAFKA_TLS_CA', ca], ['KAFKA_TLS_CERT', cert], ['KAFKA_TLS_KEY', key]] as const) {
    if (value !== undefined && !value.includes('-----BEGIN')) reader.problems.push(`${name} is not PEM (expected -----BEGIN …)`);
  }
  if (!enabled) {
    if (anyMaterial) reader.problems.push('KAFKA_TLS_ENABLED=false contradicts KAFKA_TLS_CA/CERT/KEY being set');
    return undefined;
  }
  return { ca, cert, key, rejectUnauthorized: !insecure };
}
