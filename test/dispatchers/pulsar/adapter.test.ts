/**
 * The Pulsar dispatcher (adapter + the real core pipeline + a real local HTTP function) against
 * the fake of pulsar-client — no real broker — and, when PULSAR_URL is set, against a real broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PulsarMessage } from '../../../dispatchers/pulsar/client-api.js';
import { FunctionServer } from '../../support/function-server.js';
import { fakeTarget, publish, pulsarEnv, REAL_URL, realTarget, startDispatcher, uniqueTopic } from './harness.js';
import type { PulsarDispatcher, PulsarTarget } from './harness.js';

const targets: { name: string; make: () => PulsarTarget; skip: string | undefined }[] = [
  { name: 'fake pulsar-client, no real broker', make: () => fakeTarget(), skip: undefined },
  {
    name: `real Pulsar broker at PULSAR_URL`,
    make: () => realTarget(REAL_URL ?? ''),
    skip: REAL_URL === undefined ? 'PULSAR_URL is not set (e.g. PULSAR_URL=pulsar://127.0.0.1:6650 with pulsar-client installed)' : undefined,
  },
];

let fn: FunctionServer | undefined;
const running: PulsarDispatcher[] = [];

afterEach(async () => {
  for (const dispatcher of running.splice(0)) await dispatcher.stop(500).catch(() => undefined);
  await fn?.close();
  fn = undefined;
});

function numbered(count: number, from = 0): { data: Buffer; properties: Record<string, string> }[] {
  return Array.from({ length: count }, (_, i) => ({ data: Buffer.from(String(from + i)), properties: { seq: String(from + i) } }));
}

function missing(server: FunctionServer, count: number): number[] {
  const seen = new Set(server.delivered.map((request) => Number(request.text)));
  return Array.from({ length: count }, (_, i) => i).filter((n) => !seen.has(n));
}

function duplicates(server: FunctionServer): string[] {
  const counts = new Map<string, number>();
  for (const request of server.delivered) counts.set(String(request.headers['ce-id']), (counts.get(String(request.headers['ce-id'])) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([id]) => id);
}

for (const { name, make, skip } of targets) {
  describe.skipIf(skip !== undefined)(`Pulsar dispatcher against the ${name}${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
    const t = (behaviour: string): string => `${behaviour} [${name}]`;
    let target: PulsarTarget;

    async function start(topic: string, extra: Record<string, string> = {}): Promise<PulsarDispatcher> {
      if (fn === undefined) throw new Error('start the function first');
      const dispatcher = await startDispatcher(target, pulsarEnv(target, topic, fn.url, extra));
      running.push(dispatcher);
      return dispatcher;
    }

    it(t('delivers a numbered stream through a flaky function, acknowledging only after delivery: zero missing'), async () => {
      target = make();
      const count = 200;
      fn = await FunctionServer.start({ random: seeded(3) });
      fn.failFraction(0.25);
      const topic = uniqueTopic('pulsar-flaky');
      await start(topic, { DELIVERY_MAX_IN_FLIGHT: '8', DELIVERY_ORDERING: 'unordered' });
      await publish(target, topic, numbered(count));
      await fn.waitForDistinctDelivered(count, 30_000);
      expect(missing(fn, count)).toEqual([]);
      expect(duplicates(fn)).toEqual([]);
      if (target.broker !== undefined) await expect.poll(() => target.broker?.backlog(topic, 'orders-shop'), { timeout: 5_000 }).toBe(0);
    });

    it(t('subscribes as <trigger>-<namespace> with properties as headers and the message id as a ce-id stable across redelivery'), async () => {
      target = make();
      fn = await FunctionServer.start();
      const topic = uniqueTopic('pulsar-ids');
      let failing = true;
      fn.behave(() => (failing ? { status: 503 } : undefined));
      const first = await start(topic);
      expect(first.config.subscription).toBe('orders-shop');
      await publish(target, topic, [{ data: Buffer.from('{"order":1}'), properties: { 'X-Tenant': 'acme', 'content-type': 'application/json' }, partitionKey: 'order-1' }]);
      await fn.waitFor((server) => server.requests.length >= 2, 10_000, 'retries');
      // Shutdown while the function still fails: the message is released (negatively acknowledged).
      await first.stop(200);
      failing = false;
      await start(topic);
      await fn.waitForDistinctDelivered(1, 10_000);
      const ids = new Set(fn.requests.map((request) => request.headers['ce-id']));
      expect(ids.size, 'one ce-id across attempts and the redelivery').toBe(1);
      const [delivered] = fn.delivered;
      expect(String(delivered?.headers['ce-id'])).toMatch(/^\d+:\d+:-?\d+:-?\d+$/);
      expect(delivered?.headers['x-tenant']).toBe('acme');
      expect(delivered?.headers['content-type']).toBe('application/json');
      expect(delivered?.headers['event-namespace']).toBe('pulsartriggers.kubeless.io');
    });

    it(t('SIGTERM-style shutdown mid-stream releases the rest; after a restart zero missing and zero duplicates'), async () => {
      target = make();
      const count = 150;
      fn = await FunctionServer.start({ random: seeded(9) });
      fn.failFraction(0.1);
      fn.setDelay(3);
      const topic = uniqueTopic('pulsar-sigterm');
      const first = await start(topic, { DELIVERY_MAX_IN_FLIGHT: '4' });
      await publish(target, topic, numbered(count));
      await fn.waitForDistinctDelivered(count / 3, 20_000);
      await first.stop();
      await start(topic, { DELIVERY_MAX_IN_FLIGHT: '4' });
      await fn.waitForDistinctDelivered(count, 30_000);
      expect(missing(fn, count)).toEqual([]);
      expect(duplicates(fn)).toEqual([]);
    });

    it(t('a dispatcher that dies without acknowledging gets its messages redelivered to the next: zero missing'), async () => {
      target = make();
      const count = 150;
      fn = await FunctionServer.start();
      fn.setDelay(5);
      const topic = uniqueTopic('pulsar-crash');
      const first = await start(topic, { DELIVERY_MAX_IN_FLIGHT: '4' });
      await publish(target, topic, numbered(count));
      await fn.waitForDistinctDelivered(count / 3, 20_000);
      await first.crash();
      await start(topic, { DELIVERY_MAX_IN_FLIGHT: '4' });
      await fn.waitForDistinctDelivered(count, 30_000);
      expect(missing(fn, count)).toEqual([]);
      // Only what was in flight at the crash can arrive twice.
      expect(duplicates(fn).length).toBeLessThanOrEqual(4);
    });

    it(t('two replicas on a Shared subscription split the stream: zero missing, both busy'), async () => {
      target = make();
      const count = 120;
      fn = await FunctionServer.start();
      fn.setDelay(5);
      const topic = uniqueTopic('pulsar-shared');
      const a = await start(topic, { PULSAR_SUBSCRIPTION_TYPE: 'Shared' });
      const b = await start(topic, { PULSAR_SUBSCRIPTION_TYPE: 'Shared' });
      await publish(target, topic, numbered(count));
      await fn.waitForDistinctDelivered(count, 30_000);
      expect(missing(fn, count)).toEqual([]);
      expect(duplicates(fn)).toEqual([]);
      await expect.poll(async () => (await a.delivered()) + (await b.delivered()), { timeout: 5_000 }).toBe(count);
      expect(await a.delivered(), 'replica A delivered some').toBeGreaterThan(0);
      expect(await b.delivered(), 'replica B delivered some').toBeGreaterThan(0);
    });

    it(t('two replicas on a Key_Shared subscription keep every key on one replica and in order'), async () => {
      target = make();
      fn = await FunctionServer.start({ random: seeded(4) });
      fn.failFraction(0.2);
      const topic = uniqueTopic('pulsar-keyshared');
      const env = { PULSAR_SUBSCRIPTION_TYPE: 'Key_Shared', DELIVERY_ORDERING: 'key', DELIVERY_MAX_IN_FLIGHT: '4' };
      const a = await start(topic, env);
      const b = await start(topic, env);
      const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
      const perKey = 15;
      const messages = [];
      for (let i = 0; i < perKey; i += 1) for (const key of keys) messages.push({ data: Buffer.from(`${key}:${String(i)}`), partitionKey: key });
      await publish(target, topic, messages);
      await fn.waitForDistinctDelivered(messages.length, 30_000);
      for (const key of keys) {
        const order = fn.delivered.filter((r) => r.text.startsWith(`${key}:`)).map((r) => Number(r.text.split(':')[1]));
        expect(order, `order of key ${key}`).toEqual(Array.from({ length: perKey }, (_, i) => i));
      }
      expect(duplicates(fn)).toEqual([]);
      expect(await a.delivered(), 'replica A got keys').toBeGreaterThan(0);
      expect(await b.delivered(), 'replica B got keys').toBeGreaterThan(0);
    });

    it.skipIf(name !== 'fake pulsar-client, no real broker')(t('pulls with the asynchronous receive, never a timed one that would block a libuv worker thread, and stops promptly'), async () => {
      target = make();
      fn = await FunctionServer.start();
      const topic = uniqueTopic('pulsar-async-receive');
      const dispatcher = await start(topic, { DELIVERY_MAX_IN_FLIGHT: '2' });
      await publish(target, topic, numbered(20));
      await fn.waitForDistinctDelivered(20, 10_000);
      const consumers = [...(target.broker?.topics.get(topic)?.subscriptions.values() ?? [])].flatMap((subscription) => subscription.consumers);
      expect(consumers).toHaveLength(1);
      expect(consumers[0]?.receiveTimeouts.length).toBeGreaterThan(20);
      expect(consumers[0]?.receiveTimeouts.filter((timeout) => timeout !== undefined)).toEqual([]);
      const stoppedAt = Date.now();
      await dispatcher.stop(1_000);
      expect(Date.now() - stoppedAt, 'a pending receive does not hold the shutdown').toBeLessThan(1_000);
      expect(missing(fn, 20)).toEqual([]);
    });

    it(t('an Exclusive subscription refuses a second replica at start'), async () => {
      target = make();
      fn = await FunctionServer.start();
      const topic = uniqueTopic('pulsar-exclusive');
      await start(topic, { PULSAR_SUBSCRIPTION_TYPE: 'Exclusive' });
      await expect(start(topic, { PULSAR_SUBSCRIPTION_TYPE: 'Exclusive' })).rejects.toThrow(/ConsumerBusy/);
    });

    it(t('dead-letters a permanently failing message through the core with its key, then acknowledges it'), async () => {
      target = make();
      fn = await FunctionServer.start();
      fn.behave((request) => (request.text === 'poison' ? { status: 422, body: 'unprocessable' } : undefined));
      const topic = uniqueTopic('pulsar-dlq');
      const dlq = uniqueTopic('pulsar-dlq-out');
      await start(topic, { DELIVERY_DEAD_LETTER_TOPIC: dlq });
      await publish(target, topic, [{ data: Buffer.from('poison'), partitionKey: 'order-9', properties: { 'x-tenant': 'acme' } }, { data: Buffer.from('fine') }]);
      await fn.waitFor((server) => server.delivered.some((r) => r.text === 'fine'), 10_000, 'fine delivered');
      const [letter] = await readAll(target, dlq, 1);
      expect(letter?.getPartitionKey()).toBe('order-9');
      const envelope = letter?.getData().toString() ?? '';
      expect(envelope).toContain('acme');
      expect(letter?.getProperties()['kurier-dead-letter-id']).toMatch(/^\d+:\d+/);
      if (target.broker !== undefined) await expect.poll(() => target.broker?.backlog(topic, 'orders-shop'), { timeout: 5_000 }).toBe(0);
    });

    it(t('publishes the function reply with the original key'), async () => {
      target = make();
      fn = await FunctionServer.start();
      fn.setDefault({ status: 200, body: 'answer', headers: { 'content-type': 'text/plain' } });
      const topic = uniqueTopic('pulsar-reply');
      const replies = uniqueTopic('pulsar-replies');
      await start(topic, { DELIVERY_REPLY_TOPIC: replies });
      await publish(target, topic, [{ data: Buffer.from('question'), partitionKey: 'conv-3' }]);
      const [reply] = await readAll(target, replies, 1);
      expect(reply?.getData().toString()).toBe('answer');
      expect(reply?.getPartitionKey()).toBe('conv-3');
    });
  });
}

/** Reads `count` messages from the start of a topic through the client API. */
async function readAll(target: PulsarTarget, topic: string, count: number, timeoutMs = 10_000): Promise<PulsarMessage[]> {
  const pulsar = await target.load();
  const client = new pulsar.Client({ serviceUrl: target.serviceUrl });
  const consumer = await client.subscribe({ topic, subscription: `reader-${String(Date.now())}`, subscriptionInitialPosition: 'Earliest', subscriptionType: 'Exclusive' });
  const seen: PulsarMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    while (seen.length < count && Date.now() < deadline) {
      const message = await consumer.receive(deadline - Date.now()).catch(() => undefined);
      if (message === undefined) break;
      seen.push(message);
      await consumer.acknowledge(message);
    }
  } finally {
    await consumer.close();
    await client.close();
  }
  return seen;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}
