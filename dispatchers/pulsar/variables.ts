import type { VariableDoc } from '../core/variables.js';

/** Every PULSAR_* variable the Pulsar dispatcher reads (docs/pulsar.md). */
export const PULSAR_VARIABLES: readonly VariableDoc[] = [
  { name: 'PULSAR_BROKER', default: 'required', meaning: 'service URL, pulsar://host:6650 or pulsar+ssl://host:6651' },
  { name: 'PULSAR_TOPIC', default: 'required', meaning: 'persistent://tenant/namespace/topic or a short name' },
  { name: 'PULSAR_SUBSCRIPTION', default: '<name>-<namespace>', meaning: 'subscription name (kubeless-pulsar-trigger\'s, so its cursor resumes)' },
  { name: 'PULSAR_SUBSCRIPTION_TYPE', default: 'Shared', meaning: 'Exclusive, Shared, Key_Shared or Failover' },
  { name: 'PULSAR_INITIAL_POSITION', default: 'Latest', meaning: 'where a new subscription starts: Latest or Earliest' },
  { name: 'PULSAR_AUTH_TOKEN', default: 'none', meaning: 'JWT for token authentication' },
  { name: 'PULSAR_TLS_TRUST_CERTS', default: 'system CAs', meaning: 'PEM of trusted CAs' },
  { name: 'PULSAR_TLS_ALLOW_INSECURE_CONNECTION', default: 'false', meaning: 'accept an untrusted broker certificate (testing only)' },
  { name: 'PULSAR_TLS_VALIDATE_HOSTNAME', default: 'false', meaning: 'check the broker certificate\'s host name' },
  { name: 'PULSAR_NACK_REDELIVERY_DELAY', default: '1s', meaning: 'how soon a released message comes back' },
  { name: 'PULSAR_MAX_REDELIVER_COUNT', default: '10', meaning: 'with a dead-letter topic: redeliveries before the client dead-letters a message (0 = off)' },
];

/**
 * Set by render for dispatcher images written against kubeless-pulsar-trigger (both generations);
 * Kurier's own dispatcher does not read them, and does not warn about them either.
 */
export const PULSAR_COMPATIBILITY_VARIABLES: readonly VariableDoc[] = [
  { name: 'PULSAR_TOPIC_TYPE', default: 'persistent', meaning: 'not read: kubeless-pulsar-trigger images before 1.0 (topic type)' },
  { name: 'PULSAR_TOPIC_NAMESPACE', default: 'tenant/namespace', meaning: 'not read: kubeless-pulsar-trigger images before 1.0 (tenant/namespace)' },
  { name: 'PULSAR_TOPIC_NAME', default: 'topic', meaning: 'not read: kubeless-pulsar-trigger images before 1.0 (topic name)' },
];
