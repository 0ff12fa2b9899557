/** Counting what a function received when the test published `{"n":i}` for i in [0, expected). */
import type { RecordedRequest } from './function-server.js';

/** The number a request carried, as a string (the key `waitForDistinctDelivered` counts by). */
export const numberOf = (request: RecordedRequest): string => String((JSON.parse(request.text) as { n: number }).n);

/** The numbers never delivered with a 2xx, how many deliveries were duplicates, and how many distinct numbers arrived. */
export function tally(delivered: readonly RecordedRequest[], expected: number): { missing: number[]; duplicates: number; distinct: number } {
  const counts = new Map<number, number>();
  for (const request of delivered) {
    const n = Number(numberOf(request));
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  const missing: number[] = [];
  for (let i = 0; i < expected; i += 1) if (!counts.has(i)) missing.push(i);
  let duplicates = 0;
  for (const count of counts.values()) duplicates += count - 1;
  return { missing, duplicates, distinct: counts.size };
}

/**
 * Deliveries (2xx, in arrival order) that came after a higher number had already been delivered:
 * 0 when the function saw the stream in order (a duplicate of an earlier number counts too).
 */
export function orderViolations(delivered: readonly RecordedRequest[]): number {
  let highest = -1;
  let violations = 0;
  for (const request of delivered) {
    const n = Number(numberOf(request));
    if (n <= highest) violations += 1;
    else highest = n;
  }
  return violations;
}
