/**
 * The pulsar-client behaviours the dispatcher depends on, checked through the client API only,
 * so the same tests hold the fake (no real broker) to the real client when PULSAR_URL is set.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PulsarClient, PulsarConsumer, PulsarConsumerConfig, PulsarMessage } from '../../../dispatchers/pulsar/client-api.js';
import { fakeTarget, publish, REAL_URL, realTarget, uniqueTopic } from './harness.js';
import type { PulsarTarget } from './harness.js';

const targets: { name: string; make: () => PulsarTarget; skip: string | undefined }[] = [
  // The minimum ack timeout is lowered on the fake only so the ack-timeout test takes 300 ms, not 10 s.
  { name: 'fake pulsar-client, no real broker', make: () => fakeTarget(300), skip: undefined },
  {
    name: 'real Pulsar broker at PULSAR_URL',
    make: () => realTarget(REAL_URL ?? ''),
    skip: REAL_URL === undefined ? 'PULSAR_URL is not set (e.g. PULSAR_URL=pulsar://127.0.0.1:6650 with pulsar-client installed)' : undefined,
  },
];

const clients: PulsarClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close().catch(() => undefined);
});

for (const { name, make, skip } of targets) {
  describe.skipIf(skip !== undefined)(`pulsar-client behaviour on the ${name}${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
    const t = (behaviour: string): string => `${behaviour} [${name}]`;
    let target: PulsarTarget;

    async function consumer(config: Omit<PulsarConsumerConfig, 'subscriptionInitialPosition'>): Promise<PulsarConsumer> {
      const pulsar = await target.load();
      const client = new pulsar.Client({ serviceUrl: target.serviceUrl });
      clients.push(client);
      return client.subscribe({ subscriptionInitialPosition: 'Earliest', ...config });
    }

    async function receiveAll(from: PulsarConsumer, max: number, timeoutMs = 300): Promise<PulsarMessage[]> {
      const seen: PulsarMessage[] = [];
      while (seen.length < max) {
        const message = await from.receive(timeoutMs).catch(() => undefined);
        if (message === undefined) break;
        seen.push(message);
      }
      return seen;
    }

    it(t('receive with a timeout rejects with TimeOut when nothing arrives'), async () => {
      target = make();
      const c = await consumer({ topic: uniqueTopic('rx-timeout'), subscription: 's', subscriptionType: 'Shared' });
      await expect(c.receive(100)).rejects.toThrow(/TimeOut/);
    });

    it(t('a negatively acknowledged message comes back after the nack delay with redeliveryCount + 1 and the same id'), async () => {
      target = make();
      const topic = uniqueTopic('nack');
      const c = await consumer({ topic, subscription: 's', subscriptionType: 'Shared', nAckRedeliverTimeoutMs: 200 });
      await publish(target, topic, [{ data: Buffer.from('again') }]);
      const first = await c.receive(5_000);
      expect(first.getRedeliveryCount()).toBe(0);
      const nackedAt = Date.now();
      c.negativeAcknowledge(first);
      const second = await c.receive(5_000);
      expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(150);
      expect(second.getRedeliveryCount()).toBe(1);
      expect(second.getMessageId().toString()).toBe(first.getMessageId().toString());
      await c.acknowledge(second);
      await expect(c.receive(400)).rejects.toThrow(/TimeOut/);
    });

    it(t('an acknowledged message is never delivered again, even to a new consumer on the subscription'), async () => {
      target = make();
      const topic = uniqueTopic('ack');
      const c = await consumer({ topic, subscription: 's', subscriptionType: 'Shared' });
      await publish(target, topic, [{ data: Buffer.from('1') }, { data: Buffer.from('2') }]);
      const one = await c.receive(5_000);
      await c.acknowledge(one);
      await c.close();
      const again = await consumer({ topic, subscription: 's', subscriptionType: 'Shared' });
      const rest = await receiveAll(again, 5);
      expect(rest.map((m) => m.getData().toString())).toEqual(['2']);
    });

    it(t('an unacknowledged message is redelivered after the ack timeout'), async () => {
      target = make();
      const topic = uniqueTopic('ack-timeout');
      const c = await consumer({ topic, subscription: 's', subscriptionType: 'Shared', ackTimeoutMs: target.minAckTimeoutMs });
      await publish(target, topic, [{ data: Buffer.from('slow') }]);
      const first = await c.receive(5_000);
      const second = await c.receive(target.minAckTimeoutMs * 3);
      expect(second.getMessageId().toString()).toBe(first.getMessageId().toString());
      expect(second.getRedeliveryCount()).toBeGreaterThanOrEqual(1);
    });

    it(t('refuses an ack timeout below the minimum, as the real client does'), async () => {
      target = make();
      await expect(consumer({ topic: uniqueTopic('ack-min'), subscription: 's', ackTimeoutMs: Math.floor(target.minAckTimeoutMs / 2) })).rejects.toThrow(/Ack timeout/);
    });

    it(t('a closed consumer’s unacknowledged messages go to the other consumer of a Shared subscription'), async () => {
      target = make();
      const topic = uniqueTopic('close-redeliver');
      const a = await consumer({ topic, subscription: 's', subscriptionType: 'Shared', receiverQueueSize: 1 });
      const b = await consumer({ topic, subscription: 's', subscriptionType: 'Shared', receiverQueueSize: 1 });
      await publish(target, topic, [{ data: Buffer.from('x') }, { data: Buffer.from('y') }]);
      const held = await a.receive(5_000);
      await a.close();
      const got = await receiveAll(b, 2, 2_000);
      for (const message of got) await b.acknowledge(message);
      expect(got.map((m) => m.getData().toString())).toContain(held.getData().toString());
      expect(new Set(got.map((m) => m.getData().toString()))).toEqual(new Set(['x', 'y']));
    });

    it(t('Shared round-robins between consumers'), async () => {
      target = make();
      const topic = uniqueTopic('shared');
      const a = await consumer({ topic, subscription: 's', subscriptionType: 'Shared', receiverQueueSize: 2 });
      const b = await consumer({ topic, subscription: 's', subscriptionType: 'Shared', receiverQueueSize: 2 });
      await publish(target, topic, Array.from({ length: 4 }, (_, i) => ({ data: Buffer.from(String(i)) })));
      const [fromA, fromB] = [await receiveAll(a, 4), await receiveAll(b, 4)];
      expect(fromA.length).toBeGreaterThan(0);
      expect(fromB.length).toBeGreaterThan(0);
      expect(fromA.length + fromB.length).toBe(4);
    });

    it(t('KeyShared sends every message of a key to the same consumer'), async () => {
      target = make();
      const topic = uniqueTopic('keyshared');
      const a = await consumer({ topic, subscription: 's', subscriptionType: 'KeyShared' });
      const b = await consumer({ topic, subscription: 's', subscriptionType: 'KeyShared' });
      const keys = Array.from({ length: 12 }, (_, i) => `key-${String(i)}`);
      await publish(target, topic, keys.flatMap((key) => [1, 2, 3].map((n) => ({ data: Buffer.from(`${key}:${String(n)}`), partitionKey: key }))));
      const [fromA, fromB] = [await receiveAll(a, 36), await receiveAll(b, 36)];
      const keysOf = (messages: PulsarMessage[]): Set<string> => new Set(messages.map((m) => m.getPartitionKey()));
      const shared = [...keysOf(fromA)].filter((key) => keysOf(fromB).has(key));
      expect(shared).toEqual([]);
      expect(fromA.length + fromB.length).toBe(36);
      for (const messages of [fromA, fromB]) {
        for (const key of keysOf(messages)) {
          expect(messages.filter((m) => m.getPartitionKey() === key).map((m) => m.getData().toString())).toEqual([1, 2, 3].map((n) => `${key}:${String(n)}`));
        }
      }
    });

    it(t('Failover feeds only the active consumer; when it closes, the standby takes over its unacknowledged messages'), async () => {
      target = make();
      const topic = uniqueTopic('failover');
      const active = await consumer({ topic, subscription: 's', subscriptionType: 'Failover', consumerName: 'a-active' });
      const standby = await consumer({ topic, subscription: 's', subscriptionType: 'Failover', consumerName: 'b-standby' });
      await publish(target, topic, [{ data: Buffer.from('1') }, { data: Buffer.from('2') }]);
      const first = await active.receive(5_000);
      expect(first.getData().toString()).toBe('1');
      await expect(standby.receive(300)).rejects.toThrow(/TimeOut/);
      await active.close();
      const taken = await receiveAll(standby, 2, 3_000);
      expect(taken.map((m) => m.getData().toString())).toEqual(['1', '2']);
    });

    it(t('a listener gets messages pushed without calling receive'), async () => {
      target = make();
      const topic = uniqueTopic('listener');
      const got: string[] = [];
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      await consumer({
        topic,
        subscription: 's',
        subscriptionType: 'Shared',
        listener: (message, from) => {
          got.push(message.getData().toString());
          void from.acknowledge(message);
          if (got.length === 3) done();
        },
      });
      await publish(target, topic, ['a', 'b', 'c'].map((text) => ({ data: Buffer.from(text) })));
      await all;
      expect(got).toEqual(['a', 'b', 'c']);
    });

    it(t('Exclusive refuses a second consumer on the subscription'), async () => {
      target = make();
      const topic = uniqueTopic('exclusive');
      await consumer({ topic, subscription: 's', subscriptionType: 'Exclusive' });
      await expect(consumer({ topic, subscription: 's', subscriptionType: 'Exclusive' })).rejects.toThrow(/ConsumerBusy/);
    });

    it(t('the client spells Key_Shared as KeyShared: an unknown type name silently subscribes Exclusive'), async () => {
      target = make();
      const topic = uniqueTopic('bad-type');
      await consumer({ topic, subscription: 's', subscriptionType: 'Key_Shared' as 'KeyShared' });
      await expect(consumer({ topic, subscription: 's', subscriptionType: 'Key_Shared' as 'KeyShared' })).rejects.toThrow(/ConsumerBusy/);
    });

    it(t('the dead-letter policy does nothing on Exclusive: a nack redelivers every unacknowledged message, redelivery count 0, never dead-lettered'), async () => {
      target = make();
      const topic = uniqueTopic('dlq-exclusive');
      const dlq = uniqueTopic('dlq-exclusive-out');
      const c = await consumer({ topic, subscription: 's', subscriptionType: 'Exclusive', nAckRedeliverTimeoutMs: 50, deadLetterPolicy: { deadLetterTopic: dlq, maxRedeliverCount: 1 } });
      await publish(target, topic, [{ data: Buffer.from('poison') }, { data: Buffer.from('held') }]);
      const seen: string[] = [];
      const counts: number[] = [];
      for (let round = 0; round < 4; round += 1) {
        const poison = await c.receive(3_000);
        const held = await c.receive(3_000);
        seen.push(poison.getData().toString(), held.getData().toString());
        counts.push(poison.getRedeliveryCount());
        // Only the first is nacked; the second is held unacknowledged and comes back with it.
        c.negativeAcknowledge(poison);
      }
      expect(seen).toEqual(['poison', 'held', 'poison', 'held', 'poison', 'held', 'poison', 'held']);
      expect(counts).toEqual([0, 0, 0, 0]);
      const reader = await consumer({ topic: dlq, subscription: 'r', subscriptionType: 'Exclusive' });
      expect(await receiveAll(reader, 1, 500)).toEqual([]);
    });

    it(t('a nack followed by close within the nack delay: the broker redelivers the message to another consumer at once'), async () => {
      target = make();
      const topic = uniqueTopic('nack-close');
      const first = await consumer({ topic, subscription: 's', subscriptionType: 'Shared', nAckRedeliverTimeoutMs: 60_000, receiverQueueSize: 1 });
      await publish(target, topic, [{ data: Buffer.from('released') }]);
      const message = await first.receive(5_000);
      first.negativeAcknowledge(message);
      await first.close();
      const second = await consumer({ topic, subscription: 's', subscriptionType: 'Shared' });
      const startedAt = Date.now();
      const again = await second.receive(10_000);
      expect(again.getData().toString()).toBe('released');
      expect(Date.now() - startedAt, 'long before the 60 s nack delay').toBeLessThan(10_000);
    });

    it(t('the dead-letter policy moves a message redelivered maxRedeliverCount times to the dead-letter topic'), async () => {
      target = make();
      const topic = uniqueTopic('dlq-policy');
      const dlq = uniqueTopic('dlq-policy-out');
      const c = await consumer({ topic, subscription: 's', subscriptionType: 'Shared', nAckRedeliverTimeoutMs: 50, deadLetterPolicy: { deadLetterTopic: dlq, maxRedeliverCount: 2 } });
      await publish(target, topic, [{ data: Buffer.from('poison') }]);
      const counts: number[] = [];
      for (;;) {
        const message = await c.receive(1_500).catch(() => undefined);
        if (message === undefined) break;
        counts.push(message.getRedeliveryCount());
        c.negativeAcknowledge(message);
      }
      expect(counts).toEqual([0, 1, 2]);
      const reader = await consumer({ topic: dlq, subscription: 'r', subscriptionType: 'Exclusive' });
      const [dead] = await receiveAll(reader, 1, 3_000);
      expect(dead?.getData().toString()).toBe('poison');
    });
  });
}
