/**
 * A Kafka cluster for tests: librdkafka's mock cluster, started through Debian's `kcat`
 * (a real implementation of the Kafka wire protocol, not Apache Kafka), or a real cluster when
 * `KAFKA_BROKERS=host:port[,host:port]` is set.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { ignoreKafkaJsNegativeTimeoutWarning } from '../../dispatchers/kafka/quiet-kafkajs.js';
import { useSuiteFixture } from './suite-fixture.js';

export interface KafkaTestCluster {
  readonly brokers: readonly string[];
  /** True when `KAFKA_BROKERS` points at a real cluster. */
  readonly real: boolean;
  stop(): Promise<void>;
}

/** What the suite runs against, for describe names. */
export const kafkaTarget: string =
  process.env.KAFKA_BROKERS !== undefined && process.env.KAFKA_BROKERS !== ''
    ? `Kafka at KAFKA_BROKERS=${process.env.KAFKA_BROKERS}`
    : 'librdkafka mock cluster, not Apache Kafka';

const MOCK_LINE = /replaced with ((?:[\w.-]+:\d+,?)+)/;

/** Starts the mock cluster (or uses `KAFKA_BROKERS`); resolves with its bootstrap addresses. */
export async function startKafka(options: { brokers?: number; timeoutMs?: number } = {}): Promise<KafkaTestCluster> {
  const configured = process.env.KAFKA_BROKERS;
  if (configured !== undefined && configured !== '') {
    return { brokers: configured.split(',').map((broker) => broker.trim()), real: true, stop: () => Promise.resolve() };
  }
  const child = spawn(
    'kcat',
    ['-X', `test.mock.num.brokers=${String(options.brokers ?? 1)}`, '-b', 'unused:9092', '-C', '-t', `keepalive-${randomBytes(4).toString('hex')}`, '-o', 'end'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const brokers = await new Promise<string[]>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat did not report a mock cluster within ${String(options.timeoutMs ?? 10_000)}ms: ${stderr}`));
    }, options.timeoutMs ?? 10_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start kcat (apt-get install -y kcat): ${error.message}`, { cause: error }));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kcat exited (${String(code)}) before reporting a mock cluster: ${stderr}`));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = MOCK_LINE.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1].split(',').filter((broker) => broker !== ''));
      }
    });
  });
  child.removeAllListeners('exit');
  child.stderr.removeAllListeners('data').resume();
  return { brokers, real: false, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A unique name for a test's topic or group. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A quiet kafkajs client for test producers and admin calls. */
export function testKafka(cluster: KafkaTestCluster, clientId = 'kurier-test'): Kafka {
  // The same kafkajs start-up warning the dispatcher drops (see dispatchers/kafka/quiet-kafkajs.ts).
  ignoreKafkaJsNegativeTimeoutWarning();
  return new Kafka({ clientId, brokers: [...cluster.brokers], logLevel: logLevel.NOTHING });
}

/** A cluster and a test client for the calling file, started in `beforeAll` and stopped in `afterAll`. */
export interface KafkaFixture {
  readonly cluster: KafkaTestCluster;
  readonly kafka: Kafka;
}

/** Registers the hooks; the fixture's fields may be read only inside hooks and tests, once it has started. */
export function useKafkaCluster(): KafkaFixture {
  return useSuiteFixture(
    'the Kafka test cluster',
    async () => {
      const cluster = await startKafka();
      return { cluster, kafka: testKafka(cluster) };
    },
    (fixture) => fixture.cluster.stop(),
  );
}

/** Partitions of every test topic: the mock auto-creates topics with 4, so real-cluster runs use 4 too. */
export const TEST_PARTITIONS = 4;

/**
 * Makes sure a topic exists with {@link TEST_PARTITIONS} partitions. The mock has no controller
 * (CreateTopics fails) but auto-creates a topic on a metadata request; a real cluster gets CreateTopics.
 */
export async function createTopic(cluster: KafkaTestCluster, topic: string): Promise<void> {
  const admin = testKafka(cluster).admin();
  await admin.connect();
  try {
    if (cluster.real) {
      await admin.createTopics({ topics: [{ topic, numPartitions: TEST_PARTITIONS }], waitForLeaders: true });
    } else {
      await admin.fetchTopicMetadata({ topics: [topic] });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Committed offsets of a group on a topic, by partition (-1 when none). */
export async function committedOffsets(cluster: KafkaTestCluster, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin: Admin = testKafka(cluster).admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((result?.partitions ?? []).map(({ partition, offset }) => [partition, BigInt(offset)]));
  } finally {
    await admin.disconnect();
  }
}
