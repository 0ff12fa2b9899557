import type { Registry } from 'prom-client';
import type { DeliveryConfig } from './config.js';
import type { EnvReader } from './env-reader.js';

/**
 * The contract between the dispatcher core and the source adapters.
 *
 * An adapter turns broker messages into {@link Message}s and hands each to the {@link Pipeline}.
 * The pipeline owns delivery, retry, ordering, backpressure, dead-letter, reply, metrics and
 * shutdown; the adapter only maps the resulting {@link Settlement} to the broker's ack/nack.
 */

export const Source = {
  Kafka: 'kafka',
  Pulsar: 'pulsar',
  Nats: 'nats',
  RabbitMQ: 'rabbitmq',
  Cron: 'cron',
} as const;
export type Source = (typeof Source)[keyof typeof Source];

/** A broker message in neutral form. Bodies are never transformed. */
export interface Message {
  /** Stable across redeliveries of the same broker message; becomes `ce-id` and `event-id`. */
  readonly id: string;
  readonly body: Buffer;
  /** The message's own headers/properties (lower-cased names), passed through to the function. */
  readonly headers: Readonly<Record<string, string>>;
  /** The message's own content type when the broker carries one. */
  readonly contentType?: string | undefined;
  /** Topic, subject or queue the message came from; becomes `event-topic` and `ce-subject`. */
  readonly topic: string;
  /** Ordering lane: partition, subject or queue. `ordered` keeps one message in flight per lane. */
  readonly lane: string;
  /** Ordering key inside a lane. `key` mode keeps one message in flight per (lane, key). */
  readonly key?: string | undefined;
  /** When the message was produced if the broker says, else when it was received. */
  readonly time: Date;
  /** Broker coordinates (partition, offset, sequence, delivery tag…) for dead-letter envelopes and logs. */
  readonly coordinates: Readonly<Record<string, string | number>>;
  /** How many times the broker says it delivered this message before (0 when unknown). */
  readonly redeliveries?: number | undefined;
}

/** How a message left the pipeline; the adapter acknowledges every one of these. */
export type Settlement =
  | { readonly outcome: 'delivered'; readonly status: number; readonly attempts: number }
  | { readonly outcome: 'dead-lettered'; readonly status: number | undefined; readonly attempts: number }
  | { readonly outcome: 'dropped'; readonly status: number | undefined; readonly attempts: number; readonly reason: string };

/**
 * Rejection of {@link Admission.settled} when the pipeline shuts down before the message
 * settled: the adapter must release it (nack / requeue / not commit), never acknowledge it.
 */
export class ReleasedError extends Error {
  override readonly name = 'ReleasedError';
  /**
   * Set when the message was waiting to retry: how much of that wait was left. An adapter whose
   * broker can delay a redelivery (JetStream `nak(delay)`) may pass it on.
   */
  readonly retryAfterMs: number | undefined;
  constructor(message = 'released on shutdown', options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export interface Admission {
  /**
   * Resolves once the message was delivered, dead-lettered or dropped by policy (ack it);
   * rejects with {@link ReleasedError} when it must be released (do not ack).
   */
  readonly settled: Promise<Settlement>;
}

export interface AdmitOptions {
  /**
   * Abort it when the broker takes the message back by itself (e.g. its channel closed and the
   * broker requeued everything unacked): the pipeline then drops the message at once — waiting,
   * queued, retrying or in an HTTP attempt — and rejects `settled` with {@link ReleasedError}.
   */
  readonly release?: AbortSignal;
}

/** What the core gives an adapter. */
export interface Pipeline {
  /**
   * Admits a message. Resolves when the message has been taken: it holds one of the
   * `maxInFlight` slots and starts as soon as its lane (ordered) or lane+key (key) is free.
   * Awaiting it before fetching more is the backpressure; admit in broker order, since admission
   * order is delivery order within a lane. Rejects with {@link ReleasedError} when draining.
   */
  admit(message: Message, options?: AdmitOptions): Promise<Admission>;
  /** True once shutdown began: adapters stop fetching. */
  readonly draining: boolean;
}

/** Where dead-letter envelopes and replies go, on the same broker as the source. */
export interface Publisher {
  /** Resolves only when the broker confirmed the publish. */
  publish(destination: string, body: Buffer, headers: Readonly<Record<string, string>>, key?: string): Promise<void>;
}

/** A source adapter: one per dispatcher process. */
export interface SourceAdapter extends Publisher {
  readonly source: Source;
  /** Connects, subscribes and starts feeding the pipeline; resolves once subscribed. */
  start(pipeline: Pipeline): Promise<void>;
  /** Stops fetching new messages; in-flight ones are still settled through the pipeline. */
  pause(): Promise<void>;
  /** Commits/flushes what settled and closes connections. Called after the pipeline drained. */
  close(): Promise<void>;
  /** For `/readyz`: connected to the broker and subscribed. */
  connected(): boolean;
  /**
   * For `/healthz` (optional, default alive): false once consumption has been dead for longer than
   * the adapter can recover from by itself, so the liveness probe restarts the process.
   */
  alive?(): boolean;
}

import type { Logger } from '../../common/logger.js';

export type { Logger };

/** Identity of the trigger this dispatcher serves (TRIGGER_* variables). */
export interface TriggerIdentity {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

/** What a source module gets besides its own configuration. */
export interface AdapterContext {
  readonly trigger: TriggerIdentity;
  readonly logger: Logger;
  /** prom-client registry, for source-specific metrics such as consumer lag. */
  readonly registry: Registry;
  /**
   * The parsed DELIVERY_* settings (ordering, maxInFlight, …), e.g. to size a prefetch or a fetch
   * batch. Always set by the runtime; optional so adapter tests may omit it.
   */
  readonly delivery?: DeliveryConfig | undefined;
}

/**
 * One module per source (`dispatchers/<source>/index.ts` exports it as `sourceModule`).
 * `parseConfig` reads only that source's `<SOURCE>_*` variables (plus what it documents),
 * reporting problems through the reader so every bad variable is named at once.
 */
export interface SourceModule<Config> {
  readonly source: Source;
  parseConfig(reader: EnvReader, trigger: TriggerIdentity): Config;
  createAdapter(config: Config, context: AdapterContext): SourceAdapter;
}
