import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelAcks } from '../../../dispatchers/rabbitmq/channel-acks.js';
import type { AckChannel, Tagged } from '../../../dispatchers/rabbitmq/channel-acks.js';

const delivery = (tag: number): Tagged => ({ fields: { deliveryTag: tag } });

/**
 * A channel that acknowledges as RabbitMQ does: `multiple` acks every outstanding tag up to the
 * given one, a single ack or nack of a tag that is not outstanding is a channel error
 * (PRECONDITION_FAILED - unknown delivery tag). It records every write.
 */
class BrokerChannel implements AckChannel<Tagged> {
  readonly outstanding = new Set<number>();
  readonly writes: { op: 'ack' | 'nack'; tag: number; multiple: boolean; covered: number[] }[] = [];

  deliver(tag: number): Tagged {
    this.outstanding.add(tag);
    return delivery(tag);
  }

  ack(message: Tagged, allUpTo = false): void {
    this.settle('ack', message.fields.deliveryTag, allUpTo);
  }

  nack(message: Tagged, allUpTo = false): void {
    this.settle('nack', message.fields.deliveryTag, allUpTo);
  }

  private settle(op: 'ack' | 'nack', tag: number, multiple: boolean): void {
    const covered = multiple ? [...this.outstanding].filter((t) => t <= tag) : [tag];
    if (!multiple && !this.outstanding.has(tag)) throw new Error(`PRECONDITION_FAILED - unknown delivery tag ${String(tag)}`);
    for (const t of covered) this.outstanding.delete(t);
    this.writes.push({ op, tag, multiple, covered });
  }
}

const failOnError = (error: unknown): never => {
  throw error;
};

describe('ChannelAcks (RabbitMQ acks coalesced per loop turn)', () => {
  it('acks the settled prefix below the lowest unsettled tag with one multiple ack, the rest one by one', () => {
    const channel = new BrokerChannel();
    const acks = new ChannelAcks(channel, failOnError);
    const messages = [1, 2, 3, 4, 5, 6].map((tag) => channel.deliver(tag));
    for (const message of messages) acks.delivered(message);
    // 4 is still in an attempt; 1–3 and 5–6 settled in this turn.
    for (const tag of [3, 1, 2, 6, 5]) acks.ack(messages[tag - 1] ?? delivery(0));
    acks.flush();
    expect(channel.writes).toEqual([
      { op: 'ack', tag: 3, multiple: true, covered: [1, 2, 3] },
      { op: 'ack', tag: 5, multiple: false, covered: [5] },
      { op: 'ack', tag: 6, multiple: false, covered: [6] },
    ]);
    expect([...channel.outstanding]).toEqual([4]);
    expect(acks.outstanding).toBe(1);
  });

  it('never lets a multiple ack cover an unsettled delivery, even the lowest one', () => {
    const channel = new BrokerChannel();
    const acks = new ChannelAcks(channel, failOnError);
    const messages = [1, 2, 3].map((tag) => channel.deliver(tag));
    for (const message of messages) acks.delivered(message);
    acks.ack(messages[1] ?? delivery(0));
    acks.ack(messages[2] ?? delivery(0));
    acks.flush();
    expect(channel.writes.every((write) => !write.multiple)).toBe(true);
    expect([...channel.outstanding]).toEqual([1]);
  });

  it('writes nothing before the end of the loop turn, then all of that turn in one flush', async () => {
    const channel = new BrokerChannel();
    const acks = new ChannelAcks(channel, failOnError);
    const messages = [1, 2, 3, 4].map((tag) => channel.deliver(tag));
    for (const message of messages) acks.delivered(message);
    for (const message of messages) acks.ack(message);
    expect(channel.writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(channel.writes).toEqual([{ op: 'ack', tag: 4, multiple: true, covered: [1, 2, 3, 4] }]);
  });

  it('writes a nack at once, and a later multiple ack does not trip over the nacked tag', () => {
    const channel = new BrokerChannel();
    const acks = new ChannelAcks(channel, failOnError);
    const messages = [1, 2, 3].map((tag) => channel.deliver(tag));
    for (const message of messages) acks.delivered(message);
    acks.nack(messages[0] ?? delivery(0));
    expect(channel.writes).toEqual([{ op: 'nack', tag: 1, multiple: false, covered: [1] }]);
    acks.ack(messages[1] ?? delivery(0));
    acks.ack(messages[2] ?? delivery(0));
    acks.flush();
    expect(channel.writes.at(-1)).toEqual({ op: 'ack', tag: 3, multiple: true, covered: [2, 3] });
    expect(channel.outstanding.size).toBe(0);
  });

  it('writes nothing once abandoned (the broker requeued the channel\'s deliveries)', () => {
    const channel = new BrokerChannel();
    const acks = new ChannelAcks(channel, failOnError);
    const message = channel.deliver(1);
    acks.delivered(message);
    acks.ack(message);
    acks.abandon();
    acks.flush();
    acks.nack(message);
    expect(channel.writes).toEqual([]);
  });

  it('reports a write the channel refuses instead of throwing', () => {
    const refused: number[] = [];
    const acks = new ChannelAcks<Tagged>({ ack: () => { throw new Error('Channel closed'); }, nack: () => undefined }, (_error, message) => { refused.push(message.fields.deliveryTag); });
    const message = delivery(1);
    acks.delivered(message);
    acks.ack(message);
    acks.flush();
    expect(refused).toEqual([1]);
  });

  it('property: over any interleaving, every ack covers only settled deliveries, and all settled ones end up acked', () => {
    type Step = { kind: 'deliver' } | { kind: 'ack'; pick: number } | { kind: 'nack'; pick: number } | { kind: 'turn' };
    const step = fc.oneof(
      fc.constant<Step>({ kind: 'deliver' }),
      fc.nat().map((pick): Step => ({ kind: 'ack', pick })),
      fc.nat().map((pick): Step => ({ kind: 'nack', pick })),
      fc.constant<Step>({ kind: 'turn' }),
    );
    fc.assert(fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
      const channel = new BrokerChannel();
      const acks = new ChannelAcks(channel, failOnError);
      let nextTag = 1;
      /** Delivered to the dispatcher and not settled yet (in the pipeline). */
      const inPipeline: Tagged[] = [];
      const settledForAck = new Set<number>();
      for (const s of steps) {
        if (s.kind === 'deliver') {
          const message = channel.deliver(nextTag);
          nextTag += 1;
          acks.delivered(message);
          inPipeline.push(message);
        } else if (s.kind === 'turn') {
          acks.flush();
        } else if (inPipeline.length > 0) {
          const [message] = inPipeline.splice(s.pick % inPipeline.length, 1);
          if (message === undefined) continue;
          if (s.kind === 'ack') {
            settledForAck.add(message.fields.deliveryTag);
            acks.ack(message);
          } else {
            acks.nack(message);
          }
        }
        // The invariant: nothing still in the pipeline was acknowledged by any write so far.
        for (const message of inPipeline) expect(channel.outstanding.has(message.fields.deliveryTag)).toBe(true);
      }
      acks.flush();
      for (const write of channel.writes.filter((w) => w.op === 'ack')) {
        for (const tag of write.covered) expect(settledForAck.has(tag)).toBe(true);
      }
      expect([...channel.outstanding].sort((a, b) => a - b)).toEqual(inPipeline.map((m) => m.fields.deliveryTag).sort((a, b) => a - b));
    }), { numRuns: 500 });
  });
});
