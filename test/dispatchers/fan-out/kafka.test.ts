/**
 * `kurier dispatch kafka` with FUNCTION_TARGETS_FILE, as a real process against the kcat mock
 * cluster (librdkafka's, not Apache Kafka) or KAFKA_BROKERS.
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../../support/cleanup.js';
import { DispatcherProcess } from '../../support/dispatcher-process.js';
import { committedOffsets, createTopic, kafkaTarget, TEST_PARTITIONS, uniqueName, useKafkaCluster } from '../../support/kafka-mock.js';
import { numberOf } from '../../support/stream-tally.js';
import { kafkaEnv } from '../kafka/in-process.js';
import { fanOutEnv, report, startFunctions, TargetsMount } from './helpers.js';

const mock = useKafkaCluster();
const cleanup = useCleanup();

async function produceNumbered(topic: string, count: number): Promise<void> {
  const producer = mock.kafka.producer();
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({ value: JSON.stringify({ n: i }), partition: i % TEST_PARTITIONS }));
    for (let i = 0; i < messages.length; i += 200) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 200) });
  } finally {
    await producer.disconnect();
  }
}

function env(topic: string, group: string, mount: TargetsMount, extra: Record<string, string> = {}): Record<string, string> {
  const { FUNCTION_URL: _unused, ...kafka } = kafkaEnv(mock.cluster, topic, group, 'http://127.0.0.1:9/');
  return { ...kafka, ...fanOutEnv(mount), ...extra };
}

async function committedTotal(group: string, topic: string): Promise<bigint> {
  const offsets = await committedOffsets(mock.cluster, group, topic);
  return [...offsets.values()].reduce((sum, offset) => sum + (offset > 0n ? offset : 0n), 0n);
}

describe(`fan-out from Kafka (child process) against the ${kafkaTarget}`, () => {
  it('two targets, one flaky (503s) and one down for a while: nothing missing at either, every offset committed', async () => {
    const total = 300;
    const topic = uniqueName('fan-kafka');
    const group = uniqueName('group');
    await createTopic(mock.cluster, topic);
    await produceNumbered(topic, total);
    const fns = await startFunctions(cleanup, ['flaky', 'sometimes-down']);
    fns.flaky.failFraction(0.2);
    const mount = await TargetsMount.create(cleanup);
    await mount.write(fns);
    const dispatcher = await DispatcherProcess.start('kafka', env(topic, group, mount, { DELIVERY_MAX_IN_FLIGHT: '4' }), 30_000);
    cleanup.push(() => dispatcher.stop());
    await fns['sometimes-down'].waitForDistinctDelivered(total / 3, 30_000, numberOf);
    await fns['sometimes-down'].goDown(1_500);
    await Promise.all(Object.values(fns).map((fn) => fn.waitForDistinctDelivered(total, 60_000, numberOf)));
    const result = report('kafka fan-out flaky+down', total, fns);
    for (const counted of Object.values(result)) expect(counted.missing).toEqual([]);
    expect((await dispatcher.terminate()).code).toBe(0);
    expect(await committedTotal(group, topic)).toBe(BigInt(total));
  }, 120_000);

  it('with zero targets takes and commits nothing; a target appearing gets everything', async () => {
    const total = 100;
    const topic = uniqueName('fan-kafka-empty');
    const group = uniqueName('group');
    await createTopic(mock.cluster, topic);
    await produceNumbered(topic, total);
    const fns = await startFunctions(cleanup, ['late']);
    const mount = await TargetsMount.create(cleanup);
    await mount.write({});
    const dispatcher = DispatcherProcess.spawn('kafka', env(topic, group, mount));
    cleanup.push(() => dispatcher.stop());
    await dispatcher.waitForLog((line) => line.msg === 'no targets: waiting for the targets file to list one before subscribing');
    await dispatcher.waitForLog((line) => line.msg === 'health and metrics server listening');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // The mock cluster does not answer DescribeGroups: the group is checked through its offsets.
    expect(await committedTotal(group, topic)).toBe(0n);
    expect(await dispatcher.metric('kurier_dispatcher_messages_received_total')).toBe(0);
    expect(fns.late.requests).toEqual([]);
    await mount.write(fns);
    await fns.late.waitForDistinctDelivered(total, 60_000, numberOf);
    expect(report('kafka fan-out zero targets', total, fns).late?.missing).toEqual([]);
  }, 120_000);
});
