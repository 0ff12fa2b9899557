/** Durations as Kubernetes users write them: `500ms`, `30s`, `5m`, `1h30m`, `0`. */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** True when `text` is a duration such as `500ms`, `30s`, `1m30s` or `0`. */
export function isDuration(text: string): boolean {
  return text === '0' || DURATION.test(text);
}

/** Milliseconds in `text`, or `undefined` when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/**
 * The longest duration any setting may have: 576h (24 days). Node's timers hold at most
 * 2^31-1 ms (~24.8 days); a longer delay fires after 1 ms instead, so `700h` would abort every
 * delivery attempt at once.
 */
export const MAX_DURATION_MS = 576 * 3_600_000;
export const MAX_DURATION_TEXT = '576h';

/** Why `ms` is too long for a setting, or `undefined` when it is within {@link MAX_DURATION_MS}. */
export function durationTooLong(ms: number): string | undefined {
  return ms > MAX_DURATION_MS ? `is longer than ${MAX_DURATION_TEXT} (24 days), the longest wait a timer can hold` : undefined;
}
