/**
 * `kurier dispatch kafka` as a real child process against the kcat mock cluster (or KAFKA_BROKERS):
 * the delivery guarantees a user relies on, measured by counting what a local function received.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';
import type { RecordedRequest } from '../../support/function-server.js';
import { committedOffsets, createTopic, kafkaTarget, TEST_PARTITIONS, uniqueName, useKafkaCluster } from '../../support/kafka-mock.js';
import { runKurier } from '../../support/run-kurier.js';
import { kafkaEnv } from './in-process.js';

const mock = useKafkaCluster();
let fn: FunctionServer | undefined;
const processes: DispatcherProcess[] = [];

afterEach(async () => {
  for (const dispatcher of processes.splice(0)) await dispatcher.stop();
  await fn?.close();
  fn = undefined;
});

/** Produces `count` numbered records ("0".."count-1"), round-robin over the partitions. */
async function produceNumbered(topic: string, count: number, from = 0): Promise<void> {
  const producer = mock.kafka.producer();
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({ value: String(from + i), partition: (from + i) % TEST_PARTITIONS, key: `k${String((from + i) % 7)}` }));
    for (let i = 0; i < messages.length; i += 200) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 200) });
  } finally {
    await producer.disconnect();
  }
}

async function spawn(env: Record<string, string>): Promise<DispatcherProcess> {
  const dispatcher = await DispatcherProcess.start('kafka', env, 30_000);
  processes.push(dispatcher);
  return dispatcher;
}

interface Tally {
  missing: number[];
  duplicates: Map<string, number>;
}

/** Which numbers never reached the function with a 2xx, and which ce-ids got more than one 2xx. */
function tally(server: FunctionServer, count: number): Tally {
  const delivered = new Set(server.delivered.map((request) => Number(request.text)));
  const perId = new Map<string, number>();
  for (const request of server.delivered) {
    const id = String(request.headers['ce-id']);
    perId.set(id, (perId.get(id) ?? 0) + 1);
  }
  return {
    missing: Array.from({ length: count }, (_, i) => i).filter((n) => !delivered.has(n)),
    duplicates: new Map([...perId].filter(([, times]) => times > 1)),
  };
}

/** `topic/partition/offset` from a ce-id. */
function coordinates(request: RecordedRequest): { partition: number; offset: bigint } {
  const parts = String(request.headers['ce-id']).split('/');
  return { partition: Number(parts.at(-2)), offset: BigInt(parts.at(-1) ?? '-1') };
}

describe(`kurier dispatch kafka (child process) against the ${kafkaTarget}`, () => {
  it('delivers a numbered stream through a flaky function that is also down for a while: zero missing', async () => {
    const count = 300;
    fn = await FunctionServer.start({ random: seeded(11) });
    fn.failFraction(0.2);
    const topic = uniqueName('kafka-flaky');
    await createTopic(mock.cluster, topic);
    await produceNumbered(topic, count);
    await spawn(kafkaEnv(mock.cluster, topic, uniqueName('group'), fn.url, { DELIVERY_MAX_IN_FLIGHT: '4' }));
    await fn.waitForDistinctDelivered(count / 3, 30_000);
    await fn.goDown(1_500);
    await fn.waitForDistinctDelivered(count, 60_000);
    const result = tally(fn, count);
    expect(result.missing).toEqual([]);
    expect(fn.requests.length, 'failed attempts were retried').toBeGreaterThan(count);
    // Only a restart may duplicate; this run had none.
    expect([...result.duplicates.keys()]).toEqual([]);
  });

  it('SIGKILL mid-stream and restart: zero missing, and duplicates only from offsets not yet committed at the kill', async () => {
    const count = 400;
    fn = await FunctionServer.start();
    fn.setDelay(3);
    const topic = uniqueName('kafka-sigkill');
    const group = uniqueName('group');
    await createTopic(mock.cluster, topic);
    await produceNumbered(topic, count);
    const env = kafkaEnv(mock.cluster, topic, group, fn.url, { DELIVERY_MAX_IN_FLIGHT: '4' });
    const first = await spawn(env);
    await fn.waitForDistinctDelivered(count / 3, 30_000);
    await first.kill();
    const committedAtKill = await committedOffsets(mock.cluster, group, topic);
    const beforeKill = fn.delivered.length;
    await spawn(env);
    await fn.waitForDistinctDelivered(count, 60_000);
    const result = tally(fn, count);
    expect(result.missing).toEqual([]);
    const redeliveredCommitted = fn.delivered.slice(beforeKill).filter((request) => {
      const { partition, offset } = coordinates(request);
      return offset < (committedAtKill.get(partition) ?? -1n);
    });
    expect(redeliveredCommitted.map((request) => request.headers['ce-id']), 'committed records delivered again').toEqual([]);
    for (const id of result.duplicates.keys()) {
      const [partition, offset] = id.split('/').slice(-2).map((part) => BigInt(part));
      expect(offset! >= (committedAtKill.get(Number(partition)) ?? -1n), `duplicate ${id} was committed before the kill`).toBe(true);
    }
    console.info(`[kafka SIGKILL] ${String(count)} records, ${String(result.duplicates.size)} duplicates, all from the uncommitted window`);
  });

  it('SIGTERM mid-stream drains and commits: after a restart, zero missing and zero duplicates', async () => {
    const count = 300;
    fn = await FunctionServer.start({ random: seeded(5) });
    fn.failFraction(0.1);
    fn.setDelay(3);
    const topic = uniqueName('kafka-sigterm');
    await createTopic(mock.cluster, topic);
    await produceNumbered(topic, count);
    const env = kafkaEnv(mock.cluster, topic, uniqueName('group'), fn.url, { DELIVERY_MAX_IN_FLIGHT: '4' });
    const first = await spawn(env);
    await fn.waitForDistinctDelivered(count / 3, 30_000);
    const exit = await first.terminate();
    expect(exit.code).toBe(0);
    await spawn(env);
    await fn.waitForDistinctDelivered(count, 60_000);
    const result = tally(fn, count);
    expect(result.missing).toEqual([]);
    expect([...result.duplicates.keys()]).toEqual([]);
  });

  it('key mode, SIGTERM while a record retries: exactly the records delivered after it in its partition come again, none missing, none below it', async () => {
    const count = 60;
    fn = await FunctionServer.start();
    let healthy = false;
    // Record 0 (key "stuck") fails until the restart; the records of other keys pass it.
    fn.behave((request) => (request.text === '0' && !healthy ? { status: 503 } : undefined));
    const topic = uniqueName('kafka-key-sigterm');
    await createTopic(mock.cluster, topic);
    const producer = mock.kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ key: i === 0 ? 'stuck' : `k${String(i % 5)}`, value: String(i), partition: 0 })) });
    await producer.disconnect();
    const env = kafkaEnv(mock.cluster, topic, uniqueName('group'), fn.url, {
      DELIVERY_ORDERING: 'key',
      DELIVERY_MAX_IN_FLIGHT: '8',
      DELIVERY_RETRY_INITIAL_DELAY: '200ms',
      DELIVERY_RETRY_MAX_DELAY: '2s',
    });
    const first = await spawn(env);
    await fn.waitForDistinctDelivered(count - 1, 20_000);
    const deliveredBefore = fn.delivered.map((request) => coordinates(request).offset);
    expect((await first.terminate()).code).toBe(0);
    expect([undefined, -1n], 'nothing committed at or past record 0').toContain((await committedOffsets(mock.cluster, env.KAFKA_GROUP_ID!, topic)).get(0));
    healthy = true;
    await spawn(env);
    // Everything the restarted member read is settled once its commit reaches the end of the partition.
    await expect.poll(async () => (await committedOffsets(mock.cluster, env.KAFKA_GROUP_ID!, topic)).get(0), { timeout: 30_000 }).toBe(BigInt(count));
    const result = tally(fn, count);
    expect(result.missing).toEqual([]);
    const duplicated = [...result.duplicates.keys()].map((id) => BigInt(id.split('/').at(-1) ?? '-1')).sort((a, b) => Number(a - b));
    // Kafka commits one offset per partition: the commit stops at record 0, so every record
    // delivered after it is read and delivered again; nothing below it is.
    expect(duplicated).toEqual([...deliveredBefore].sort((a, b) => Number(a - b)));
    expect(duplicated.every((offset) => offset > 0n)).toBe(true);
    for (let key = 0; key < 5; key += 1) {
      const firstTimes = [...new Set(fn.delivered.map((request) => Number(request.text)).filter((n) => n > 0 && n % 5 === key))];
      expect(firstTimes, `first deliveries of k${String(key)} in order`).toEqual([...firstTimes].sort((a, b) => a - b));
    }
    console.info(`[kafka key-mode SIGTERM] ${String(count)} records, ${String(duplicated.length)} delivered again after a clean SIGTERM`);
  });

  it('two replicas in one group share the partitions; after one leaves, the other finishes everything', async () => {
    const count = 400;
    fn = await FunctionServer.start();
    let slow = true;
    fn.behave(() => (slow ? { status: 200, body: 'ok', delayMs: 40 } : undefined));
    const topic = uniqueName('kafka-replicas');
    await createTopic(mock.cluster, topic);
    await produceNumbered(topic, count);
    const env = kafkaEnv(mock.cluster, topic, uniqueName('group'), fn.url);
    const a = await spawn(env);
    await fn.waitForDistinctDelivered(10, 30_000);
    const b = await spawn(env);
    await expect.poll(() => b.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered' }), { timeout: 30_000, interval: 250 }).toBeGreaterThan(5);
    expect(await a.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered' })).toBeGreaterThan(0);
    const assignedA = a.logs.filter((line) => line.msg === 'kafka partitions assigned').at(-1)?.assigned as string[] | undefined;
    const assignedB = b.logs.filter((line) => line.msg === 'kafka partitions assigned').at(-1)?.assigned as string[] | undefined;
    expect((assignedA?.length ?? 0) + (assignedB?.length ?? 0), 'partitions split between the replicas').toBe(TEST_PARTITIONS);
    expect(assignedA?.length).toBeGreaterThan(0);
    expect(assignedB?.length).toBeGreaterThan(0);
    const aDelivered = await a.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered' });
    expect((await a.terminate()).code).toBe(0);
    const bWhenALeft = await b.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered' });
    slow = false;
    await fn.waitForDistinctDelivered(count, 60_000);
    const result = tally(fn, count);
    expect(result.missing).toEqual([]);
    const bAfter = await b.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered' });
    expect(bAfter, 'B delivered the rest after A left').toBeGreaterThan(bWhenALeft);
    console.info(`[kafka replicas] A delivered ${String(aDelivered)}, B ${String(bAfter)}, duplicates ${String(result.duplicates.size)}`);
  });

  it('scale to zero: both replicas stopped by SIGTERM at once, then one restarted: zero missing, zero duplicates', async () => {
    const count = 300;
    fn = await FunctionServer.start();
    fn.setDelay(10);
    const topic = uniqueName('kafka-scale-zero');
    await createTopic(mock.cluster, topic);
    await produceNumbered(topic, count);
    const env = kafkaEnv(mock.cluster, topic, uniqueName('group'), fn.url);
    const a = await spawn(env);
    const b = await spawn(env);
    await expect.poll(() => b.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered' }), { timeout: 30_000, interval: 250 }).toBeGreaterThan(5);
    const exits = await Promise.all([a.terminate(), b.terminate()]);
    expect(exits.map((exit) => exit.code)).toEqual([0, 0]);
    const beforeStop = new Set(fn.delivered.map((request) => String(request.headers['ce-id'])));
    const deliveredBeforeStop = fn.delivered.length;
    const refused = [...a.logs, ...b.logs].filter((line) => line.msg === 'commit failed' && line.reason === 'shutdown').length;
    await spawn(env);
    await fn.waitForDistinctDelivered(count, 60_000);
    const result = tally(fn, count);
    expect(result.missing).toEqual([]);
    const againAfterRestart = fn.delivered.slice(deliveredBeforeStop).map((request) => String(request.headers['ce-id'])).filter((id) => beforeStop.has(id));
    const commitLog = [...a.logs, ...b.logs]
      .filter((line) => typeof line.msg === 'string' && /commit|assigned|restarting|crashed/.test(line.msg))
      .map((line) => `${String(line.time)} ${String(line.msg)} ${JSON.stringify(line.reason ?? '')} ${JSON.stringify(line.offsets ?? line.assigned ?? '')} ${JSON.stringify(line.err ?? '')}`);
    expect(againAfterRestart, `delivered before the stop and again after the restart\n${commitLog.join('\n')}`).toEqual([]);
    console.info(
      `[kafka scale to zero] ${String(result.duplicates.size)} duplicates from B joining, 0 from the stop; final commits first refused by the rebalancing group: ${String(refused)}`,
    );
  }, 90_000);

  it('prints only lines that mean something: no Node warning from kafkajs, no partitioner notice, no duplicate JSON keys', async () => {
    fn = await FunctionServer.start();
    fn.answer({ status: 503 });
    const topic = uniqueName('kafka-quiet');
    await createTopic(mock.cluster, topic);
    await produceNumbered(topic, 20);
    const dispatcher = await spawn(kafkaEnv(mock.cluster, topic, uniqueName('group'), fn.url, { DELIVERY_DEAD_LETTER_TOPIC: uniqueName('dlq'), DELIVERY_RETRY_MAX_ATTEMPTS: '1' }));
    await fn.waitForDistinctDelivered(19, 30_000);
    await dispatcher.waitForLog((line) => line.msg === 'message dead-lettered', 20_000);
    dispatcher.signal('SIGTERM');
    expect((await dispatcher.waitExit(20_000)).code).toBe(0);
    expect(dispatcher.stderr).not.toMatch(/Warning/);
    expect(dispatcher.logs.map((line) => String(line.msg)).filter((msg) => /partitioner/i.test(msg))).toEqual([]);
    const duplicated = dispatcher.lines.filter((line) => {
      const keys = [...line.matchAll(/[{,]"([^"]+)":/g)].map((match) => match[1]);
      return new Set(keys).size !== keys.length;
    });
    expect(duplicated).toEqual([]);
  });

  it('refuses to start without brokers or topic, naming each variable on its own line', async () => {
    const result = await runKurier(['dispatch', 'kafka'], {
      env: { PATH: process.env.PATH ?? '', FUNCTION_URL: 'http://127.0.0.1:1/', KAFKA_SASL_MECHANISM: 'gssapi' },
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines.some((line) => line.includes('KAFKA_BROKERS is required'))).toBe(true);
    expect(lines.some((line) => line.includes('KAFKA_TOPIC or KAFKA_TOPICS is required'))).toBe(true);
    expect(lines.some((line) => line.includes('KAFKA_SASL_MECHANISM'))).toBe(true);
  });
});

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}
