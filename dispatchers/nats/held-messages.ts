import { Slots } from '../core/slots.js';

/** What HeldMessages needs of a JetStream message: the in-progress ack (`+WPI`). */
export interface Workable {
  working(): void;
}

/** A held message, as `add` returns it and `delete` takes it. */
export interface Held<M extends Workable = Workable> {
  readonly sequence: number;
  readonly msg: M;
  slot: number;
}

/**
 * The JetStream messages this dispatcher took and has not settled yet (waiting for a slot, in an
 * attempt or retrying), by stream sequence. One shared timer tells JetStream every `periodMs` that
 * each of them is still being worked on, so none is redelivered while the core retries — instead of
 * a timer created and cleared per message. Every message gets its `working()` at most `periodMs`
 * after it was added and then every `periodMs`: keep `periodMs` well below the ack wait.
 */
export class HeldMessages<M extends Workable = Workable> {
  private readonly messages = new Slots<Held<M>>();
  private readonly periodMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(periodMs: number) {
    this.periodMs = periodMs;
  }

  add(sequence: number, msg: M): Held<M> {
    const held: Held<M> = { sequence, msg, slot: -1 };
    held.slot = this.messages.add(held);
    // Started once and left running (a no-op when nothing is held): no timer churn per message.
    this.timer ??= setInterval(() => { this.tick(); }, this.periodMs).unref();
    return held;
  }

  delete(held: Held<M>): void {
    this.messages.delete(held.slot, held);
  }

  get size(): number {
    return this.messages.size;
  }

  /** The lowest stream sequence held, if any. */
  oldest(): number | undefined {
    let lowest: number | undefined;
    for (const { sequence } of this.messages.snapshot()) if (lowest === undefined || sequence < lowest) lowest = sequence;
    return lowest;
  }

  private tick(): void {
    // All in one loop turn: nats.js writes them with one socket write.
    for (const { msg } of this.messages.snapshot()) msg.working();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
