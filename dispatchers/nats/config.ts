import { jetStreamNameProblem, natsSubjectProblem } from '../../common/source-names.js';
import type { EnvReader } from '../core/env-reader.js';
import type { TriggerIdentity } from '../core/types.js';

export interface JetStreamConfig {
  readonly stream: string;
  readonly consumer: string;
  readonly deliverPolicy: 'all' | 'new' | 'last';
  readonly ackWaitMs: number;
}

export interface NatsConfig {
  readonly servers: readonly string[];
  readonly subject: string;
  readonly queueGroup: string;
  /** Present when NATS_JETSTREAM_STREAM is set: a durable pull consumer instead of a core subscription. */
  readonly jetstream: JetStreamConfig | undefined;
  readonly token: string | undefined;
  readonly credentials: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly name: string;
}

function servers(reader: EnvReader): string[] {
  const list = reader.list('NATS_URL');
  if (list.length === 0) {
    reader.problems.push('NATS_URL is required (nats://host:4222, comma-separated for a cluster)');
    return [];
  }
  for (const server of list) {
    try {
      const url = new URL(server);
      if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol)) {
        reader.problems.push(`NATS_URL entry ${JSON.stringify(server)} must use nats://, tls://, ws:// or wss://`);
      }
    } catch {
      reader.problems.push(`NATS_URL entry ${JSON.stringify(server)} is not a URL`);
    }
  }
  return list;
}

/** Reads NATS_* (fields.md): NATS_JETSTREAM_STREAM selects JetStream. */
export function parseNatsConfig(reader: EnvReader, trigger: TriggerIdentity): NatsConfig {
  const list = servers(reader);
  const subject = reader.required('NATS_SUBJECT', 'the subject to subscribe to, wildcards allowed');
  const subjectProblem = subject === '' ? undefined : natsSubjectProblem(subject, true);
  if (subjectProblem !== undefined) reader.problems.push(`NATS_SUBJECT: ${subjectProblem}`);
  const stream = reader.string('NATS_JETSTREAM_STREAM');
  let jetstream: JetStreamConfig | undefined;
  if (stream !== undefined) {
    const streamProblem = jetStreamNameProblem(stream, 'stream');
    if (streamProblem !== undefined) reader.problems.push(`NATS_JETSTREAM_STREAM: ${streamProblem}`);
    const consumer = reader.string('NATS_JETSTREAM_CONSUMER', `${trigger.namespace}-${trigger.name}`);
    const consumerProblem = jetStreamNameProblem(consumer, 'consumer');
    if (consumerProblem !== undefined) reader.problems.push(`NATS_JETSTREAM_CONSUMER: ${consumerProblem}`);
    const ackWaitMs = reader.duration('NATS_JETSTREAM_ACK_WAIT', 30_000);
    if (ackWaitMs < 1_000) reader.problems.push('NATS_JETSTREAM_ACK_WAIT must be at least 1s');
    jetstream = {
      stream,
      consumer,
      deliverPolicy: reader.oneOf('NATS_JETSTREAM_DELIVER_POLICY', ['all', 'new', 'last'], 'all'),
      ackWaitMs: Math.max(ackWaitMs, 1_000),
    };
  } else {
    for (const name of ['NATS_JETSTREAM_CONSUMER', 'NATS_JETSTREAM_DELIVER_POLICY', 'NATS_JETSTREAM_ACK_WAIT']) {
      if (reader.string(name) !== undefined) reader.problems.push(`${name} needs NATS_JETSTREAM_STREAM (it only applies to JetStream)`);
    }
  }
  const username = reader.string('NATS_USERNAME');
  const password = reader.string('NATS_PASSWORD');
  if ((username === undefined) !== (password === undefined)) {
    reader.problems.push('NATS_USERNAME and NATS_PASSWORD must be given together');
  }
  return {
    servers: list,
    subject,
    queueGroup: reader.string('NATS_QUEUE_GROUP', `${trigger.namespace}.${trigger.name}`),
    jetstream,
    token: reader.string('NATS_TOKEN'),
    credentials: reader.string('NATS_CREDENTIALS'),
    username,
    password,
    name: `kurier-${trigger.namespace}-${trigger.name}`,
  };
}
