import type { VariableDoc } from '../core/variables.js';

/** Every NATS_* variable the NATS dispatcher reads (docs/dispatchers.md). */
export const NATS_VARIABLES: readonly VariableDoc[] = [
  { name: 'NATS_URL', default: 'required', meaning: 'nats://host:4222, comma-separated for a cluster (tls://, ws://, wss:// too)' },
  { name: 'NATS_SUBJECT', default: 'required', meaning: 'subject to consume, wildcards allowed' },
  { name: 'NATS_QUEUE_GROUP', default: '<namespace>.<name>', meaning: 'core NATS only: replicas in one queue group share the messages' },
  { name: 'NATS_JETSTREAM_STREAM', default: 'none', meaning: 'set it to use JetStream (at-least-once); unset = core NATS (at-most-once)' },
  { name: 'NATS_JETSTREAM_CONSUMER', default: '<namespace>-<name>', meaning: 'durable consumer name' },
  { name: 'NATS_JETSTREAM_DELIVER_POLICY', default: 'all', meaning: 'all, new or last; used when the consumer is created' },
  { name: 'NATS_JETSTREAM_ACK_WAIT', default: '30s', meaning: 'the consumer\'s ack wait (at least 1s)' },
  { name: 'NATS_TOKEN', default: 'none', meaning: 'token authentication' },
  { name: 'NATS_CREDENTIALS', default: 'none', meaning: 'contents of a .creds file' },
  { name: 'NATS_USERNAME', default: 'none', meaning: 'user authentication, with NATS_PASSWORD' },
  { name: 'NATS_PASSWORD', default: 'none', meaning: 'user authentication, with NATS_USERNAME' },
];
