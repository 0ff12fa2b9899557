import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../dispatchers/core/config.js';
import { EnvReader, type Env } from '../../dispatchers/core/env-reader.js';
import type { Source, TriggerIdentity } from '../../dispatchers/core/types.js';
import { parseKafkaConfig } from '../../dispatchers/kafka/config.js';
import { parseNatsConfig } from '../../dispatchers/nats/config.js';
import { parsePulsarConfig } from '../../dispatchers/pulsar/config.js';
import { parseRabbitMQConfig } from '../../dispatchers/rabbitmq/config.js';
import { loadSchemas, validateTrigger } from '../../render/validate.js';
import { SHIPPED_CRD } from '../../render/shipped-files.js';
import { runKurier } from '../support/run-kurier.js';

const schemas = loadSchemas(SHIPPED_CRD);

type Parse = (reader: EnvReader, trigger: TriggerIdentity) => unknown;

interface Case {
  readonly source: Source;
  readonly kind: string;
  readonly parse: Parse;
  readonly block: (name: string) => Record<string, unknown>;
  readonly env: (name: string) => Env;
  readonly names: readonly string[];
}

const CASES: readonly Case[] = [
  {
    source: 'kafka', kind: 'KafkaTrigger', parse: parseKafkaConfig,
    block: (topic) => ({ brokers: ['kafka:9092'], topic }),
    env: (topic) => ({ KAFKA_BROKERS: 'kafka:9092', KAFKA_TOPIC: topic }),
    names: ['orders', 'bad topic!', 'a/b', '..', 'x'.repeat(250), 'orders.v2_eu-1'],
  },
  {
    source: 'kafka', kind: 'KafkaTrigger', parse: parseKafkaConfig,
    block: (broker) => ({ topic: 'orders', brokers: [broker] }),
    env: (broker) => ({ KAFKA_BROKERS: broker, KAFKA_TOPIC: 'orders' }),
    names: ['kafka-0.kafka:9092', 'no-port', 'kafka://k:9092', 'k:99999', 'k:0', '[::1]:9092', '10.0.0.1:9092'],
  },
  {
    source: 'nats', kind: 'NATSTrigger', parse: parseNatsConfig,
    block: (subject) => ({ url: 'nats://nats:4222', subject }),
    env: (subject) => ({ NATS_URL: 'nats://nats:4222', NATS_SUBJECT: subject }),
    names: ['orders.*', 'a.>.b', 'a..b', 'a.b*', 'orders.>', 'a b'],
  },
  {
    source: 'nats', kind: 'NATSTrigger', parse: parseNatsConfig,
    block: (stream) => ({ url: 'nats://nats:4222', subject: 'a', jetstream: { stream } }),
    env: (stream) => ({ NATS_URL: 'nats://nats:4222', NATS_SUBJECT: 'a', NATS_JETSTREAM_STREAM: stream }),
    names: ['ORDERS', 'ORD.ERS', 'a/b', 'ok-stream_1'],
  },
  {
    source: 'pulsar', kind: 'PulsarTrigger', parse: parsePulsarConfig,
    block: (topic) => ({ broker: 'pulsar://pulsar:6650', topic }),
    env: (topic) => ({ PULSAR_BROKER: 'pulsar://pulsar:6650', PULSAR_TOPIC: topic }),
    names: ['orders', 'persistent://public/default/orders', 'public/default', 'persistent://a b/c/d', 'tenant/ns/t'],
  },
  {
    source: 'rabbitmq', kind: 'RabbitMQTrigger', parse: parseRabbitMQConfig,
    block: (queue) => ({ url: 'amqp://rabbitmq:5672', queue }),
    env: (queue) => ({ RABBITMQ_URL: 'amqp://rabbitmq:5672', RABBITMQ_QUEUE: queue }),
    names: ['emails', 'q'.repeat(256)],
  },
];

function validateRefuses(entry: Case, name: string): boolean {
  const trigger = {
    apiVersion: 'kurier.dev/v1alpha1', kind: entry.kind, metadata: { name: 'names', namespace: 'team' },
    spec: { [entry.source]: entry.block(name), function: { url: 'http://fn.team:8080/' } },
  };
  return validateTrigger(trigger, schemas).some((problem) => problem.severity === 'error');
}

function dispatcherRefuses(entry: Case, name: string): boolean {
  const reader = new EnvReader({ FUNCTION_URL: 'http://127.0.0.1/', ...entry.env(name) });
  entry.parse(reader, parseConfig(reader, entry.source).trigger);
  return reader.problems.length > 0;
}

describe('validate and the dispatcher judge source names alike (one rule each, in common/source-names.ts)', () => {
  for (const entry of CASES) {
    it.each(entry.names)(`${entry.kind} ${Object.keys(entry.block('x')).at(-1) ?? ''} %s`, (name) => {
      expect(dispatcherRefuses(entry, name)).toBe(validateRefuses(entry, name));
    });
  }

  it('refuses both at least once per source (the table is not all-valid)', () => {
    for (const entry of CASES) expect(entry.names.some((name) => validateRefuses(entry, name)), entry.kind).toBe(true);
  });
});

describe('a dispatcher started by hand', () => {
  it.each([
    ['kafka', { KAFKA_BROKERS: '127.0.0.1:9', KAFKA_TOPIC: 'bad topic!' }, 'kurier dispatch kafka: KAFKA_TOPIC: "bad topic!" is not a legal Kafka topic name'],
    ['nats', { NATS_URL: 'nats://127.0.0.1:9', NATS_SUBJECT: 'a.>.b' }, 'kurier dispatch nats: NATS_SUBJECT: "a.>.b" is not a NATS subject: \'>\' must be the last token'],
  ])('%s refuses what validate refuses, exit 1', async (source, env, message) => {
    const result = await runKurier(['dispatch', source], { env: { PATH: process.env['PATH'] ?? '', FUNCTION_URL: 'http://127.0.0.1:9/', ...env } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });
});
