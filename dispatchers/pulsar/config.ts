import { pulsarTopicProblem } from '../../common/source-names.js';
import type { EnvReader } from '../core/env-reader.js';
import type { TriggerIdentity } from '../core/types.js';
import type { PulsarInitialPosition, PulsarSubscriptionType } from './client-api.js';

/** The trigger's subscription type names (Pulsar's own spelling). */
export const SubscriptionTypes = ['Exclusive', 'Shared', 'Key_Shared', 'Failover'] as const;
export type SubscriptionType = (typeof SubscriptionTypes)[number];

/** The trigger says `Key_Shared` (as Pulsar does); the Node client only knows `KeyShared` and silently subscribes Exclusive on anything else. */
const CLIENT_SUBSCRIPTION_TYPE: Readonly<Record<SubscriptionType, PulsarSubscriptionType>> = {
  Exclusive: 'Exclusive',
  Shared: 'Shared',
  Key_Shared: 'KeyShared',
  Failover: 'Failover',
};

export interface PulsarConfig {
  readonly serviceUrl: string;
  /** Full topic name, `persistent://tenant/namespace/topic`. */
  readonly topic: string;
  readonly subscription: string;
  readonly subscriptionType: SubscriptionType;
  /** The same, in the client's spelling. */
  readonly clientSubscriptionType: PulsarSubscriptionType;
  readonly initialPosition: PulsarInitialPosition;
  readonly authToken?: string | undefined;
  readonly tls: {
    /** PEM of the trusted CA(s); the client wants a file, written at start. */
    readonly trustCerts?: string | undefined;
    readonly allowInsecureConnection: boolean;
    readonly validateHostname: boolean;
  };
  /** Messages the client prefetches for this consumer: `DELIVERY_MAX_IN_FLIGHT`, so a replica holds no more than it works on. */
  readonly receiverQueueSize: number;
  /** How soon a released (negatively acknowledged) message comes back. */
  readonly nackRedeliveryMs: number;
  /**
   * The client's own dead-letter policy, set when a dead-letter topic is configured: a message
   * redelivered more than this many times (e.g. one that keeps crashing the dispatcher) goes
   * there without another attempt. 0 turns it off.
   */
  readonly maxRedeliverCount: number;
  readonly deadLetterTopic?: string | undefined;
}

/** `t` → `persistent://public/default/t`, as Pulsar itself expands short topic names. */
export function fullTopicName(topic: string): string {
  if (/^(non-)?persistent:\/\//.test(topic)) return topic;
  const parts = topic.split('/');
  if (parts.length === 3) return `persistent://${topic}`;
  return `persistent://public/default/${topic}`;
}

/**
 * Reads `PULSAR_*` (see docs/pulsar.md), accepting the names kubeless-pulsar-trigger images were
 * given (`PULSAR_BROKER`, `PULSAR_TOPIC`, `PULSAR_AUTH_TOKEN`; `KUBELESS_FUNCTION` is read by the core).
 */
export function parsePulsarConfig(reader: EnvReader, trigger: TriggerIdentity): PulsarConfig {
  const serviceUrl = reader.required('PULSAR_BROKER', 'the broker URL, pulsar:// or pulsar+ssl://');
  // Not `new URL`: a service URL may list several hosts (pulsar://a:6650,b:6650).
  if (serviceUrl !== '' && !/^pulsar(\+ssl)?:\/\/[^\s/,]+(,[^\s/,]+)*\/?$/.test(serviceUrl)) {
    reader.problems.push(`PULSAR_BROKER=${JSON.stringify(serviceUrl)} must be pulsar://host:port or pulsar+ssl://host:port (several hosts comma-separated)`);
  }
  const topic = reader.required('PULSAR_TOPIC', 'the topic, e.g. persistent://public/default/orders');
  const topicProblem = topic === '' ? undefined : pulsarTopicProblem(topic);
  if (topicProblem !== undefined) reader.problems.push(`PULSAR_TOPIC: ${topicProblem}`);
  const raw = reader.string('PULSAR_SUBSCRIPTION_TYPE');
  const subscriptionType = raw?.toLowerCase() === 'keyshared' ? 'Key_Shared' : reader.oneOf('PULSAR_SUBSCRIPTION_TYPE', SubscriptionTypes, 'Shared');
  const maxInFlight = Number(reader.string('DELIVERY_MAX_IN_FLIGHT', '1'));
  const maxRedeliverCount = reader.integer('PULSAR_MAX_REDELIVER_COUNT', 10, { min: 0, max: 1_000_000 });
  return Object.freeze({
    serviceUrl,
    topic: topic === '' ? '' : fullTopicName(topic),
    subscription: reader.string('PULSAR_SUBSCRIPTION', `${trigger.name}-${trigger.namespace}`),
    subscriptionType,
    clientSubscriptionType: CLIENT_SUBSCRIPTION_TYPE[subscriptionType],
    initialPosition: reader.oneOf('PULSAR_INITIAL_POSITION', ['Latest', 'Earliest'] as const, 'Latest'),
    authToken: reader.string('PULSAR_AUTH_TOKEN'),
    tls: {
      trustCerts: reader.string('PULSAR_TLS_TRUST_CERTS'),
      allowInsecureConnection: reader.boolean('PULSAR_TLS_ALLOW_INSECURE_CONNECTION', false),
      validateHostname: reader.boolean('PULSAR_TLS_VALIDATE_HOSTNAME', false),
    },
    receiverQueueSize: Number.isInteger(maxInFlight) && maxInFlight >= 1 ? maxInFlight : 1,
    nackRedeliveryMs: reader.duration('PULSAR_NACK_REDELIVERY_DELAY', 1_000),
    maxRedeliverCount,
    deadLetterTopic: reader.string('DELIVERY_DEAD_LETTER_TOPIC'),
  });
}
