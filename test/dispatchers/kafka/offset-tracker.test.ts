import { describe, expect, it } from 'vitest';
import { OffsetTracker } from '../../../dispatchers/kafka/offset-tracker.js';

function admitAll(tracker: OffsetTracker, topic: string, partition: number, offsets: number[]): void {
  for (const offset of offsets) expect(tracker.admit(topic, partition, String(offset))).toBe(true);
}

describe('Kafka offset tracker (pure, no broker)', () => {
  it('commits nothing before anything settled', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, [0, 1, 2]);
    expect(tracker.committable()).toEqual([]);
  });

  it('commits the offset after the last settled message of a contiguous prefix', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, [0, 1, 2]);
    tracker.settle('t', 0, '0');
    tracker.settle('t', 0, '1');
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 0, offset: '2' }]);
  });

  it('never skips an in-flight message because a later one settled', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, [0, 1, 2, 3]);
    tracker.settle('t', 0, '0');
    tracker.settle('t', 0, '2');
    tracker.settle('t', 0, '3');
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 0, offset: '1' }]);
    tracker.settle('t', 0, '1');
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 0, offset: '4' }]);
  });

  it('counts what it holds behind the oldest unsettled message, and drops it all once that one settles', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, Array.from({ length: 3_000 }, (_, i) => i));
    for (let i = 1; i < 3_000; i += 1) tracker.settle('t', 0, String(i));
    expect(tracker.uncommitted('t', 0)).toBe(3_000);
    tracker.settle('t', 0, '0');
    expect(tracker.uncommitted('t', 0)).toBe(0);
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 0, offset: '3000' }]);
  });

  it('holds the commit before a message whose dead-letter publish keeps failing (never settled)', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, [10, 11, 12]);
    tracker.settle('t', 0, '10');
    tracker.settle('t', 0, '12');
    // offset 11 is still being retried by the core: nothing past it may be committed
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 0, offset: '11' }]);
    tracker.committed([{ topic: 't', partition: 0, offset: '11' }]);
    expect(tracker.committable()).toEqual([]);
    expect(tracker.inFlight('t', 0)).toBe(1);
  });

  it('never commits past a released message, even after later ones settle', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, [0, 1, 2]);
    tracker.settle('t', 0, '0');
    tracker.release('t', 0, '1');
    tracker.settle('t', 0, '2');
    tracker.settle('t', 0, '1'); // a late settle after release changes nothing
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 0, offset: '1' }]);
    expect(tracker.inFlight('t', 0)).toBe(0);
  });

  it('tracks partitions and topics independently', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 'a', 0, [0, 1]);
    admitAll(tracker, 'a', 1, [5]);
    admitAll(tracker, 'b', 0, [7]);
    tracker.settle('a', 1, '5');
    tracker.settle('b', 0, '7');
    expect(tracker.committable()).toEqual([
      { topic: 'a', partition: 1, offset: '6' },
      { topic: 'b', partition: 0, offset: '8' },
    ]);
    expect(tracker.inFlight('a', 0)).toBe(2);
    expect(tracker.inFlight('a', 1)).toBe(0);
  });

  it('handles offset gaps (compaction, transaction markers) by admitted order, not arithmetic', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, [3, 9, 20]);
    tracker.settle('t', 0, '3');
    tracker.settle('t', 0, '9');
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 0, offset: '10' }]);
  });

  it('does not offer a commit again once the broker confirmed it', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, [0]);
    tracker.settle('t', 0, '0');
    const offsets = tracker.committable();
    tracker.committed(offsets);
    expect(tracker.committable()).toEqual([]);
    expect(tracker.committedOffset('t', 0)).toBe('1');
  });

  it('a stale commit confirmation does not move the committed offset backwards', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, [0, 1]);
    tracker.settle('t', 0, '0');
    tracker.settle('t', 0, '1');
    tracker.committed([{ topic: 't', partition: 0, offset: '2' }]);
    tracker.committed([{ topic: 't', partition: 0, offset: '1' }]);
    expect(tracker.committedOffset('t', 0)).toBe('2');
    expect(tracker.committable()).toEqual([]);
  });

  it('refuses to admit an offset it already holds (re-fetch after a rebalance)', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, [0, 1, 2]);
    tracker.settle('t', 0, '0');
    expect(tracker.admit('t', 0, '1')).toBe(false);
    expect(tracker.admit('t', 0, '2')).toBe(false);
    expect(tracker.admit('t', 0, '3')).toBe(true);
    expect(tracker.inFlight('t', 0)).toBe(3);
  });

  it('forgets revoked partitions so their late settlements are never committed', () => {
    const tracker = new OffsetTracker();
    admitAll(tracker, 't', 0, [0]);
    admitAll(tracker, 't', 1, [0]);
    const dropped = tracker.retain([{ topic: 't', partition: 1 }]);
    expect(dropped).toEqual([{ topic: 't', partition: 0 }]);
    tracker.settle('t', 0, '0');
    tracker.settle('t', 1, '0');
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 1, offset: '1' }]);
    expect(tracker.tracked()).toEqual([{ topic: 't', partition: 1 }]);
  });

  it('works with offsets beyond 2^53', () => {
    const tracker = new OffsetTracker();
    const big = 9_007_199_254_740_993n;
    admitAll(tracker, 't', 0, []);
    expect(tracker.admit('t', 0, big.toString())).toBe(true);
    tracker.settle('t', 0, big.toString());
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 0, offset: (big + 1n).toString() }]);
  });

  it('settles a long stream in any order and ends with one commit at the end', () => {
    const tracker = new OffsetTracker();
    const count = 5000;
    for (let i = 0; i < count; i += 1) tracker.admit('t', 0, String(i));
    const order = Array.from({ length: count }, (_, i) => i);
    // deterministic shuffle
    let seed = 42;
    for (let i = order.length - 1; i > 0; i -= 1) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const offset of order.slice(0, -1)) tracker.settle('t', 0, String(offset));
    const last = order[order.length - 1]!;
    expect(tracker.committable()).toEqual(last === 0 ? [] : [{ topic: 't', partition: 0, offset: String(last) }]);
    tracker.settle('t', 0, String(last));
    expect(tracker.committable()).toEqual([{ topic: 't', partition: 0, offset: String(count) }]);
    expect(tracker.inFlight('t', 0)).toBe(0);
  });
});
