import pRetry, { AbortError } from 'p-retry';
import { backoffDelay, parseRetryAfter } from './backoff.js';
import { DeliveryError, isRetryable } from './classify.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { DeliveryConfig } from './config.js';
import { DEAD_LETTER_RESPONSE_LIMIT, deadLetterEnvelope } from './dead-letter.js';
import type { FunctionClient, FunctionResponse } from './http-client.js';
import { TransportError } from './http-client.js';
import type { DispatcherMetrics } from './metrics.js';
import { DeliveryOutcome } from './metrics.js';
import { redactUrl } from './redact.js';
import { Slots } from './slots.js';
import { buildHeaders, eventIdOf } from './request.js';
import { traceAttempt } from './traced-attempt.js';
import { traceContextOf } from './tracing.js';
import type { DeliveryTracer } from './tracing.js';
import type { Admission, AdmitOptions, Logger, Message, Pipeline, Publisher, Settlement, Source, TriggerIdentity } from './types.js';
import { ReleasedError } from './types.js';

export interface PipelineOptions {
  readonly source: Source;
  readonly trigger: TriggerIdentity;
  readonly functionUrl: string;
  /** The target's name in a fan-out (FUNCTION_TARGETS_FILE): dead-letter envelopes name it. */
  readonly target?: string | undefined;
  readonly delivery: DeliveryConfig;
  readonly client: FunctionClient;
  /** Where dead-letter envelopes and replies go (the adapter). */
  readonly publisher: Publisher;
  readonly metrics: DispatcherMetrics;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Attempts per reply publish before the reply is given up (the message still counts as delivered). */
  readonly replyAttempts?: number;
  /** Records a span per attempt when tracing is enabled; absent, attempts run untraced. */
  readonly tracer?: DeliveryTracer | undefined;
}

/** The core's pipeline, with what the runtime needs to shut it down. */
export interface DispatchPipeline extends Pipeline {
  /**
   * Stops admitting, releases queued messages at once, lets running HTTP attempts finish until
   * `graceMs` elapsed, then aborts them (released). Resolves when nothing is in the pipeline.
   */
  drain(graceMs: number): Promise<void>;
  /** Messages admitted and not yet settled or released. */
  readonly pending: number;
}

interface Entry {
  readonly message: Message;
  readonly lane: string | undefined;
  /** {@link AdmitOptions.release}: aborted when the broker took the message back. */
  readonly release: AbortSignal | undefined;
  readonly resolve: (settlement: Settlement) => void;
  readonly reject: (error: ReleasedError) => void;
}

interface Waiter {
  readonly message: Message;
  readonly release: AbortSignal | undefined;
  readonly resolve: (admission: Admission) => void;
  readonly reject: (error: ReleasedError) => void;
}

/**
 * The largest reply the dispatcher publishes, and so the most it buffers of one response. Larger
 * replies are refused (never cut), and their transfer is stopped at this size.
 */
export const REPLY_BODY_LIMIT = 16 * 1024 * 1024;
const RELEASED_BY_SOURCE = 'released: the source took the message back';
/** Extra wait for a message released behind a retrying head, so the head is redelivered first. */
const RELEASE_ORDER_MARGIN_MS = 100;

class Failure extends Error {
  override readonly name = 'Failure';
  readonly attempts: number;
  readonly last: DeliveryError;
  constructor(last: DeliveryError, attempts: number, reason: string) {
    super(reason, { cause: last });
    this.attempts = attempts;
    this.last = last;
  }
}

/** Settles with `promise`, or rejects with the signal's reason once it aborts (the promise is left to itself). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason as Error); };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error instanceof Error ? error : new Error(String(error))); },
    );
  });
}

function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Creates the delivery pipeline: admission (ordering + maxInFlight), delivery with retry, dead-letter, reply, drain. */
export function createPipeline(options: PipelineOptions): DispatchPipeline {
  return new DeliveryPipeline(options);
}

class DeliveryPipeline implements DispatchPipeline {
  private readonly options: PipelineOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly capacity: number;
  private slots = 0;
  private readonly waiters: Waiter[] = [];
  private readonly busyLanes = new Set<string>();
  private readonly laneQueues = new Map<string, Entry[]>();
  private readonly running = new Slots<Promise<void>>();
  /** Aborts backoff sleeps and prevents further attempts (start of drain). */
  private readonly soft = new AbortController();
  /** Aborts HTTP attempts in progress (end of the grace period). */
  private readonly hard = new AbortController();
  private isDraining = false;
  /** Per ordering lane: when the message at its head, waiting to retry, is due again (clock time). */
  private readonly retryDueAt = new Map<string, number>();
  /** Labelled children resolved once: prom-client hashes the label object on every inc({…}). */
  private readonly delivered: { inc(): void };

  constructor(options: PipelineOptions) {
    this.options = options;
    this.delivered = options.metrics.deliveries.labels({ outcome: DeliveryOutcome.Delivered });
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.capacity = options.delivery.maxInFlight;
  }

  get draining(): boolean {
    return this.isDraining;
  }

  get pending(): number {
    return this.slots;
  }

  admit(message: Message, options: AdmitOptions = {}): Promise<Admission> {
    if (this.isDraining) return Promise.reject(new ReleasedError());
    const { release } = options;
    if (release?.aborted === true) return Promise.reject(new ReleasedError(RELEASED_BY_SOURCE));
    this.options.metrics.received.inc();
    if (this.slots < this.capacity && this.waiters.length === 0) {
      return Promise.resolve(this.take(message, release));
    }
    return new Promise<Admission>((resolve, reject) => {
      const waiter: Waiter = { message, release, resolve, reject };
      this.waiters.push(waiter);
      release?.addEventListener('abort', () => {
        const index = this.waiters.indexOf(waiter);
        if (index < 0) return;
        this.waiters.splice(index, 1);
        this.options.metrics.deliveries.inc({ outcome: DeliveryOutcome.Released });
        reject(new ReleasedError(RELEASED_BY_SOURCE));
      }, { once: true });
    });
  }

  /** A queued entry whose message the broker took back leaves its lane at once. */
  private unqueue(entry: Entry): void {
    if (entry.lane === undefined) return;
    const queue = this.laneQueues.get(entry.lane);
    const index = queue?.indexOf(entry) ?? -1;
    if (queue === undefined || index < 0) return;
    queue.splice(index, 1);
    if (queue.length === 0) this.laneQueues.delete(entry.lane);
    this.options.metrics.deliveries.inc({ outcome: DeliveryOutcome.Released });
    entry.reject(new ReleasedError(RELEASED_BY_SOURCE));
    this.slots -= 1;
    this.admitWaiter();
  }

  private take(message: Message, release?: AbortSignal): Admission {
    this.slots += 1;
    let resolve!: (settlement: Settlement) => void;
    let reject!: (error: ReleasedError) => void;
    const settled = new Promise<Settlement>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // The adapter handles the rejection; this keeps an unobserved release from crashing the process.
    settled.catch(() => undefined);
    const entry: Entry = { message, lane: this.laneOf(message), release, resolve, reject };
    if (entry.lane === undefined || !this.busyLanes.has(entry.lane)) {
      this.start(entry);
    } else {
      const queue = this.laneQueues.get(entry.lane) ?? [];
      queue.push(entry);
      this.laneQueues.set(entry.lane, queue);
      release?.addEventListener('abort', () => { this.unqueue(entry); }, { once: true });
    }
    return { settled };
  }

  private laneOf(message: Message): string | undefined {
    switch (this.options.delivery.ordering) {
      case 'unordered':
        return undefined;
      case 'ordered':
        return message.lane;
      case 'key':
        return `${message.lane}\u0000${message.key ?? ''}`;
    }
  }

  private start(entry: Entry): void {
    if (entry.lane !== undefined) this.busyLanes.add(entry.lane);
    let slot = -1;
    const run: Promise<void> = this.process(entry).finally(() => {
      this.running.delete(slot, run);
      this.finish(entry);
    });
    slot = this.running.add(run);
  }

  private finish(entry: Entry): void {
    this.slots -= 1;
    if (entry.lane !== undefined) {
      const queue = this.laneQueues.get(entry.lane);
      const next = queue?.shift();
      if (queue?.length === 0) this.laneQueues.delete(entry.lane);
      if (next === undefined) this.busyLanes.delete(entry.lane);
      else this.start(next);
    }
    this.admitWaiter();
  }

  private admitWaiter(): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter.resolve(this.take(waiter.message, waiter.release));
  }

  private async process(entry: Entry): Promise<void> {
    const { message } = entry;
    const { metrics, logger } = this.options;
    try {
      const { response, attempts } = await this.deliver(message, entry.release);
      if (this.options.delivery.replyTopic !== undefined) await this.reply(message, response);
      this.delivered.inc();
      entry.resolve({ outcome: 'delivered', status: response.status, attempts });
    } catch (error) {
      if (error instanceof ReleasedError) {
        metrics.deliveries.inc({ outcome: DeliveryOutcome.Released });
        entry.reject(error);
        return;
      }
      if (!(error instanceof Failure)) {
        // A programming error: never ack what we could not account for.
        logger.error({ id: message.id, err: errorText(error) }, 'unexpected error in delivery; message released');
        metrics.deliveries.inc({ outcome: DeliveryOutcome.Released });
        entry.reject(new ReleasedError('released after an unexpected error', { cause: error }));
        return;
      }
      await this.fail(entry, error);
    }
  }

  private async fail(entry: Entry, failure: Failure): Promise<void> {
    const { message } = entry;
    const { metrics, logger, delivery } = this.options;
    const status = failure.last.status;
    if (delivery.deadLetterTopic === undefined) {
      logger.error(
        { id: message.id, topic: message.topic, coordinates: message.coordinates, attempts: failure.attempts, status, err: failure.last.message, reason: failure.message },
        'message not delivered and no dead-letter topic configured: dropped',
      );
      metrics.deliveries.inc({ outcome: DeliveryOutcome.Failed });
      entry.resolve({ outcome: 'dropped', status, attempts: failure.attempts, reason: `${failure.message}: ${failure.last.message}` });
      return;
    }
    try {
      await this.publishDeadLetter(message, failure, entry.release);
    } catch (error) {
      metrics.deliveries.inc({ outcome: DeliveryOutcome.Released });
      entry.reject(error instanceof ReleasedError ? error : new ReleasedError('dead-letter publish interrupted', { cause: error }));
      return;
    }
    logger.warn(
      { id: message.id, topic: message.topic, attempts: failure.attempts, status, err: failure.last.message, deadLetter: delivery.deadLetterTopic },
      'message dead-lettered',
    );
    metrics.deliveries.inc({ outcome: DeliveryOutcome.DeadLettered });
    entry.resolve({ outcome: 'dead-lettered', status, attempts: failure.attempts });
  }

  /** Retries the publish until the broker confirms it: a message is acked only once its envelope is safe. */
  private async publishDeadLetter(message: Message, failure: Failure, release: AbortSignal | undefined): Promise<void> {
    const { publisher, metrics, logger, delivery } = this.options;
    const topic = delivery.deadLetterTopic ?? '';
    const envelope = deadLetterEnvelope(message, {
      source: this.options.source,
      trigger: this.options.trigger,
      functionUrl: this.options.functionUrl,
      target: this.options.target,
      attempts: failure.attempts,
      lastStatus: failure.last.status,
      lastError: failure.last.message,
      responseBody: failure.last.responseBody,
      failedAt: new Date(this.clock.now()),
    });
    const body = Buffer.from(JSON.stringify(envelope));
    const headers = { 'content-type': 'application/json', 'kurier-dead-letter-id': eventIdOf(message), ...traceContextOf(message) };
    for (let attempt = 1; ; attempt += 1) {
      if (this.soft.signal.aborted) throw new ReleasedError();
      if (release?.aborted === true) throw new ReleasedError(RELEASED_BY_SOURCE);
      try {
        // A publish the broker never answers must not hold the shutdown past its grace period.
        await unlessAborted(publisher.publish(topic, body, headers, message.key), this.hard.signal);
        return;
      } catch (error) {
        if (error instanceof ReleasedError) throw error;
        metrics.publishFailures.inc({ purpose: 'dead_letter' });
        logger.error({ id: message.id, deadLetter: topic, attempt, err: errorText(error) }, 'dead-letter publish failed; retrying');
        await this.sleep(backoffDelay(attempt, delivery.retry, this.random));
      }
    }
  }

  private async reply(message: Message, response: FunctionResponse): Promise<void> {
    const { publisher, metrics, logger, delivery } = this.options;
    const topic = delivery.replyTopic ?? '';
    if (response.truncated) {
      // A cut reply would look complete to its reader; publishing none is the honest answer.
      metrics.repliesRefused.inc();
      logger.error(
        { id: message.id, reply: topic, limitBytes: REPLY_BODY_LIMIT },
        `reply refused: the function's response is larger than ${String(REPLY_BODY_LIMIT)} bytes (16 MiB); nothing was published, the message counts as delivered`,
      );
      return;
    }
    const headers: Record<string, string> = { 'kurier-reply-to': eventIdOf(message) };
    const contentType = response.headers['content-type'];
    if (typeof contentType === 'string') headers['content-type'] = contentType;
    const attempts = this.options.replyAttempts ?? 5;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        await unlessAborted(publisher.publish(topic, response.body, headers, message.key), this.hard.signal);
        return;
      } catch (error) {
        if (error instanceof ReleasedError) break;
        metrics.publishFailures.inc({ purpose: 'reply' });
        logger.error({ id: message.id, reply: topic, attempt, err: errorText(error) }, 'reply publish failed');
        if (attempt === attempts || this.soft.signal.aborted) break;
        try {
          await this.sleep(backoffDelay(attempt, delivery.retry, this.random));
        } catch {
          break;
        }
      }
    }
    // The function already ran: re-delivering the message to get a reply out would run it twice.
    logger.error({ id: message.id, reply: topic }, 'reply given up; the message counts as delivered');
  }

  private sleep(ms: number, signal: AbortSignal = this.soft.signal): Promise<void> {
    const started = this.clock.now();
    return this.clock.sleep(ms, signal).catch(() => {
      throw new ReleasedError('released on shutdown while waiting to retry', { retryAfterMs: Math.max(0, ms - (this.clock.now() - started)) });
    });
  }

  private async deliver(message: Message, release: AbortSignal | undefined): Promise<{ response: FunctionResponse; attempts: number }> {
    const { delivery, client, metrics, logger } = this.options;
    // A message the broker took back (lost channel) stops retrying and aborts its attempt at once.
    // No AbortSignal.any per message on the way to a first success: each one would hang a
    // dependent signal on the pipeline's long-lived ones until a garbage collection. The client
    // watches `release` itself; the combined signal is only made for a backoff sleep.
    const softSignal = this.soft.signal;
    let soft: AbortSignal | undefined;
    const { retry } = delivery;
    const dropped: string[] = [];
    const headers = buildHeaders(message, { source: this.options.source, trigger: this.options.trigger }, (problem) => dropped.push(problem));
    // Bad metadata must not hold up the message: it goes without it, and the log says what was left out.
    if (dropped.length > 0) logger.warn({ id: message.id, topic: message.topic, dropped }, 'message metadata left out of the request');
    const startedAt = this.clock.now();
    const maxBodyBytes = delivery.replyTopic === undefined ? DEAD_LETTER_RESPONSE_LIMIT + 1 : REPLY_BODY_LIMIT;
    let attempts = 0;
    let exhaustedBy = 'attempts exhausted';
    const attempt = async (): Promise<FunctionResponse> => {
      if (softSignal.aborted || release?.aborted === true) throw new AbortError(new ReleasedError());
      attempts += 1;
      metrics.inFlight.inc();
      const stopTimer = metrics.duration.startTimer();
      let response: FunctionResponse;
      try {
        response = await client.post(message.body, headers, {
          timeoutMs: delivery.timeoutMs,
          signal: this.hard.signal,
          release,
          maxBodyBytes,
          overflow: delivery.replyTopic === undefined ? 'discard' : 'abort',
        });
      } catch (error) {
        if (!(error instanceof TransportError)) throw new AbortError(new ReleasedError('released on shutdown', { cause: error }));
        const failed = new DeliveryError(error.kind === 'timeout' ? { kind: 'timeout' } : { kind: error.kind, error }, {}, { cause: error });
        if (!isRetryable(failed.outcome, retry.when)) {
          exhaustedBy = 'permanent failure';
          throw new AbortError(failed);
        }
        throw failed;
      } finally {
        stopTimer();
        metrics.inFlight.dec();
      }
      if (is2xx(response.status)) return response;
      const retryAfter = response.headers['retry-after'];
      const failed = new DeliveryError(
        { kind: 'response', status: response.status },
        { responseBody: response.body, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined, location: response.headers.location === undefined ? undefined : redactUrl(response.headers.location) },
      );
      if (!isRetryable(failed.outcome, retry.when)) {
        exhaustedBy = 'permanent failure';
        throw new AbortError(failed);
      }
      throw failed;
    };
    const tracer = this.options.tracer;
    const run = tracer === undefined ? attempt : traceAttempt(tracer, message, attempt, () => attempts);
    try {
      // Most messages succeed at once: the first attempt runs outside p-retry (its option checks
      // and loop cost more than the attempt's own bookkeeping). A first failure is handed to p-retry
      // as its own first attempt's outcome, so everything after it is p-retry's, exactly as before.
      let firstFailure: { readonly error: unknown } | undefined;
      try {
        return { response: await run(), attempts };
      } catch (error) {
        firstFailure = { error };
      }
      const replayFirst = async (): Promise<FunctionResponse> => {
        if (firstFailure === undefined) return run();
        const { error } = firstFailure;
        firstFailure = undefined;
        throw error;
      };
      const response = await pRetry(replayFirst, {
        retries: retry.maxAttempts === 0 ? Number.POSITIVE_INFINITY : retry.maxAttempts - 1,
        // p-retry runs the loop and the attempt bookkeeping; the delay is ours (injected clock, Retry-After).
        minTimeout: 0,
        maxTimeout: 0,
        randomize: false,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft <= 0 || !(error instanceof DeliveryError)) return;
          const failed = error;
          const backoff = backoffDelay(attemptNumber, retry, this.random);
          const asked = parseRetryAfter(failed.retryAfter, this.clock.now());
          const delay = asked === undefined ? backoff : Math.min(Math.max(asked, 0), retry.maxDelayMs);
          if (retry.maxElapsedMs !== undefined && this.clock.now() + delay - startedAt > retry.maxElapsedMs) {
            exhaustedBy = 'retry time exhausted';
            throw failed;
          }
          metrics.retries.inc();
          logger.warn({ id: message.id, attempt: attemptNumber, status: failed.status, err: failed.message, delayMs: delay }, 'delivery failed; retrying');
          const lane = this.laneOf(message);
          if (lane !== undefined) this.retryDueAt.set(lane, this.clock.now() + delay);
          try {
            soft ??= release === undefined ? softSignal : AbortSignal.any([softSignal, release]);
            await this.sleep(delay, soft);
          } finally {
            if (lane !== undefined) this.retryDueAt.delete(lane);
          }
        },
      });
      return { response, attempts };
    } catch (error) {
      if (error instanceof DeliveryError) throw new Failure(error, attempts, exhaustedBy);
      throw error;
    }
  }

  /**
   * How a message that never started is released: behind a head that waits to retry, it keeps at
   * least the head's remaining wait (plus a margin, so the broker's redelivery timers fire for the
   * head first) — a broker that delays redeliveries then cannot hand it out ahead of the head.
   */
  private releaseBehindHead(message: Message): ReleasedError {
    const lane = this.laneOf(message);
    const dueAt = lane === undefined ? undefined : this.retryDueAt.get(lane);
    if (dueAt === undefined) return new ReleasedError();
    return new ReleasedError('released on shutdown behind a message waiting to retry', {
      retryAfterMs: Math.max(0, dueAt - this.clock.now()) + RELEASE_ORDER_MARGIN_MS,
    });
  }

  async drain(graceMs: number): Promise<void> {
    this.isDraining = true;
    // Read before the abort below ends the sleeps (each one clears its lane's entry).
    const released = [
      ...this.waiters.splice(0).map((waiter) => ({ reject: waiter.reject, error: this.releaseBehindHead(waiter.message), slot: false })),
      ...[...this.laneQueues.values()].flatMap((queue) => queue.splice(0).map((entry) => ({ reject: entry.reject, error: this.releaseBehindHead(entry.message), slot: true }))),
    ];
    this.laneQueues.clear();
    this.soft.abort(new ReleasedError());
    for (const { reject, error, slot } of released) {
      this.options.metrics.deliveries.inc({ outcome: DeliveryOutcome.Released });
      reject(error);
      if (slot) this.slots -= 1;
    }
    if (this.running.size === 0) return;
    // The grace period is wall-clock time (Kubernetes kills the pod on its own clock), never the injected one.
    const timer = setTimeout(() => { this.hard.abort(new ReleasedError('released: shutdown grace period over')); }, graceMs);
    while (this.running.size > 0) await Promise.allSettled(this.running.snapshot());
    clearTimeout(timer);
  }
}
