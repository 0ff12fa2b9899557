/**
 * Values held for a short while — one per message or request in progress — in array slots that are
 * reused as values leave: `add` returns the slot, `delete(slot, value)` frees it.
 *
 * Why not a Set or Map: with one add and one delete of a fresh object per request, a long-lived Set
 * made V8 grow its young generation and promote what it held; garbage collection took 1.4–1.6 s per
 * 120,000 requests (18 full collections) instead of 0.4 s (2) with these slots, the same as a client
 * that keeps no such collection at all (`http-client` measured alone against a local server).
 */
export class Slots<T> {
  private readonly values: (T | undefined)[] = [];
  private readonly free: number[] = [];
  private count = 0;

  /** Holds `value`; the returned slot is what `delete` takes. */
  add(value: T): number {
    const slot = this.free.pop() ?? this.values.length;
    this.values[slot] = value;
    this.count += 1;
    return slot;
  }

  /** Lets go of `value` if `slot` still holds it (a second delete, or one after `clear`, does nothing). */
  delete(slot: number, value: T): void {
    if (this.values[slot] !== value || value === undefined) return;
    this.values[slot] = undefined;
    this.free.push(slot);
    this.count -= 1;
  }

  /** What `slot` holds now. */
  at(slot: number): T | undefined {
    return this.values[slot];
  }

  get size(): number {
    return this.count;
  }

  /** The values held now, in no particular order (a copy: callbacks may add or delete). */
  snapshot(): T[] {
    const held: T[] = [];
    for (const value of this.values) if (value !== undefined) held.push(value);
    return held;
  }

  clear(): void {
    this.values.length = 0;
    this.free.length = 0;
    this.count = 0;
  }
}
