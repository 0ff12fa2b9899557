import { randomUUID } from 'node:crypto';
import { AckPolicy, ConsumerEvents, DeliverPolicy, Events, credsAuthenticator, headers as natsHeaders, nanos } from 'nats';
import type { ConnectionOptions, ConsumerConfig, ConsumerMessages, JetStreamClient, JsMsg, Msg, MsgHdrs, NatsConnection, Subscription } from 'nats';
import { backoffDelay } from '../core/backoff.js';
import { consumerLagGauge, lagLabels } from '../core/metrics.js';
import { ReleasedError } from '../core/types.js';
import type { AdapterContext, Message, Pipeline, SourceAdapter, SourceModule } from '../core/types.js';
import { CoreBuffer } from './core-buffer.js';
import { parseNatsConfig } from './config.js';
import { ConfirmedAcks } from './confirmed-acks.js';
import { connectLogged } from './connect.js';
import { HeldMessages } from './held-messages.js';
import type { JetStreamConfig, NatsConfig } from './config.js';

export type { NatsConfig } from './config.js';
export { corePendingLimits } from './core-buffer.js';

function headerRecord(headers: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const key of headers.keys()) out[key.toLowerCase()] = headers.get(key);
  return out;
}

const ACK = new TextEncoder().encode('+ACK');
const TERM = new TextEncoder().encode('+TERM');
const ACK_ATTEMPTS = 5;
const ACK_CONFIRM_TIMEOUT_MS = 2_000;

/** The subject a JetStream message is acknowledged on (the reply subject the server delivered it with). */
function ackSubject(msg: JsMsg): string | undefined {
  const reply = (msg as JsMsg & { reply?: unknown }).reply;
  return typeof reply === 'string' && reply !== '' ? reply : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The fields core and JetStream messages map alike; `own` carries where they differ. */
function neutralMessage(msg: Msg | JsMsg, headers: Record<string, string>, config: NatsConfig, own: Pick<Message, 'id' | 'time' | 'coordinates' | 'redeliveries'>): Message {
  return { ...own, body: Buffer.from(msg.data), headers, contentType: headers['content-type'], topic: msg.subject, lane: config.subject, key: msg.subject };
}

/** Core NATS message → neutral message. Core NATS has no redelivery, so the id is the publisher's Nats-Msg-Id or fresh. */
export function coreMessage(msg: Msg, config: NatsConfig): Message {
  const headers = headerRecord(msg.headers);
  return neutralMessage(msg, headers, config, { id: headers['nats-msg-id'] ?? randomUUID(), time: new Date(), coordinates: { subject: msg.subject } });
}

/** JetStream message → neutral message; the id `<stream>:<sequence>` is the same on every redelivery. */
export function jetStreamMessage(msg: JsMsg, config: NatsConfig): Message {
  const { info } = msg;
  return neutralMessage(msg, headerRecord(msg.headers), config, {
    id: `${info.stream}:${info.streamSequence}`,
    time: new Date(Math.floor(info.timestampNanos / 1_000_000)),
    coordinates: { stream: info.stream, consumer: info.consumer, sequence: info.streamSequence, subject: msg.subject },
    redeliveries: Math.max(0, info.deliveryCount - 1),
  });
}

const DELIVER_POLICY: Readonly<Record<JetStreamConfig['deliverPolicy'], DeliverPolicy>> = {
  all: DeliverPolicy.All,
  new: DeliverPolicy.New,
  last: DeliverPolicy.Last,
};

/**
 * In `key` and `unordered` mode the consumer's `max_ack_pending` (and the pull batch) is this many
 * times `DELIVERY_MAX_IN_FLIGHT`: the next messages already wait in the dispatcher when a slot frees,
 * instead of one broker round trip (ack → next delivery) per slot. The pipeline still bounds the
 * POSTs in flight; the messages waiting for a slot are kept alive like those in flight.
 */
export const JETSTREAM_WINDOW_FACTOR = 2;

/**
 * NATS source. Core NATS: a queue-group subscription, at-most-once (NATS cannot redeliver).
 * JetStream: a durable pull consumer with explicit acks — ack when delivered, term when
 * dead-lettered or dropped, nak when released; `working()` keeps the ack-wait alive while the
 * message waits for a slot or the core retries, so JetStream redelivers only after a crash.
 */
export class NatsAdapter implements SourceAdapter {
  readonly source = 'nats' as const;
  private readonly config: NatsConfig;
  private readonly context: AdapterContext;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private subscription: Subscription | undefined;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> = Promise.resolve();
  private isConnected = false;
  private paused = false;
  /** Messages taken and not yet settled (JetStream), kept alive by one shared timer; and the newest sequence seen. */
  private held: HeldMessages<JsMsg> | undefined;
  private newestSeen = 0;
  /** Messages the pull still yielded after pause(); released in close(), after the pipeline drained. */
  private readonly lateArrivals: JsMsg[] = [];
  /** Per ordering lane: until when (epoch ms) a released message there waits to be redelivered. */
  private readonly heldUntil = new Map<string, number>();
  /** Acks and terms, sent once per loop turn and awaiting the server's confirmation; close() waits for them. */
  private acks: ConfirmedAcks | undefined;
  private coreBuffer: CoreBuffer | undefined;
  /** When the JetStream consumer went missing and has not been recreated since (epoch ms). */
  private consumerLostAt: number | undefined;

  constructor(config: NatsConfig, context: AdapterContext) {
    this.config = config;
    this.context = context;
  }

  private get maxInFlight(): number {
    return this.context.delivery?.maxInFlight ?? 1;
  }

  /**
   * The consumer's max_ack_pending, also the pull batch. In `ordered` mode 1: the server then hands
   * out nothing while a message is pending — also not when it waits for a delayed redelivery after a
   * shutdown, or for its ack wait after a crash — so no later message can overtake it. Otherwise
   * {@link JETSTREAM_WINDOW_FACTOR} × maxInFlight.
   */
  private get maxAckPending(): number {
    return (this.context.delivery?.ordering ?? 'ordered') === 'ordered' ? 1 : JETSTREAM_WINDOW_FACTOR * this.maxInFlight;
  }

  /** The ordering lane of a message as the pipeline sees it (undefined: `unordered`). */
  private laneOf(msg: JsMsg): string | undefined {
    switch (this.context.delivery?.ordering ?? 'ordered') {
      case 'ordered':
        return '';
      case 'key':
        return msg.subject;
      case 'unordered':
        return undefined;
    }
  }

  private connectionOptions(): ConnectionOptions {
    const { config } = this;
    const options: ConnectionOptions = {
      servers: [...config.servers],
      name: config.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      waitOnFirstConnect: true,
    };
    if (config.token !== undefined) options.token = config.token;
    if (config.username !== undefined) {
      options.user = config.username;
      options.pass = config.password;
    }
    if (config.credentials !== undefined) options.authenticator = credsAuthenticator(new TextEncoder().encode(config.credentials));
    return options;
  }

  async start(pipeline: Pipeline): Promise<void> {
    const { logger } = this.context;
    const nc = await connectLogged(this.connectionOptions(), logger, () => this.paused);
    this.nc = nc;
    this.isConnected = true;
    void this.watchStatus(nc);
    if (this.config.jetstream === undefined) {
      const buffer = new CoreBuffer(this.maxInFlight, this.context);
      this.coreBuffer = buffer;
      this.subscription = nc.subscribe(this.config.subject, { queue: this.config.queueGroup, callback: (error, msg) => { if (error === null) buffer.push(msg); } });
      this.loop = this.consumeCore(buffer, pipeline);
      logger.info({ subject: this.config.subject, queueGroup: this.config.queueGroup }, 'subscribed (core NATS, at-most-once)');
    } else {
      this.acks = new ConfirmedAcks(nc, { attempts: ACK_ATTEMPTS, timeoutMs: ACK_CONFIRM_TIMEOUT_MS, logger });
      this.held = new HeldMessages(Math.max(500, Math.floor(this.config.jetstream.ackWaitMs / 3)));
      this.js = await this.ensureConsumer(nc, this.config.jetstream);
      await this.consumeFrom(nc, this.js, this.config.jetstream, pipeline);
      logger.info({ subject: this.config.subject, stream: this.config.jetstream.stream, consumer: this.config.jetstream.consumer }, 'consuming (JetStream durable pull consumer)');
    }
    this.watchLoop(this.loop);
  }

  private watchLoop(loop: Promise<void>): void {
    loop.catch((error: unknown) => {
      this.isConnected = false;
      this.context.logger.error({ err: errorText(error) }, 'NATS consumer loop failed');
    });
  }

  private async consumeFrom(nc: NatsConnection, js: JetStreamClient, jetstream: JetStreamConfig, pipeline: Pipeline): Promise<void> {
    const consumer = await js.consumers.get(jetstream.stream, jetstream.consumer);
    const lag = consumerLagGauge(this.context.registry).labels(lagLabels({ topic: jetstream.stream }));
    // A callback, not the iterator: every message is taken (and kept alive) the moment it arrives,
    // also those waiting for a slot, and admitted in arrival order (the pipeline queues them).
    const messages = await consumer.consume({ max_messages: this.maxAckPending, callback: (msg) => { this.onJetStreamMessage(msg, pipeline, lag); } });
    this.messages = messages;
    this.loop = messages.closed().then((result) => { if (result instanceof Error) throw result; });
    void this.watchConsumer(nc, messages, jetstream, pipeline);
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect) {
        this.isConnected = false;
        this.context.logger.warn({ server: status.data }, 'disconnected from NATS; reconnecting');
      } else if (status.type === Events.Reconnect) {
        this.isConnected = true;
        this.context.logger.info({ server: status.data }, 'reconnected to NATS');
      }
    }
  }

  /** Recreates the durable consumer if someone deletes it; the running pull loop picks it up again. */
  private async watchConsumer(nc: NatsConnection, messages: ConsumerMessages, jetstream: JetStreamConfig, pipeline: Pipeline): Promise<void> {
    for await (const status of await messages.status()) {
      if (this.paused || this.messages !== messages) return;
      if (status.type !== ConsumerEvents.ConsumerDeleted && status.type !== ConsumerEvents.ConsumerNotFound) continue;
      const resumeAt = this.resumeSequence();
      this.isConnected = false;
      this.consumerLostAt ??= Date.now();
      this.context.logger.warn({ stream: jetstream.stream, consumer: jetstream.consumer, event: status.type, resumeAt }, 'JetStream consumer is gone; recreating it');
      await messages.close();
      await this.recreateConsumer(nc, jetstream, pipeline, resumeAt);
      return;
    }
  }

  /** Tries again with capped backoff until the consumer is back (or the dispatcher stops). */
  private async recreateConsumer(nc: NatsConnection, jetstream: JetStreamConfig, pipeline: Pipeline, resumeAt: number | undefined): Promise<void> {
    for (let attempt = 1; !this.paused && !nc.isClosed(); attempt += 1) {
      try {
        const js = await this.ensureConsumer(nc, jetstream, resumeAt);
        await this.consumeFrom(nc, js, jetstream, pipeline);
        this.watchLoop(this.loop);
        this.isConnected = true;
        this.consumerLostAt = undefined;
        this.context.logger.info({ stream: jetstream.stream, consumer: jetstream.consumer, attempt }, 'JetStream consumer recreated');
        return;
      } catch (error) {
        const delayMs = backoffDelay(attempt, { initialDelayMs: 250, maxDelayMs: 10_000 });
        this.context.logger.error({ err: errorText(error), attempt, delayMs }, 'could not recreate the JetStream consumer; will try again');
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
  }

  /** Where a recreated consumer starts: the oldest message not yet settled, else just after the newest seen. */
  private resumeSequence(): number | undefined {
    const oldest = this.held?.oldest();
    if (oldest !== undefined) return oldest;
    return this.newestSeen > 0 ? this.newestSeen + 1 : undefined;
  }

  private async ensureConsumer(nc: NatsConnection, jetstream: JetStreamConfig, resumeAt?: number): Promise<JetStreamClient> {
    const jsm = await nc.jetstreamManager();
    const wanted: Partial<ConsumerConfig> = {
      durable_name: jetstream.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(jetstream.ackWaitMs),
      filter_subject: this.config.subject,
      // The broker hands out no more unacknowledged messages than the dispatchers can work on.
      max_ack_pending: this.maxAckPending,
      max_deliver: -1,
    };
    try {
      await jsm.consumers.info(jetstream.stream, jetstream.consumer);
      await jsm.consumers.update(jetstream.stream, jetstream.consumer, {
        ack_wait: wanted.ack_wait,
        filter_subject: wanted.filter_subject,
        max_ack_pending: wanted.max_ack_pending,
      });
    } catch (error) {
      if (!/consumer not found/i.test(errorText(error))) {
        throw new Error(`JetStream stream "${jetstream.stream}" / consumer "${jetstream.consumer}": ${errorText(error)}`, { cause: error });
      }
      await jsm.consumers.add(
        jetstream.stream,
        resumeAt === undefined
          ? { ...wanted, deliver_policy: DELIVER_POLICY[jetstream.deliverPolicy] }
          : { ...wanted, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: resumeAt },
      );
    }
    return nc.jetstream();
  }

  private async consumeCore(buffer: CoreBuffer, pipeline: Pipeline): Promise<void> {
    for (let msg = await buffer.next(); msg !== undefined; msg = await buffer.next()) {
      const message = coreMessage(msg, this.config);
      try {
        const admission = await pipeline.admit(message);
        admission.settled.catch(() => {
          this.context.logger.warn({ id: message.id, subject: msg.subject }, 'released on shutdown: core NATS cannot redeliver, message lost');
        });
      } catch {
        this.context.logger.warn({ id: message.id, subject: msg.subject }, 'released on shutdown: core NATS cannot redeliver, message lost');
      }
    }
  }

  private onJetStreamMessage(msg: JsMsg, pipeline: Pipeline, lag: { set(value: number): void }): void {
    if (this.paused) {
      // Arrived after the pull stopped: released only once the pipeline drained (see close()).
      this.lateArrivals.push(msg);
      return;
    }
    const { info } = msg;
    lag.set(info.pending);
    const sequence = info.streamSequence;
    if (sequence > this.newestSeen) this.newestSeen = sequence;
    // Keeps the broker from redelivering while it waits for a slot, or the core works on or retries it.
    const heldMessages = this.held;
    const held = heldMessages?.add(sequence, msg);
    const release = (error: unknown): void => {
      if (held !== undefined) heldMessages?.delete(held);
      this.release(msg, error);
    };
    pipeline.admit(jetStreamMessage(msg, this.config)).then(
      (admission) => admission.settled.then(
        (settlement) => {
          if (held !== undefined) heldMessages?.delete(held);
          // No reason argument on term: servers before 2.10 ignore a "+TERM <reason>" and redeliver.
          this.confirm(msg, settlement.outcome === 'delivered' ? ACK : TERM);
        },
        release,
      ),
      release,
    );
  }

  /**
   * Back to the stream for another replica or the next start. A message that was waiting to retry
   * keeps its remaining backoff, so the function is not hit at once; what is released later in the
   * same lane waits at least as long, so it cannot be redelivered ahead of it.
   */
  private release(msg: JsMsg, error: unknown): void {
    const asked = error instanceof ReleasedError ? (error.retryAfterMs ?? 0) : 0;
    const lane = this.laneOf(msg);
    const now = Date.now();
    const held = lane === undefined ? 0 : Math.max(0, (this.heldUntil.get(lane) ?? 0) - now);
    const delay = Math.max(asked, held);
    if (lane !== undefined && asked > 0) this.heldUntil.set(lane, Math.max(this.heldUntil.get(lane) ?? 0, now + asked));
    if (delay > 0) msg.nak(delay);
    else msg.nak();
  }

  /**
   * Sends an ack (or term) with the others of this loop turn and waits for the server to confirm
   * it, resending on a timeout or a reconnect: a fire-and-forget ack written just before a
   * disconnect is lost, and the message would be delivered again after the ack wait.
   */
  private confirm(msg: JsMsg, payload: Uint8Array): void {
    const subject = ackSubject(msg);
    if (this.acks === undefined || subject === undefined) {
      if (payload === ACK) msg.ack();
      else msg.term();
      return;
    }
    this.acks.send(subject, payload, `${msg.info.stream}:${msg.info.streamSequence}`);
  }

  /**
   * JetStream: a publish the stream acknowledged, or an error — with no stream capturing the
   * subject nothing is stored, so a dead-letter envelope or reply is not confirmed and the message
   * is not settled. Core NATS: published and flushed; nothing can confirm it (at-most-once).
   */
  async publish(destination: string, body: Buffer, headers: Readonly<Record<string, string>>): Promise<void> {
    const nc = this.nc;
    if (nc === undefined) throw new Error('not connected to NATS');
    const hdrs = natsHeaders();
    for (const [key, value] of Object.entries(headers)) hdrs.set(key, value);
    if (this.js !== undefined) {
      try {
        await this.js.publish(destination, body, { headers: hdrs });
        return;
      } catch (error) {
        if (!/503|no responders/i.test(errorText(error))) throw error;
        throw new Error(`no JetStream stream captures subject "${destination}": the publish was not stored (add the subject to a stream)`, { cause: error });
      }
    }
    nc.publish(destination, body, { headers: hdrs });
    await nc.flush();
  }

  async pause(): Promise<void> {
    this.paused = true;
    if (this.subscription !== undefined) this.subscription.unsubscribe();
    const dropped = this.coreBuffer?.stop() ?? 0;
    if (dropped > 0) this.context.logger.warn({ messages: dropped }, 'stopping: core NATS messages buffered and never delivered are lost');
    if (this.messages !== undefined) {
      await this.messages.close();
      // The server has seen the unsubscribe: it delivers nothing more into this pull.
      if (this.nc !== undefined && !this.nc.isClosed()) {
        await this.nc.flush();
        await this.dropStalePulls(this.nc);
      }
    }
  }

  /**
   * Makes the server forget this dispatcher's pull requests before anything is released. Until they
   * expire the server keeps them, and nats-server before the fix of April 2024 (nats-server commit
   * b0d1b4f, "only decrement o.sseq if it is not a redelivery"; Debian 12 ships 2.9.10) mishandles a
   * released message it finds no live pull for: it steps its stream cursor back and later delivers the
   * message before it once more, even if that one was acknowledged. A consumer info request makes the
   * server drop the pull requests nobody listens to any more (`processWaiting`), so a released message
   * waits for a live pull of this or another replica instead.
   */
  private async dropStalePulls(nc: NatsConnection): Promise<void> {
    const jetstream = this.config.jetstream;
    if (jetstream === undefined) return;
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.consumers.info(jetstream.stream, jetstream.consumer);
    } catch (error) {
      this.context.logger.debug({ err: errorText(error) }, 'could not ask JetStream to drop stale pull requests');
    }
  }

  async close(): Promise<void> {
    this.paused = true;
    const nc = this.nc;
    this.isConnected = false;
    if (nc === undefined || nc.isClosed()) return;
    // The pipeline has drained: every message it held was acked, termed or released.
    await this.messages?.close().catch(() => undefined);
    for (const msg of this.lateArrivals.splice(0)) this.release(msg, undefined);
    this.held?.stop();
    if (this.acks !== undefined) {
      await this.acks.settled();
      this.acks.close();
    }
    // drain() flushes the naks before closing.
    await nc.drain();
  }

  connected(): boolean {
    return this.isConnected && !this.paused;
  }

  /**
   * False once the JetStream consumer has been gone (and could not be recreated) for longer than
   * five ack waits, at least 10 s: the liveness probe then restarts the dispatcher. A NATS server
   * outage does not count: the client reconnects by itself and a restart would not help.
   */
  alive(): boolean {
    const jetstream = this.config.jetstream;
    if (jetstream === undefined || this.consumerLostAt === undefined) return true;
    return Date.now() - this.consumerLostAt < Math.max(10_000, 5 * jetstream.ackWaitMs);
  }
}

export const sourceModule: SourceModule<NatsConfig> = {
  source: 'nats',
  parseConfig: parseNatsConfig,
  createAdapter: (config, context) => new NatsAdapter(config, context),
};
