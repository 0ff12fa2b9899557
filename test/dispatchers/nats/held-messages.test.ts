import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeldMessages } from '../../../dispatchers/nats/held-messages.js';

afterEach(() => {
  vi.useRealTimers();
});

function counter(): { working(): void; count: number } {
  const msg = { count: 0, working(): void { msg.count += 1; } };
  return msg;
}

describe('HeldMessages (one keep-alive timer for every unsettled JetStream message)', () => {
  it('calls working() on every held message once per period, and no more on one deleted', () => {
    vi.useFakeTimers();
    const held = new HeldMessages(1_000);
    const [a, b, c] = [counter(), counter(), counter()];
    held.add(7, a);
    const three = held.add(3, b);
    vi.advanceTimersByTime(400);
    held.add(9, c);
    vi.advanceTimersByTime(600);
    // The first tick reaches all three, also c, held for only 600 ms: none waits more than a period.
    expect([a.count, b.count, c.count]).toEqual([1, 1, 1]);
    held.delete(three);
    held.delete(three); // a second delete of the same message changes nothing
    vi.advanceTimersByTime(1_000);
    expect([a.count, b.count, c.count]).toEqual([2, 1, 2]);
    expect(held.oldest()).toBe(7);
    expect(held.size).toBe(2);
    held.stop();
    vi.advanceTimersByTime(5_000);
    expect([a.count, c.count]).toEqual([2, 2]);
  });

  it('uses one timer however many messages come and go', () => {
    vi.useFakeTimers();
    const held = new HeldMessages(1_000);
    for (let sequence = 1; sequence <= 500; sequence += 1) {
      held.delete(held.add(sequence, counter()));
    }
    expect(vi.getTimerCount()).toBe(1);
    expect(held.oldest()).toBeUndefined();
    held.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
