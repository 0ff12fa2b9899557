import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../controller/clock.js';
import { WorkQueue } from '../../controller/work-queue.js';

const settled = async (): Promise<void> => {
  await new Promise((resolve) => setImmediate(resolve));
};

describe('WorkQueue', () => {
  it('hands out a key added twice only once', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
  });

  it('never gives a key being processed to a second worker, and requeues it when done', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const first = await q.get();
    q.add('a');
    let second: string | undefined = 'none';
    void q.get().then((k) => (second = k));
    await settled();
    expect(second).toBe('none');
    q.done(first ?? '');
    await settled();
    expect(second).toBe('a');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const got = q.get();
    q.add('x');
    expect(await got).toBe('x');
  });

  it('backs off a failing key exponentially up to the cap and forgets on success', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 10, maxDelayMs: 50 });
    expect([1, 2, 3, 4, 5].map(() => q.addRateLimited('k'))).toEqual([10, 20, 40, 50, 50]);
    expect(q.numRequeues('k')).toBe(5);
    q.forget('k');
    expect(q.numRequeues('k')).toBe(0);
    expect(q.addRateLimited('k')).toBe(10);
  });

  it('adds a rate-limited key only after its delay', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 100, maxDelayMs: 1000 });
    q.addRateLimited('k');
    expect(q.length).toBe(0);
    clock.advance(99);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
  });

  it('keeps the earliest of two delayed adds for one key', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('k', 1000);
    q.addAfter('k', 100);
    q.addAfter('k', 5000);
    clock.advance(100);
    expect(q.length).toBe(1);
    clock.advance(10_000);
    expect(q.length).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it('drains queued keys on shutdown, refuses new ones and cancels delayed ones', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('a');
    q.add('b');
    q.addAfter('c', 50);
    q.shutDown();
    q.add('d');
    clock.advance(100);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(await q.get()).toBeUndefined();
  });

  it('releases idle workers on shutdown', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
  });

  it('waits for in-process keys before a draining shutdown resolves', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const key = await q.get();
    let drained = false;
    void q.shutDownWithDrain().then(() => (drained = true));
    await settled();
    expect(drained).toBe(false);
    q.done(key ?? '');
    await settled();
    expect(drained).toBe(true);
  });

  it('can drop queued keys on shutdown, waiting only for those in process', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('c');
    const key = await q.get();
    let drained = false;
    void q.shutDownWithDrain({ discardQueued: true }).then(() => (drained = true));
    await settled();
    expect(drained).toBe(false);
    q.done(key ?? '');
    await settled();
    expect(drained).toBe(true);
    expect(await q.get()).toBeUndefined();
  });

  it('still processes a key changed while it was in process when shutdown came', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const key = await q.get();
    q.add('a');
    q.shutDown();
    q.done(key ?? '');
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(await q.get()).toBeUndefined();
  });
});
