/**
 * How each source names what a trigger consumes: one rule per source, used by `kurier validate`
 * (render/validate.ts) and by the dispatchers, so a name one refuses the other refuses too.
 * Each check returns what is wrong, or undefined.
 */

const show = (value: string): string => JSON.stringify(value);

const KAFKA_BROKER = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[A-Za-z0-9]):(\d{1,5})$/;

/** A Kafka bootstrap address: `host:port` (host name, IPv4 or [IPv6]) with a port in 1–65535, no scheme. */
export function kafkaBrokerProblem(broker: string): string | undefined {
  if (broker.includes('://')) return `write brokers as host:port, without a scheme (got ${show(broker)})`;
  const port = Number(KAFKA_BROKER.exec(broker)?.[3] ?? Number.NaN);
  if (!(port >= 1 && port <= 65535)) return `must be host:port, e.g. kafka-0.kafka:9092 (got ${show(broker)})`;
  return undefined;
}

const KAFKA_TOPIC = /^[a-zA-Z0-9._-]+$/;

/** Kafka's own rule: 1–249 of letters, digits, '.', '_' and '-', not '.' or '..'. */
export function kafkaTopicProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.length > 249) return `Kafka topic names are at most 249 characters (got ${name.length})`;
  if (name === '.' || name === '..') return `${show(name)} is not a legal Kafka topic name`;
  if (!KAFKA_TOPIC.test(name)) return `${show(name)} is not a legal Kafka topic name: only letters, digits, '.', '_' and '-'`;
  return undefined;
}

/** A NATS subject: tokens separated by '.', no whitespace; `*` and `>` only as whole tokens (and only when `wildcards`), `>` last. */
export function natsSubjectProblem(subject: string, wildcards: boolean): string | undefined {
  if (/\s/.test(subject)) return `${show(subject)} is not a NATS subject: it contains whitespace`;
  const tokens = subject.split('.');
  if (tokens.some((token) => token === '')) return `${show(subject)} is not a NATS subject: it has an empty token (a leading, trailing or double '.')`;
  for (const [index, token] of tokens.entries()) {
    const wild = token === '*' || token === '>';
    if (wild && !wildcards) return `${show(subject)} is not a subject one can publish to: no wildcards ('*', '>')`;
    if (!wild && (token.includes('*') || token.includes('>'))) return `${show(subject)} is not a NATS subject: wildcards '*' and '>' must be whole tokens`;
    if (token === '>' && index !== tokens.length - 1) return `${show(subject)} is not a NATS subject: '>' must be the last token`;
  }
  return undefined;
}

const NATS_NAME = /^[^.*>\s/\\]+$/;

/** A JetStream stream or consumer name (`what` says which): no whitespace, '.', '*', '>', '/' or '\'. */
export function jetStreamNameProblem(name: string, what: 'stream' | 'consumer'): string | undefined {
  if (name === '' || NATS_NAME.test(name)) return undefined;
  return `${show(name)} is not a valid JetStream ${what} name: no whitespace, '.', '*', '>', '/' or '\\'`;
}

/** RabbitMQ's limit on queue names. */
export function rabbitQueueProblem(name: string): string | undefined {
  if (Buffer.byteLength(name, 'utf8') > 255) return 'RabbitMQ queue names are at most 255 bytes';
  return undefined;
}

const PULSAR_FULL = /^(persistent|non-persistent):\/\/([^/\s]+)\/([^/\s]+)\/([^/\s]+)$/;
/** A Pulsar tenant, namespace or topic name (one path segment). */
export const PULSAR_NAME = /^[-=:.\w]+$/;

/** A Pulsar topic: `persistent://tenant/namespace/topic`, `non-persistent://…`, `tenant/namespace/topic` or a short name. */
export function pulsarTopicProblem(name: string): string | undefined {
  const expected = 'write persistent://TENANT/NAMESPACE/TOPIC, non-persistent://TENANT/NAMESPACE/TOPIC, TENANT/NAMESPACE/TOPIC or a short name (expanded to persistent://public/default/NAME)';
  const full = name.includes('://') ? PULSAR_FULL.exec(name) : PULSAR_FULL.exec(`persistent://${name}`);
  if (name.includes('/') || name.includes('://')) {
    if (full === null) return `${show(name)} is not a Pulsar topic: ${expected}`;
    const [, , tenant = '', namespace = ''] = full;
    if (!PULSAR_NAME.test(tenant)) return `${show(tenant)} is not a valid Pulsar tenant name`;
    if (!PULSAR_NAME.test(namespace)) return `${show(namespace)} is not a valid Pulsar namespace name`;
    return undefined;
  }
  if (/\s/.test(name) || name === '') return `${show(name)} is not a Pulsar topic: ${expected}`;
  return undefined;
}
