import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from '../../../dispatchers/core/backoff.js';
import { isRetryable } from '../../../dispatchers/core/classify.js';
import type { AttemptOutcome } from '../../../dispatchers/core/classify.js';
import { DEFAULT_RETRY_WHEN, parseRetryWhen } from '../../../dispatchers/core/config.js';

const defaults = parseRetryWhen(DEFAULT_RETRY_WHEN.split(','), () => undefined);
const status = (code: number): AttemptOutcome => ({ kind: 'response', status: code });

describe('outcome classification', () => {
  it.each<[string, AttemptOutcome, boolean]>([
    ['a network error', { kind: 'network', error: new Error('ECONNREFUSED') }, true],
    ['a timeout', { kind: 'timeout' }, true],
    ['408', status(408), true],
    ['429', status(429), true],
    ['500', status(500), true],
    ['503', status(503), true],
    ['400', status(400), false],
    ['404', status(404), false],
    ['422', status(422), false],
    ['301', status(301), false],
  ])('by default, %s is retryable: %s', (_name, outcome, expected) => {
    expect(isRetryable(outcome, defaults)).toBe(expected);
  });

  it('retries exactly what DELIVERY_RETRY_WHEN lists', () => {
    const on = parseRetryWhen(['404', 'timeout'], () => undefined);
    expect(isRetryable(status(404), on)).toBe(true);
    expect(isRetryable(status(503), on)).toBe(false);
    expect(isRetryable({ kind: 'network', error: new Error('x') }, on)).toBe(false);
    expect(isRetryable({ kind: 'timeout' }, on)).toBe(true);
    expect(isRetryable(status(400), parseRetryWhen(['4xx'], () => undefined))).toBe(true);
  });

  it('names an unknown DELIVERY_RETRY_WHEN item', () => {
    const bad: string[] = [];
    parseRetryWhen(['network', 'sometimes', '999'], (item) => bad.push(item));
    expect(bad).toEqual(['sometimes', '999']);
  });
});

describe('backoff', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles from the initial delay and never exceeds the cap', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 40].map((retry) => backoffDelay(retry, options, () => 1));
    expect(ceilings).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('jitters each delay within [half, full] of its ceiling', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(200);
    expect(backoffDelay(3, options, () => 0.5)).toBe(300);
    for (let i = 0; i < 200; i += 1) {
      const delay = backoffDelay(10, options);
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThanOrEqual(1_000);
    }
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('reads only a non-negative integer or an HTTP-date as Retry-After, nothing Date.parse merely accepts', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    for (const text of ['1.5', '-1', '1e3', '2026-01-01T00:00:30Z', 'Thu Jan 01 2026', '0x10', ' ']) {
      expect(parseRetryAfter(text, now), text).toBeUndefined();
    }
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('Thursday, 01-Jan-26 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thu Jan  1 00:00:30 2026', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 'a date in the past means now').toBe(0);
  });
});
