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
