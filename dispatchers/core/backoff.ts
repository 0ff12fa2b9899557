/** Capped exponential backoff with "equal jitter": the n-th delay lies in [d/2, d], d = min(max, initial·2^(n-1)). */
export function backoffDelay(
  retry: number,
  options: { readonly initialDelayMs: number; readonly maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(retry - 1, 0), 52);
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

const DELTA_SECONDS = /^\d+$/;
// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept.
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

function httpDate(text: string): number | undefined {
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) {
    const parsed = Date.parse(text);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  if (ASCTIME_DATE.test(text)) {
    // asctime carries no zone; HTTP dates are always UTC.
    const parsed = Date.parse(`${text} GMT`);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

/**
 * Milliseconds a `Retry-After` value asks to wait: a non-negative integer of seconds or an
 * HTTP-date (RFC 9110), else `undefined` (absent or anything else, e.g. `1.5` or `-1`), so the
 * caller falls back to its computed backoff. Callers cap the result themselves.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (DELTA_SECONDS.test(text)) return Math.min(Number(text) * 1000, Number.MAX_SAFE_INTEGER);
  const date = httpDate(text);
  if (date === undefined) return undefined;
  return Math.max(0, date - nowMs);
}
