import { createInbox } from 'nats';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { Slots } from '../core/slots.js';
import type { Logger } from '../core/types.js';

/** One ack or term on its way, until JetStream confirms it or the attempts run out. */
interface Pending {
  readonly subject: string;
  readonly payload: Uint8Array;
  /** `<stream>:<sequence>`, for the log line when it is given up. */
  readonly id: string;
  attempt: number;
  /** When this attempt counts as lost (epoch ms). */
  deadline: number;
  /** Where it waits in `pending`, and the token of its current attempt (both in the reply subject). */
  slot: number;
  token: string;
}

export interface ConfirmedAcksOptions {
  readonly attempts: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * JetStream acks and terms sent as requests and resent until the server confirms them (a
 * fire-and-forget ack written just before a disconnect is lost, and the message would come back
 * after the ack wait). Unlike one `nc.request` per ack, everything queued in one event-loop turn
 * is published together at the end of it — nats.js writes what it buffered in one turn with one
 * socket write — and all replies arrive on one subscription, with one shared timer for timeouts.
 */
export class ConfirmedAcks {
  private readonly nc: NatsConnection;
  private readonly options: ConfirmedAcksOptions;
  private readonly inbox: string;
  private readonly subscription: Subscription;
  private readonly queued: Pending[] = [];
  private readonly pending = new Slots<Pending>();
  private nextToken = 0;
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];

  constructor(nc: NatsConnection, options: ConfirmedAcksOptions) {
    this.nc = nc;
    this.options = options;
    this.inbox = createInbox();
    this.subscription = nc.subscribe(`${this.inbox}.*`, { callback: (error, msg) => { if (error === null) this.onReply(msg); } });
  }

  /** Queues `payload` (`+ACK`, `+TERM`) for the message whose ack subject is `subject`; sent at the end of this loop turn. */
  send(subject: string, payload: Uint8Array, id: string): void {
    this.enqueue({ subject, payload, id, attempt: 1, deadline: 0, slot: -1, token: '' });
  }

  private enqueue(entry: Pending): void {
    this.queued.push(entry);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => { this.flush(); });
  }

  /** Acks and terms queued or awaiting their confirmation. */
  get size(): number {
    return this.queued.length + this.pending.size;
  }

  /** Resolves once everything sent so far was confirmed or given up. */
  settled(): Promise<void> {
    this.flush();
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => { this.idle.push(resolve); });
  }

  /** Publishes what was queued; called once per loop turn, and by settled(). */
  flush(): void {
    this.flushScheduled = false;
    if (this.queued.length === 0) return;
    const now = Date.now();
    for (const entry of this.queued.splice(0)) {
      if (this.nc.isClosed()) {
        this.giveUp(entry, 'the connection is closed');
        continue;
      }
      entry.token = (this.nextToken += 1).toString(36);
      entry.deadline = now + this.options.timeoutMs;
      entry.slot = this.pending.add(entry);
      try {
        this.nc.publish(entry.subject, entry.payload, { reply: `${this.inbox}.${entry.slot.toString(36)}-${entry.token}` });
      } catch (error) {
        // Left pending: the timer resends it after the timeout, as for an unanswered one.
        this.options.logger.debug({ id: entry.id, err: errorText(error) }, 'JetStream ack not written; will resend');
      }
    }
    this.timer ??= setInterval(() => { this.expire(); }, Math.max(50, Math.floor(this.options.timeoutMs / 4))).unref();
  }

  private onReply(msg: Msg): void {
    const reply = msg.subject.slice(this.inbox.length + 1);
    const dash = reply.indexOf('-');
    const entry = this.pending.at(Number.parseInt(reply.slice(0, dash), 36));
    // Also a late reply to an attempt that was resent since: only the current attempt's token counts.
    if (entry === undefined || dash < 0 || entry.token !== reply.slice(dash + 1)) return;
    this.pending.delete(entry.slot, entry);
    // No responders (status 503, empty body): nothing took the ack, so it counts as not confirmed.
    if (msg.data.length === 0 && msg.headers?.code === 503) this.retry(entry, 'no responders');
    this.checkIdle();
  }

  private expire(): void {
    const now = Date.now();
    for (const entry of this.pending.snapshot()) {
      if (this.nc.isClosed()) {
        this.pending.delete(entry.slot, entry);
        this.giveUp(entry, 'the connection is closed');
      } else if (entry.deadline <= now) {
        this.pending.delete(entry.slot, entry);
        this.retry(entry, `no confirmation within ${String(this.options.timeoutMs)} ms`);
      }
    }
    if (this.queued.length > 0) this.flush();
    this.checkIdle();
  }

  private retry(entry: Pending, why: string): void {
    if (entry.attempt >= this.options.attempts) {
      this.giveUp(entry, why);
      return;
    }
    entry.attempt += 1;
    this.enqueue(entry);
  }

  private giveUp(entry: Pending, why: string): void {
    this.options.logger.warn({ id: entry.id, err: why }, 'JetStream did not confirm the ack; it may deliver the message again');
  }

  private checkIdle(): void {
    if (this.size > 0) return;
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Stops listening for confirmations (after settled(), before the connection closes). */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.subscription.unsubscribe();
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
