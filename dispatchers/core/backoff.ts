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

/**
 * Milliseconds a `Retry-After` value asks to wait (delta-seconds or an HTTP date), or
 * `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
