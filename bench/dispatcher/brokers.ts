/**
 * The brokers as the benchmark uses them: a fresh JetStream stream, RabbitMQ queue or Kafka topic
 * per run, a backlog published up front (confirmed by the broker), paced publishes for latency, and
 * cleanup.
 */
import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { Partitioners } from 'kafkajs';
import type { Producer } from 'kafkajs';
import { connect } from 'nats';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { performance } from 'node:perf_hooks';
import { createTopic, startKafka, testKafka, TEST_PARTITIONS } from '../../test/support/kafka-mock.js';
import type { KafkaTestCluster } from '../../test/support/kafka-mock.js';

export const BROKER_NAMES = ['nats', 'rabbitmq', 'kafka'] as const;
export type BrokerName = (typeof BROKER_NAMES)[number];

/** Where one run's messages live: a stream and its subject, a queue, or a topic. */
export interface Destination {
  readonly broker: BrokerName;
  readonly name: string;
  /** JetStream subject (NATS), queue name (RabbitMQ) or topic (Kafka). */
  readonly address: string;
}

export interface Broker {
  readonly name: BrokerName;
  /** What a consumer connects to: a URL, or Kafka's comma-separated bootstrap list. */
  readonly url: string;
  create(runId: string): Promise<Destination>;
  /** Publishes `count` messages numbered from `from`, waits until the broker confirmed all. */
  publishBacklog(destination: Destination, runId: string, from: number, count: number): Promise<void>;
  /** Publishes one message now; resolves when the broker confirmed it. */
  publishOne(destination: Destination, runId: string, seq: number): Promise<void>;
  remove(destination: Destination): Promise<void>;
  close(): Promise<void>;
}

const PAD = 'x'.repeat(40);

/**
 * `json`: ~90 bytes of JSON, `"run":"<id>","seq":<n>` in it (the default);
 * `text`: a short non-JSON body `run <id> seq <n>` (~25 bytes), what the issue-13 loop used.
 */
export type BodyShape = 'json' | 'text';
let bodyShape: BodyShape = 'json';

export function setBodyShape(shape: BodyShape): void {
  bodyShape = shape;
}

export function body(runId: string, seq: number): Buffer {
  if (bodyShape === 'text') return Buffer.from(`run ${runId} seq ${String(seq)}`);
  return Buffer.from(JSON.stringify({ run: runId, seq, at: 'bench', pad: PAD }));
}

const contentType = (): string => (bodyShape === 'text' ? 'text/plain' : 'application/json');

const WINDOW = 512;

/** Runs `task(i)` for i in [from, from+count) with at most WINDOW outstanding. */
async function windowed(from: number, count: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = from;
  const end = from + count;
  const worker = async (): Promise<void> => {
    while (next < end) {
      const i = next;
      next += 1;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, worker));
}

class NatsBroker implements Broker {
  readonly name = 'nats' as const;
  readonly url: string;
  private readonly nc: NatsConnection;
  private readonly jsm: JetStreamManager;
  private readonly js: JetStreamClient;

  constructor(url: string, nc: NatsConnection, jsm: JetStreamManager) {
    this.url = url;
    this.nc = nc;
    this.jsm = jsm;
    this.js = nc.jetstream();
  }

  async create(runId: string): Promise<Destination> {
    const name = `KURIER_BENCH_${runId.replace(/[^A-Za-z0-9]/g, '_')}`;
    const subject = `kurier-bench.${runId.replace(/[^A-Za-z0-9]/g, '-')}`;
    await this.jsm.streams.add({ name, subjects: [subject] });
    return { broker: 'nats', name, address: subject };
  }

  async publishBacklog(destination: Destination, runId: string, from: number, count: number): Promise<void> {
    await windowed(from, count, (seq) => this.js.publish(destination.address, body(runId, seq)));
  }

  async publishOne(destination: Destination, runId: string, seq: number): Promise<void> {
    await this.js.publish(destination.address, body(runId, seq));
  }

  async remove(destination: Destination): Promise<void> {
    await this.jsm.streams.delete(destination.name).catch(() => false);
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}

class RabbitBroker implements Broker {
  readonly name = 'rabbitmq' as const;
  readonly url: string;
  private readonly connection: ChannelModel;
  private readonly channel: ConfirmChannel;

  constructor(url: string, connection: ChannelModel, channel: ConfirmChannel) {
    this.url = url;
    this.connection = connection;
    this.channel = channel;
  }

  async create(runId: string): Promise<Destination> {
    const name = `kurier-bench.${runId}`;
    // The same arguments the dispatcher declares with (RABBITMQ_DECLARE defaults to true).
    await this.channel.assertQueue(name, { durable: true });
    return { broker: 'rabbitmq', name, address: name };
  }

  async publishBacklog(destination: Destination, runId: string, from: number, count: number): Promise<void> {
    for (let seq = from; seq < from + count; seq += 1) {
      const ok = this.channel.sendToQueue(destination.address, body(runId, seq), { persistent: true, contentType: contentType() });
      if (!ok) await new Promise((resolve) => this.channel.once('drain', resolve));
    }
    await this.channel.waitForConfirms();
  }

  publishOne(destination: Destination, runId: string, seq: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.channel.sendToQueue(destination.address, body(runId, seq), { persistent: true, contentType: contentType() }, (error: unknown) => {
        if (error === null || error === undefined) resolve();
        else reject(new Error(`publish ${seq} refused`));
      });
    });
  }

  async remove(destination: Destination): Promise<void> {
    await this.channel.deleteQueue(destination.address).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.channel.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }
}

/** Partitions of every benchmark topic (the mock creates each topic with this many on first use). */
export const KAFKA_PARTITIONS = TEST_PARTITIONS;
/** Records per produce request of the backlog. */
const KAFKA_PRODUCE_CHUNK = 500;

/**
 * librdkafka's mock cluster, started through `kcat` by the tests' helper (or `KAFKA_BROKERS`): a
 * fresh topic per run, records spread evenly over its partitions, every produce request acked by
 * all in-sync replicas (acks -1). The mock has no CreateTopics and no DeleteTopics: a topic is
 * created by the metadata request of {@link createTopic} and lives until the mock stops.
 */
class KafkaBroker implements Broker {
  readonly name = 'kafka' as const;
  readonly url: string;
  private readonly cluster: KafkaTestCluster;
  private readonly producer: Producer;

  constructor(cluster: KafkaTestCluster, producer: Producer) {
    this.cluster = cluster;
    this.url = cluster.brokers.join(',');
    this.producer = producer;
  }

  async create(runId: string): Promise<Destination> {
    const topic = `kurier-bench.${runId}`;
    await createTopic(this.cluster, topic);
    return { broker: 'kafka', name: topic, address: topic };
  }

  async publishBacklog(destination: Destination, runId: string, from: number, count: number): Promise<void> {
    for (let start = from; start < from + count; start += KAFKA_PRODUCE_CHUNK) {
      const end = Math.min(from + count, start + KAFKA_PRODUCE_CHUNK);
      const messages = Array.from({ length: end - start }, (_, i) => this.record(runId, start + i));
      await this.producer.send({ topic: destination.address, acks: -1, messages });
    }
  }

  async publishOne(destination: Destination, runId: string, seq: number): Promise<void> {
    await this.producer.send({ topic: destination.address, acks: -1, messages: [this.record(runId, seq)] });
  }

  async remove(destination: Destination): Promise<void> {
    if (!this.cluster.real) return;
    const admin = testKafka(this.cluster, 'kurier-bench-publisher').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [destination.address] }).catch(() => undefined);
    await admin.disconnect();
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    await this.cluster.stop();
  }

  private record(runId: string, seq: number): { value: Buffer; partition: number } {
    return { value: body(runId, seq), partition: seq % KAFKA_PARTITIONS };
  }
}

async function openKafka(): Promise<Broker> {
  const cluster = await startKafka();
  try {
    for (const address of cluster.brokers) {
      const host = address.slice(0, address.lastIndexOf(':'));
      if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`the benchmark only talks to 127.0.0.1, not KAFKA_BROKERS entry ${address}`);
    }
    const producer = testKafka(cluster, 'kurier-bench-publisher').producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const what = cluster.real ? 'the cluster at KAFKA_BROKERS' : "librdkafka's mock cluster (not Apache Kafka)";
    process.stderr.write(`kafka: ${what} at ${cluster.brokers.join(',')}, ${String(KAFKA_PARTITIONS)} partitions per topic\n`);
    return new KafkaBroker(cluster, producer);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/**
 * Connects to the broker at `url`; Kafka ignores it and starts the mock cluster (or uses
 * `KAFKA_BROKERS`). Rejects with a clear line when the broker (or `kcat`) is not there.
 */
export async function openBroker(name: BrokerName, url: string): Promise<Broker> {
  if (name === 'kafka') return openKafka();
  if (name === 'nats') {
    const nc = await connect({ servers: url, name: 'kurier-bench-publisher', timeout: 3_000 });
    return new NatsBroker(url, nc, await nc.jetstreamManager());
  }
  const connection = await amqp.connect(url, { clientProperties: { connection_name: 'kurier-bench-publisher' } });
  return new RabbitBroker(url, connection, await connection.createConfirmChannel());
}

/** Publishes `count` messages paced `intervalMs` apart, recording each publish time. */
export async function publishPaced(
  broker: Broker,
  destination: Destination,
  runId: string,
  from: number,
  count: number,
  intervalMs: number,
  onPublished: (seq: number, at: number) => void,
): Promise<void> {
  const sends: Promise<void>[] = [];
  for (let seq = from; seq < from + count; seq += 1) {
    onPublished(seq, performance.now());
    sends.push(broker.publishOne(destination, runId, seq));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  await Promise.all(sends);
}
