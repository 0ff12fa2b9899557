import type { VariableDoc } from '../core/variables.js';

/** Every RABBITMQ_* variable the RabbitMQ dispatcher reads (docs/dispatchers.md). */
export const RABBITMQ_VARIABLES: readonly VariableDoc[] = [
  { name: 'RABBITMQ_URL', default: 'required', meaning: 'amqp:// or amqps:// URL with vhost' },
  { name: 'RABBITMQ_USERNAME', default: 'from the URL', meaning: 'overrides the URL\'s user' },
  { name: 'RABBITMQ_PASSWORD', default: 'from the URL', meaning: 'overrides the URL\'s password' },
  { name: 'RABBITMQ_QUEUE', default: 'required', meaning: 'the queue to consume' },
  { name: 'RABBITMQ_DECLARE', default: 'true', meaning: 'declare the queue (durable), the exchange and dead-letter/reply queues' },
  { name: 'RABBITMQ_EXCHANGE', default: 'none', meaning: 'bind the queue to this exchange' },
  { name: 'RABBITMQ_EXCHANGE_TYPE', default: 'topic', meaning: 'direct, topic, fanout or headers' },
  { name: 'RABBITMQ_ROUTING_KEY', default: '#', meaning: 'binding key' },
  { name: 'RABBITMQ_PREFETCH', default: 'DELIVERY_MAX_IN_FLIGHT', meaning: 'unacknowledged messages the broker hands this replica' },
];
