/** What HeldMessages needs of a JetStream message: the in-progress ack (`+WPI`). */
export interface Workable {
  working(): void;
}

/**
 * The JetStream messages this dispatcher took and has not settled yet (waiting for a slot, in an
 * attempt or retrying), by stream sequence. One shared timer tells JetStream every `periodMs` that
 * each of them is still being worked on, so none is redelivered while the core retries — instead of
 * a timer created and cleared per message. Every message gets its `working()` at most `periodMs`
 * after it was added and then every `periodMs`: keep `periodMs` well below the ack wait.
 */
export class HeldMessages<M extends Workable = Workable> {
  private readonly messages = new Map<number, M>();
  private readonly periodMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(periodMs: number) {
    this.periodMs = periodMs;
  }

  add(sequence: number, msg: M): void {
    this.messages.set(sequence, msg);
    // Started once and left running (a no-op when nothing is held): no timer churn per message.
    this.timer ??= setInterval(() => { this.tick(); }, this.periodMs).unref();
  }

  delete(sequence: number): void {
    this.messages.delete(sequence);
  }

  get size(): number {
    return this.messages.size;
  }

  /** The lowest stream sequence held, if any. */
  oldest(): number | undefined {
    let lowest: number | undefined;
    for (const sequence of this.messages.keys()) if (lowest === undefined || sequence < lowest) lowest = sequence;
    return lowest;
  }

  private tick(): void {
    // All in one loop turn: nats.js writes them with one socket write.
    for (const msg of this.messages.values()) msg.working();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
