import { Kafka, KafkaJSNonRetriableError, logLevel, PartitionAssigners } from 'kafkajs';
import type { PartitionAssigner } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { FunctionServer } from '../../support/function-server.js';
import { committedOffsets, createTopic, kafkaTarget, uniqueName, useKafkaCluster } from '../../support/kafka-mock.js';
import { createLogger, silentLogger } from '../../../common/logger.js';
import { kafkaEnv, startInProcess } from './in-process.js';
import type { InProcessDispatcher } from './in-process.js';

const mock = useKafkaCluster();
let fn: FunctionServer;
const running: InProcessDispatcher[] = [];

afterEach(async () => {
  for (const dispatcher of running.splice(0)) await dispatcher.stop(1_000).catch(() => undefined);
  await fn.close();
});

async function produce(topic: string, messages: { key?: string; value: string; headers?: Record<string, string>; partition?: number }[]): Promise<void> {
  const producer = mock.kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, headers: m.headers, partition: m.partition })) });
  } finally {
    await producer.disconnect();
  }
}

async function produceWithTimestamps(topic: string, records: readonly { value: string; timestamp: string }[]): Promise<void> {
  const producer = mock.kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: records.map((record) => ({ value: record.value, timestamp: record.timestamp, partition: 0 })) });
  } finally {
    await producer.disconnect();
  }
}

async function consumeAll(topic: string, count: number, timeoutMs = 15_000): Promise<{ key: string | undefined; value: string; headers: Record<string, string> }[]> {
  const consumer = mock.kafka.consumer({ groupId: uniqueName('reader'), sessionTimeout: 6_000, rebalanceTimeout: 6_000, heartbeatInterval: 500 });
  const seen: { key: string | undefined; value: string; headers: Record<string, string> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachMessage: ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
      seen.push({ key: message.key?.toString(), value: message.value?.toString() ?? '', headers });
      if (seen.length >= count) done();
      return Promise.resolve();
    },
  });
  const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs));
  await Promise.race([finished, timer]);
  await consumer.disconnect();
  return seen;
}

async function start(topic: string, group: string, extra: Record<string, string> = {}): Promise<InProcessDispatcher> {
  const dispatcher = await startInProcess(kafkaEnv(mock.cluster, topic, group, fn.url, extra));
  running.push(dispatcher);
  return dispatcher;
}

describe(`Kafka adapter in-process against the ${kafkaTarget}`, () => {
  it('delivers every record with ce-id topic/partition/offset, the record headers and the key', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-headers');
    await createTopic(mock.cluster, topic);
    await produce(topic, [
      { key: 'k-1', value: '{"n":1}', headers: { 'X-Tenant': 'acme', traceparent: '00-abc-01' }, partition: 0 },
      { value: 'plain', headers: { 'content-type': 'text/plain' }, partition: 0 },
    ]);
    await start(topic, uniqueName('group'));
    await fn.waitForDistinctDelivered(2, 20_000);
    const [first, second] = fn.delivered;
    expect(first?.headers['ce-id']).toBe(`${topic}/0/0`);
    expect(first?.headers['x-tenant']).toBe('acme');
    expect(first?.headers.traceparent).toBe('00-abc-01');
    expect(first?.headers['event-namespace']).toBe('kafkatriggers.kubeless.io');
    expect(first?.text).toBe('{"n":1}');
    expect(second?.headers['ce-id']).toBe(`${topic}/0/1`);
    expect(second?.headers['content-type']).toBe('text/plain');
  });

  it('delivers a record whose timestamp is in nanoseconds, without time headers, and commits past it: none missing, duplicated or out of order', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-nanos');
    const group = uniqueName('group');
    await createTopic(mock.cluster, topic);
    const now = Date.now();
    const records = Array.from({ length: 10 }, (_, i) => ({ value: String(i), timestamp: i === 3 ? `${String(now)}000000` : String(now) }));
    await produceWithTimestamps(topic, records);
    await start(topic, group);
    await fn.waitForDistinctDelivered(10, 20_000);
    expect(fn.delivered.map((request) => request.text), 'every record once, in order').toEqual(records.map((record) => record.value));
    expect(fn.delivered[3]?.headers['ce-time']).toBeUndefined();
    expect(fn.delivered[4]?.headers['ce-time']).toBe(new Date(now).toISOString());
    await expect.poll(async () => (await committedOffsets(mock.cluster, group, topic)).get(0), { timeout: 10_000 }).toBe(10n);
  });

  it('consumes every topic listed in KAFKA_TOPICS with one group', async () => {
    fn = await FunctionServer.start();
    const first = uniqueName('kafka-multi-a');
    const second = uniqueName('kafka-multi-b');
    await createTopic(mock.cluster, first);
    await createTopic(mock.cluster, second);
    await produce(first, [{ value: 'from-a' }]);
    await produce(second, [{ value: 'from-b' }]);
    await start(first, uniqueName('group'), { KAFKA_TOPIC: '', KAFKA_TOPICS: `${first},${second}` });
    await fn.waitForDistinctDelivered(2, 20_000);
    expect(fn.delivered.map((request) => request.headers['ce-subject']).sort()).toEqual([first, second].sort());
  });

  it('commits only the contiguous prefix: a record held by retries blocks the commit of later, delivered ones', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-prefix');
    const group = uniqueName('group');
    await createTopic(mock.cluster, topic);
    let release = false;
    // Record 2 fails until released; unordered mode lets 3..5 pass it.
    fn.behave((request) => (request.text === 'm2' && !release ? { status: 503 } : undefined));
    await produce(topic, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'].map((value) => ({ value, partition: 0 })));
    await start(topic, group, { DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    await fn.waitFor((server) => ['m0', 'm1', 'm3', 'm4', 'm5'].every((m) => server.delivered.some((r) => r.text === m)), 20_000, 'all but m2');
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await committedOffsets(mock.cluster, group, topic)).get(0)).toBe(2n);
    release = true;
    await fn.waitForDistinctDelivered(6, 20_000);
    await expect.poll(async () => (await committedOffsets(mock.cluster, group, topic)).get(0), { timeout: 10_000 }).toBe(6n);
  });

  it('while one record retries forever, holds at most 1,000 records of its partition behind it (the ledger is bounded); then delivers everything once it passes', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-ledger');
    const group = uniqueName('group');
    await createTopic(mock.cluster, topic);
    let stuck = true;
    fn.behave((request) => (request.text === 'r0' && stuck ? { status: 503 } : undefined));
    const count = 1_300;
    await produce(topic, Array.from({ length: count }, (_, i) => ({ key: `k${String(i)}`, value: `r${String(i)}`, partition: 0 })));
    const dispatcher = await start(topic, group, { DELIVERY_ORDERING: 'key', DELIVERY_MAX_IN_FLIGHT: '8' });
    const received = async (): Promise<number> => {
      const metric = await dispatcher.metrics.registry.getSingleMetric('kurier_dispatcher_messages_received_total')?.get();
      return metric?.values[0]?.value ?? 0;
    };
    await fn.waitForDistinctDelivered(999, 30_000);
    // More could only be admitted, never fewer: a second look shows the bound holds.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await received(), 'records taken from the partition behind the stuck one').toBe(1_000);
    expect(new Set(fn.delivered.map((r) => r.text)).size).toBe(999);
    expect([undefined, -1n, 0n], 'nothing committed past the stuck record').toContain((await committedOffsets(mock.cluster, group, topic)).get(0));
    stuck = false;
    await fn.waitForDistinctDelivered(count, 30_000);
    await expect.poll(async () => (await committedOffsets(mock.cluster, group, topic)).get(0), { timeout: 10_000 }).toBe(BigInt(count));
    expect(fn.delivered.length, 'no record delivered twice').toBe(count);
  });

  it('never commits past a record whose dead-letter publish keeps failing', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-dlq-fail');
    const group = uniqueName('group');
    await createTopic(mock.cluster, topic);
    fn.behave((request) => (request.text === 'poison' ? { status: 400 } : undefined));
    const dispatcher = await start(topic, group, { DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4', DELIVERY_DEAD_LETTER_TOPIC: uniqueName('dlq') });
    let publishes = 0;
    // The broker refuses the dead-letter publish: the core keeps retrying and never settles the record.
    dispatcher.adapter.publish = () => {
      publishes += 1;
      return Promise.reject(new Error('broker refused'));
    };
    await produce(topic, ['a', 'poison', 'b', 'c'].map((value) => ({ value, partition: 0 })));
    await fn.waitForDistinctDelivered(3, 20_000);
    await expect.poll(() => publishes, { timeout: 10_000 }).toBeGreaterThan(2);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await committedOffsets(mock.cluster, group, topic)).get(0)).toBe(1n);
    await dispatcher.stop(500);
    running.splice(running.indexOf(dispatcher), 1);
    expect((await committedOffsets(mock.cluster, group, topic)).get(0)).toBe(1n);
  });

  it('dead-letters with the original key and an envelope, then commits past it', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-dlq');
    const dlq = uniqueName('dlq');
    const group = uniqueName('group');
    await createTopic(mock.cluster, topic);
    await createTopic(mock.cluster, dlq);
    fn.behave((request) => (request.text === 'poison' ? { status: 422, body: 'nope' } : undefined));
    await produce(topic, [{ value: 'poison', key: 'order-7', headers: { 'x-tenant': 'acme' }, partition: 0 }, { value: 'fine', partition: 0 }]);
    await start(topic, group, { DELIVERY_DEAD_LETTER_TOPIC: dlq });
    await fn.waitFor((server) => server.delivered.some((r) => r.text === 'fine'), 20_000, 'fine delivered');
    const [letter] = await consumeAll(dlq, 1);
    expect(letter?.key).toBe('order-7');
    const envelope = JSON.parse(letter?.value ?? '{}') as Record<string, unknown>;
    expect(JSON.stringify(envelope)).toContain('acme');
    expect(JSON.stringify(envelope)).toContain(`${topic}/0/0`);
    await expect.poll(async () => (await committedOffsets(mock.cluster, group, topic)).get(0), { timeout: 10_000 }).toBe(2n);
  });

  it('publishes the function reply with the original key', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-reply');
    const replies = uniqueName('replies');
    await createTopic(mock.cluster, topic);
    await createTopic(mock.cluster, replies);
    fn.setDefault({ status: 200, body: '{"ok":true}', headers: { 'content-type': 'application/json' } });
    await produce(topic, [{ value: 'question', key: 'conv-1', partition: 0 }]);
    await start(topic, uniqueName('group'), { DELIVERY_REPLY_TOPIC: replies });
    const [reply] = await consumeAll(replies, 1);
    expect(reply).toMatchObject({ key: 'conv-1', value: '{"ok":true}' });
    expect(reply?.headers['kurier-reply-to']).toBe(`${topic}/0/0`);
  });

  it('exports consumer lag per topic and partition, down to 0 once everything is committed', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-lag');
    await createTopic(mock.cluster, topic);
    await produce(topic, Array.from({ length: 20 }, (_, i) => ({ value: `m${String(i)}`, partition: i % 2 })));
    const dispatcher = await start(topic, uniqueName('group'));
    await fn.waitForDistinctDelivered(20, 20_000);
    await expect
      .poll(async () => (await dispatcher.metrics.registry.getSingleMetric('kurier_dispatcher_consumer_lag')?.get())?.values, { timeout: 10_000 })
      .toEqual(
        expect.arrayContaining([
          expect.objectContaining({ labels: { topic, partition: '0' }, value: 0 }),
          expect.objectContaining({ labels: { topic, partition: '1' }, value: 0 }),
        ]),
      );
  });

  it('while the function is down, holds at most one unsettled record per partition (ordered): partitions pause, nothing is buffered', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-backpressure');
    await createTopic(mock.cluster, topic);
    await fn.goDown();
    await produce(topic, Array.from({ length: 200 }, (_, i) => ({ value: `m${String(i)}`, partition: i % 4 })));
    const dispatcher = await start(topic, uniqueName('group'), { DELIVERY_MAX_IN_FLIGHT: '2' });
    const received = async (): Promise<number> => (await dispatcher.metrics.registry.getSingleMetric('kurier_dispatcher_messages_received_total')?.get())?.values[0]?.value ?? 0;
    await expect.poll(received, { timeout: 10_000 }).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await received(), 'records taken from Kafka while nothing can be delivered').toBeLessThanOrEqual(4);
    await fn.comeBack();
    await fn.waitForDistinctDelivered(200, 30_000);
    expect(await received()).toBe(200);
  });

  it('keeps its group membership while a record waits for the one delivery slot longer than the session timeout: it heartbeats meanwhile', async () => {
    fn = await FunctionServer.start();
    // Longer than KAFKA_SESSION_TIMEOUT (3 s): a member that stopped heartbeating would be dropped from the group.
    fn.setDelay(4_500);
    const topic = uniqueName('kafka-heartbeat');
    const group = uniqueName('group');
    await createTopic(mock.cluster, topic);
    await produce(topic, [{ value: 'p0', partition: 0 }, { value: 'p1', partition: 1 }]);
    const lines: string[] = [];
    const logger = createLogger({ source: 'kafka' }, { write: (line: string) => { lines.push(line); } });
    // One slot: one partition's record is delivered while the other's waits in admit for ~4.5 s.
    const env = kafkaEnv(mock.cluster, topic, group, fn.url, { DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '1', DELIVERY_TIMEOUT: '10s' });
    running.push(await startInProcess(env, logger));
    await fn.waitForDistinctDelivered(2, 30_000);
    // A dropped member notices at its next heartbeat or commit and joins again: give that time to show.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const joins = lines.filter((line) => line.includes('"kafka partitions assigned"'));
    expect(joins, 'partitions assigned once: no rebalance during the wait').toHaveLength(1);
    expect(fn.delivered.map((r) => r.text).sort()).toEqual(['p0', 'p1']);
  });

  it('replaces a consumer that kafkajs gave up on (non-retriable crash) and delivers everything', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-crash');
    await createTopic(mock.cluster, topic);
    const logged: string[] = [];
    const logger = { ...silentLogger, error: (_: object, message?: string) => logged.push(message ?? ''), warn: (_: object, message?: string) => logged.push(message ?? '') };
    const dispatcher = await startInProcess(kafkaEnv(mock.cluster, topic, uniqueName('group'), fn.url), logger);
    running.push(dispatcher);
    const adapter = dispatcher.adapter as unknown as { onBatch: (payload: unknown) => Promise<void> };
    const original = adapter.onBatch.bind(adapter);
    let injected = false;
    adapter.onBatch = (payload) => {
      if (!injected) {
        injected = true;
        return Promise.reject(new KafkaJSNonRetriableError('injected failure'));
      }
      return original(payload);
    };
    await produce(topic, Array.from({ length: 40 }, (_, i) => ({ value: `m${String(i)}` })));
    await fn.waitForDistinctDelivered(40, 30_000);
    expect(injected).toBe(true);
    expect(logged).toContain('kafka consumer crashed');
    expect(logged).toContain('restarting the kafka consumer');
    await expect.poll(() => dispatcher.adapter.connected(), { timeout: 10_000 }).toBe(true);
  });

  it('replaces a consumer that crashes again while it is being replaced, with backoff from 0.5 s, and delivers everything', async () => {
    fn = await FunctionServer.start();
    const topic = uniqueName('kafka-crash-twice');
    await createTopic(mock.cluster, topic);
    const env = kafkaEnv(mock.cluster, topic, uniqueName('group'), fn.url);
    const events: { msg: string; fields: Record<string, unknown> }[] = [];
    const record = (fields: object, msg?: string): void => { events.push({ msg: msg ?? '', fields: fields as Record<string, unknown> }); };
    const logger = { ...silentLogger, error: record, warn: record, info: record };
    // A join that fails with a non-retriable error makes kafkajs emit CRASH from inside consumer.run()
    // (before it resolves) and give up. The first two joins fail: at start, and in the first replacement.
    let failingJoins = 2;
    const failingAssigner: PartitionAssigner = (config) => {
      const roundRobin = PartitionAssigners.roundRobin(config);
      return {
        name: roundRobin.name,
        version: roundRobin.version,
        protocol: (subscription) => roundRobin.protocol(subscription),
        assign: async (group) => {
          if (failingJoins > 0) {
            failingJoins -= 1;
            throw new KafkaJSNonRetriableError('injected join failure');
          }
          return roundRobin.assign(group);
        },
      };
    };
    const kafka = new Kafka({ clientId: 'crash-twice', brokers: [...mock.cluster.brokers], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer.bind(kafka);
    kafka.consumer = (options) => consumer({ ...options, partitionAssigners: [failingAssigner] });
    const dispatcher = await startInProcess(env, logger, { kafka });
    running.push(dispatcher);
    await produce(topic, Array.from({ length: 30 }, (_, i) => ({ value: `m${String(i)}` })));
    await fn.waitForDistinctDelivered(30, 20_000);
    expect(failingJoins).toBe(0);
    expect(events.filter((e) => e.msg === 'kafka consumer crashed')).toHaveLength(2);
    expect(events.filter((e) => e.msg === 'restarting the kafka consumer').map((e) => e.fields.delayMs)).toEqual([500, 1_000]);
    await expect.poll(() => dispatcher.adapter.connected(), { timeout: 10_000 }).toBe(true);
    expect(new Set(fn.delivered.map((r) => r.text)).size).toBe(fn.delivered.length);
  });

  it('keeps per-key order in key mode while keys run in parallel within a partition', async () => {
    fn = await FunctionServer.start({ random: mulberry(7) });
    fn.failFraction(0.3);
    fn.setDelay(5);
    const topic = uniqueName('kafka-keys');
    await createTopic(mock.cluster, topic);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const perKey = 20;
    const records = [];
    for (let i = 0; i < perKey; i += 1) for (const key of keys) records.push({ key, value: `${key}:${String(i)}` });
    await produce(topic, records);
    await start(topic, uniqueName('group'), { DELIVERY_ORDERING: 'key', DELIVERY_MAX_IN_FLIGHT: '8' });
    await fn.waitForDistinctDelivered(records.length, 30_000);
    for (const key of keys) {
      const sequence = fn.delivered.filter((r) => r.text.startsWith(`${key}:`)).map((r) => Number(r.text.split(':')[1]));
      expect(sequence, `order of key ${key}`).toEqual(Array.from({ length: perKey }, (_, i) => i));
    }
    expect(fn.maxConcurrency, 'keys ran in parallel').toBeGreaterThan(1);
  });
});

function mulberry(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
