/**
 * A work queue with client-go semantics: a key waits at most once (dedupe), is never handed to
 * two workers at once, backs off exponentially per key on failure until forgotten, can be added
 * after a delay, and drains what is queued when shut down.
 */
import { systemClock, type Clock, type TimerHandle } from './clock.js';

export interface WorkQueueOptions {
  clock?: Clock;
  /** First retry delay of a failing key. */
  baseDelayMs?: number;
  /** Cap on a failing key's retry delay. */
  maxDelayMs?: number;
}

export class WorkQueue {
  readonly #clock: Clock;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, { at: number; timer: TimerHandle }>();
  #waiters: ((key: string | undefined) => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 300_000;
    if (!(this.#baseDelayMs > 0)) throw new RangeError(`baseDelayMs must be > 0, got ${String(this.#baseDelayMs)}`);
    if (!(this.#maxDelayMs >= this.#baseDelayMs)) {
      throw new RangeError(`maxDelayMs must be >= baseDelayMs, got ${String(this.#maxDelayMs)}`);
    }
  }

  /** Keys waiting to be handed out (not counting delayed or in-process keys). */
  get length(): number {
    return this.#queue.length;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Queues `key` unless it is already waiting; a key being processed is queued again when done. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#processing.add(key);
      this.#dirty.delete(key);
      waiter(key);
      return;
    }
    this.#queue.push(key);
  }

  /** Queues `key` after `delayMs`; of several pending delays for one key the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing !== undefined) {
      if (existing.at <= at) return;
      existing.timer.cancel();
    }
    const timer = this.#clock.setTimer(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.#delayed.set(key, { at, timer });
  }

  /** Queues `key` after its next backoff delay (base·2^failures, capped) and counts the failure. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = Math.min(this.#baseDelayMs * 2 ** failures, this.#maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Failures counted for `key` since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Clears `key`'s backoff (call after a successful reconcile). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** The next key to process, or `undefined` once shut down and drained. Call `done(key)` after. */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) {
        this.#dirty.delete(key);
        this.#processing.add(key);
        waiter(key);
      } else {
        // still queued during shutdown: a change seen while it was processing must not be lost
        this.#queue.push(key);
      }
    }
    this.#notifyIdle();
  }

  /** Stops accepting keys and cancels delayed ones; queued keys are still handed out (drain). */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) timer.cancel();
    this.#delayed.clear();
    if (this.#queue.length === 0) {
      for (const waiter of this.#waiters) waiter(undefined);
      this.#waiters = [];
    }
    this.#notifyIdle();
  }

  /**
   * Shuts down and resolves once every queued and in-process key is done. With `discardQueued`
   * only the keys already in process are waited for; the queued ones are dropped.
   */
  shutDownWithDrain(options: { discardQueued?: boolean } = {}): Promise<void> {
    if (options.discardQueued === true) {
      for (const key of this.#queue) this.#dirty.delete(key);
      this.#queue = [];
    }
    this.shutDown();
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #idle(): boolean {
    return this.#queue.length === 0 && this.#processing.size === 0;
  }

  #notifyIdle(): void {
    if (!this.#shuttingDown) return;
    if (this.#queue.length === 0) {
      for (const waiter of this.#waiters) waiter(undefined);
      this.#waiters = [];
    }
    if (!this.#idle()) return;
    for (const resolve of this.#idleWaiters) resolve();
    this.#idleWaiters = [];
  }
}
