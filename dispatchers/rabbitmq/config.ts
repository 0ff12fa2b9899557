import { rabbitQueueProblem } from '../../common/source-names.js';
import type { EnvReader } from '../core/env-reader.js';
import type { TriggerIdentity } from '../core/types.js';

export const EXCHANGE_TYPES = ['direct', 'topic', 'fanout', 'headers'] as const;
export type ExchangeType = (typeof EXCHANGE_TYPES)[number];

export interface RabbitMQConfig {
  /** The URL with RABBITMQ_USERNAME/RABBITMQ_PASSWORD applied. */
  readonly url: string;
  readonly queue: string;
  readonly declare: boolean;
  readonly exchange: string | undefined;
  readonly exchangeType: ExchangeType;
  readonly routingKey: string;
  /** undefined = DELIVERY_MAX_IN_FLIGHT. */
  readonly prefetch: number | undefined;
  /** Shown in the broker's connection list (and used by tests to find the connection). */
  readonly connectionName: string;
}

function withCredentials(raw: string, username: string | undefined, password: string | undefined): string {
  if (username === undefined && password === undefined) return raw;
  try {
    const url = new URL(raw);
    if (username !== undefined) url.username = encodeURIComponent(username);
    if (password !== undefined) url.password = encodeURIComponent(password);
    return url.toString();
  } catch {
    return raw;
  }
}

/** Reads RABBITMQ_* (fields.md). */
export function parseRabbitMQConfig(reader: EnvReader, trigger: TriggerIdentity): RabbitMQConfig {
  let url = '';
  if (reader.string('RABBITMQ_URL') === undefined) {
    reader.problems.push('RABBITMQ_URL is required (amqp://host:5672/vhost or amqps://…)');
  } else {
    url = reader.url('RABBITMQ_URL', ['amqp', 'amqps']) ?? '';
  }
  const queue = reader.required('RABBITMQ_QUEUE', 'the queue to consume');
  const queueProblem = rabbitQueueProblem(queue);
  if (queueProblem !== undefined) reader.problems.push(`RABBITMQ_QUEUE: ${queueProblem}`);
  const exchange = reader.string('RABBITMQ_EXCHANGE');
  const exchangeType = reader.oneOf('RABBITMQ_EXCHANGE_TYPE', EXCHANGE_TYPES, 'topic');
  const routingKey = reader.string('RABBITMQ_ROUTING_KEY', '#');
  if (exchange === undefined) {
    for (const name of ['RABBITMQ_EXCHANGE_TYPE', 'RABBITMQ_ROUTING_KEY']) {
      if (reader.string(name) !== undefined) reader.problems.push(`${name} needs RABBITMQ_EXCHANGE (it configures the binding)`);
    }
  }
  const prefetch = reader.string('RABBITMQ_PREFETCH') === undefined ? undefined : reader.integer('RABBITMQ_PREFETCH', 1, { min: 1, max: 65_535 });
  return {
    url: withCredentials(url, reader.string('RABBITMQ_USERNAME'), reader.string('RABBITMQ_PASSWORD')),
    queue,
    declare: reader.boolean('RABBITMQ_DECLARE', true),
    exchange,
    exchangeType,
    routingKey,
    prefetch,
    connectionName: `kurier-${trigger.namespace}-${trigger.name}`,
  };
}
