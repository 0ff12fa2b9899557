/**
 * The deadlines of the attempts in progress on one timer, armed for the earliest of them, instead
 * of a timer set and cleared per attempt. An attempt that ends first cancels its deadline and the
 * timer is left alone: when it fires with nothing due it re-arms for the earliest deadline left, so
 * it fires about once per timeout period however many attempts come and go. Deadlines sit in array
 * slots reused as attempts leave (no object per attempt; see Slots for why).
 *
 * The timer is unref'd: it never keeps a process alive (an attempt's own socket does).
 */
export class Deadlines {
  private readonly expiries: ((() => void) | undefined)[] = [];
  private readonly dueAt: number[] = [];
  private readonly free: number[] = [];
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = Number.POSITIVE_INFINITY;

  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  /** Calls `expire` once `ms` milliseconds have passed, unless `cancel` came first; returns what `cancel` takes. */
  add(ms: number, expire: () => void): number {
    const slot = this.free.pop() ?? this.expiries.length;
    const at = this.now() + ms;
    this.expiries[slot] = expire;
    this.dueAt[slot] = at;
    if (at < this.timerDueAt) this.arm(at);
    return slot;
  }

  /** Drops the deadline in `slot` if it still belongs to `expire` (a second cancel does nothing). */
  cancel(slot: number, expire: () => void): void {
    if (this.expiries[slot] !== expire) return;
    this.expiries[slot] = undefined;
    this.free.push(slot);
  }

  /** Drops every deadline and the timer. */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = Number.POSITIVE_INFINITY;
    this.expiries.length = 0;
    this.dueAt.length = 0;
    this.free.length = 0;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerDueAt = at;
    this.timer = setTimeout(() => { this.fire(); }, Math.max(1, Math.ceil(at - this.now())));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDueAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    const expired: (() => void)[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (let slot = 0; slot < this.expiries.length; slot += 1) {
      const expire = this.expiries[slot];
      if (expire === undefined) continue;
      const at = this.dueAt[slot] ?? 0;
      if (at <= now) {
        this.expiries[slot] = undefined;
        this.free.push(slot);
        expired.push(expire);
      } else if (at < next) {
        next = at;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
    for (const expire of expired) expire();
  }
}
