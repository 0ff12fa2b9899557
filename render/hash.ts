import { createHash } from 'node:crypto';
import { stableStringify } from './json.js';

/** A short hash of `value` that ignores key order: equal content, equal hash. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, 16);
}
