import type { Msg } from 'nats';
import { Counter } from 'prom-client';
import type { AdapterContext } from '../core/types.js';

/** Core NATS: messages (and bytes) a replica buffers beyond the pipeline's `maxInFlight`. */
export function corePendingLimits(maxInFlight: number): { messages: number; bytes: number } {
  return { messages: Math.max(1_000, 16 * maxInFlight), bytes: 16 * 1024 * 1024 };
}

const SLOW_CONSUMER_DROPPED = 'kurier_dispatcher_nats_slow_consumer_dropped_total';

/**
 * The bounded buffer between a core NATS subscription and the pipeline. Core NATS cannot be told
 * to slow down: what arrives while the buffer is full is dropped (a slow consumer), counted and
 * logged, instead of piling up in memory until the process dies with all of it.
 */
export class CoreBuffer {
  private readonly messages: Msg[] = [];
  private bytes = 0;
  private readonly limits: { messages: number; bytes: number };
  private readonly dropped: Counter;
  private readonly context: AdapterContext;
  private droppedSinceLog = 0;
  private lastLog = 0;
  private wake: ((msg: Msg | undefined) => void) | undefined;
  private stopped = false;

  constructor(maxInFlight: number, context: AdapterContext) {
    this.limits = corePendingLimits(maxInFlight);
    this.context = context;
    const existing = context.registry.getSingleMetric(SLOW_CONSUMER_DROPPED);
    this.dropped = existing instanceof Counter ? existing : new Counter({
      name: SLOW_CONSUMER_DROPPED,
      help: 'Core NATS messages dropped because the dispatcher could not keep up (its buffer was full).',
      registers: [context.registry],
    });
  }

  push(msg: Msg): void {
    if (this.stopped) return;
    if (this.wake !== undefined) {
      const wake = this.wake;
      this.wake = undefined;
      wake(msg);
      return;
    }
    if (this.messages.length >= this.limits.messages || this.bytes + msg.data.length > this.limits.bytes) {
      this.drop();
      return;
    }
    this.messages.push(msg);
    this.bytes += msg.data.length;
  }

  /** The next message, or undefined once stopped. */
  next(): Promise<Msg | undefined> {
    const msg = this.messages.shift();
    if (msg !== undefined) {
      this.bytes -= msg.data.length;
      return Promise.resolve(msg);
    }
    if (this.stopped) return Promise.resolve(undefined);
    return new Promise((resolve) => { this.wake = resolve; });
  }

  /** Stops taking messages; returns how many buffered ones will never be delivered. */
  stop(): number {
    this.stopped = true;
    const lost = this.messages.length;
    this.messages.length = 0;
    this.bytes = 0;
    this.wake?.(undefined);
    this.wake = undefined;
    return lost;
  }

  private drop(): void {
    this.dropped.inc();
    this.droppedSinceLog += 1;
    const now = Date.now();
    // One line per burst (at most one every 10 s), with the count, not one per message.
    if (now - this.lastLog < 10_000) return;
    this.context.logger.warn(
      { dropped: this.droppedSinceLog, bufferedMessages: this.messages.length, limitMessages: this.limits.messages, limitBytes: this.limits.bytes },
      'core NATS slow consumer: buffer full, messages dropped',
    );
    this.lastLog = now;
    this.droppedSinceLog = 0;
  }
}
