import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../../dispatchers/core/deadlines.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Deadlines (every attempt\'s timeout on one timer)', () => {
  it('expires each deadline at its time and never one cancelled first', () => {
    const deadlines = new Deadlines(() => Date.now());
    const fired: string[] = [];
    const a = (): void => { fired.push('a'); };
    const b = (): void => { fired.push('b'); };
    const c = (): void => { fired.push('c'); };
    deadlines.add(100, a);
    const slotB = deadlines.add(150, b);
    deadlines.add(200, c);
    deadlines.cancel(slotB, b);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a']);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a', 'c']);
  });

  it('keeps one timer however many attempts come and go, and re-arms earlier for a shorter deadline', () => {
    const deadlines = new Deadlines(() => Date.now());
    for (let i = 0; i < 100; i += 1) {
      const expire = (): void => { throw new Error('cancelled deadline fired'); };
      deadlines.cancel(deadlines.add(30_000, expire), expire);
    }
    expect(vi.getTimerCount()).toBe(1);
    const fired: number[] = [];
    deadlines.add(50, () => fired.push(Date.now()));
    expect(vi.getTimerCount()).toBe(1);
    const start = Date.now();
    vi.advanceTimersByTime(50);
    expect(fired).toEqual([start + 50]);
    // Nothing left: the 30 s timer was replaced by the 50 ms one, which found nothing else due.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reuses the slot of a cancelled deadline, and a second cancel of it does not touch the new one', () => {
    const deadlines = new Deadlines(() => Date.now());
    const first = (): void => undefined;
    const slot = deadlines.add(100, first);
    deadlines.cancel(slot, first);
    const fired: string[] = [];
    const second = (): void => { fired.push('second'); };
    expect(deadlines.add(100, second)).toBe(slot);
    deadlines.cancel(slot, first);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['second']);
  });

  it('drops everything on clear', () => {
    const deadlines = new Deadlines(() => Date.now());
    const fired: string[] = [];
    deadlines.add(10, () => fired.push('x'));
    deadlines.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
  });
});
