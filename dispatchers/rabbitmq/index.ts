import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { backoffDelay } from '../core/backoff.js';
import { redactUrl } from '../core/redact.js';
import { Slots } from '../core/slots.js';
import type { AdapterContext, Message, Pipeline, SourceAdapter, SourceModule } from '../core/types.js';
import { ChannelAcks } from './channel-acks.js';
import { parseRabbitMQConfig } from './config.js';
import type { RabbitMQConfig } from './config.js';

export type { RabbitMQConfig } from './config.js';

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function headerValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? String(inner) : inner));
}

/** A message property that could not be mapped and was left out (the message is still delivered). */
export interface DroppedProperty {
  readonly property: string;
  readonly reason: string;
}

/** The AMQP `timestamp` (seconds) as a Date, or undefined when it is absent or outside the Date range. */
function timestampOf(seconds: unknown, dropped: DroppedProperty[]): Date | undefined {
  if (seconds === undefined || seconds === null) return undefined;
  const time = typeof seconds === 'number' ? new Date(seconds * 1000) : undefined;
  if (time === undefined || Number.isNaN(time.getTime())) {
    dropped.push({ property: 'timestamp', reason: `${typeof seconds === 'number' ? seconds : typeof seconds} is not a time in seconds since the epoch (JavaScript dates end at ±8.64e12 s)` });
    return undefined;
  }
  return time;
}

/**
 * AMQP message → neutral message. RabbitMQ assigns no message id, so the id is the publisher's
 * `message_id` (stable across redeliveries) or, when absent, a fresh one per delivery. Never
 * throws: a property that cannot be mapped is left out and reported in `dropped`.
 */
export function amqpMessage(msg: ConsumeMessage, queue: string, dropped: DroppedProperty[] = []): Message {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(msg.properties.headers ?? {})) {
    if (value === undefined || value === null) continue;
    try {
      headers[name.toLowerCase()] = headerValue(value);
    } catch (error) {
      dropped.push({ property: `headers.${name}`, reason: errorText(error) });
    }
  }
  const { properties, fields } = msg;
  const timestamp = timestampOf(properties.timestamp, dropped) ?? new Date();
  const messageId = typeof properties.messageId === 'string' && properties.messageId !== '' ? properties.messageId : undefined;
  const deliveryCount = Number(headers['x-delivery-count'] ?? (fields.redelivered ? 1 : 0));
  return {
    id: messageId ?? randomUUID(),
    body: msg.content,
    headers,
    contentType: typeof properties.contentType === 'string' ? properties.contentType : undefined,
    topic: queue,
    lane: queue,
    key: fields.routingKey,
    time: timestamp,
    coordinates: { queue, exchange: fields.exchange, routingKey: fields.routingKey, deliveryTag: fields.deliveryTag, redelivered: String(fields.redelivered) },
    redeliveries: Number.isFinite(deliveryCount) ? deliveryCount : 0,
  };
}

/**
 * Outside `ordered` mode the default prefetch is this many times `DELIVERY_MAX_IN_FLIGHT`: when a
 * slot frees, the next message is already here instead of one broker round trip (ack → next
 * delivery) away. The pipeline still bounds the POSTs in flight; the messages waiting for a slot
 * stay unacknowledged, so the broker redelivers them if the dispatcher dies.
 */
export const RABBITMQ_WINDOW_FACTOR = 2;

interface Session {
  readonly connection: ChannelModel;
  readonly channel: Channel;
  /** The consumer channel's acks, written once per loop turn (`multiple` for the settled prefix). */
  readonly acks: ChannelAcks<ConsumeMessage>;
  /** Opened on the first publish and again after the broker closed it (a channel error). */
  publisher: Promise<ConfirmChannel> | undefined;
  consumerTag: string | undefined;
  closed: boolean;
  /** One per message this session delivered and the pipeline holds: aborted when the session dies. */
  readonly held: Slots<AbortController>;
}

/** A publish the broker could not route (mandatory flag): the destination queue does not exist. */
class UnroutableError extends Error {
  override readonly name = 'UnroutableError';
}

/**
 * RabbitMQ source: consumes a queue with prefetch = maxInFlight, acks after the message settled,
 * nacks (requeue) what is released, and reconnects with backoff when the broker drops the
 * connection (unacked messages are redelivered by the broker, so nothing is lost).
 */
export class RabbitMQAdapter implements SourceAdapter {
  readonly source = 'rabbitmq' as const;
  private readonly config: RabbitMQConfig;
  private readonly context: AdapterContext;
  private session: Session | undefined;
  private pipeline: Pipeline | undefined;
  private stopping = false;
  private paused = false;
  private reconnecting: Promise<void> | undefined;
  /** Publish ids the broker returned as unroutable, until their confirm arrives. */
  private readonly returned = new Set<string>();
  /** Properties already reported as dropped (logged once each). */
  private readonly reportedDrops = new Set<string>();

  constructor(config: RabbitMQConfig, context: AdapterContext) {
    this.config = config;
    this.context = context;
  }

  /**
   * RABBITMQ_PREFETCH, else DELIVERY_MAX_IN_FLIGHT in `ordered` mode and
   * {@link RABBITMQ_WINDOW_FACTOR} × DELIVERY_MAX_IN_FLIGHT otherwise.
   */
  private get prefetch(): number {
    if (this.config.prefetch !== undefined) return this.config.prefetch;
    const maxInFlight = this.context.delivery?.maxInFlight ?? 1;
    return (this.context.delivery?.ordering ?? 'ordered') === 'ordered' ? maxInFlight : RABBITMQ_WINDOW_FACTOR * maxInFlight;
  }

  async start(pipeline: Pipeline): Promise<void> {
    this.pipeline = pipeline;
    await this.connectWithRetry();
  }

  private async connectWithRetry(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        await this.connect();
        return;
      } catch (error) {
        const delay = backoffDelay(attempt, { initialDelayMs: 250, maxDelayMs: 10_000 });
        this.context.logger.warn({ err: errorText(error), attempt, delayMs: delay }, 'could not connect to RabbitMQ; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async connect(): Promise<void> {
    const { config, context } = this;
    context.logger.info({ url: redactUrl(config.url) }, 'connecting to RabbitMQ');
    const connection = await amqp.connect(config.url, { clientProperties: { connection_name: config.connectionName } });
    try {
      const channel = await connection.createChannel();
      const acks = new ChannelAcks<ConsumeMessage>(channel, (error, msg) => {
        context.logger.warn({ err: errorText(error), deliveryTag: msg.fields.deliveryTag }, 'could not settle with RabbitMQ; it will redeliver');
      });
      const session: Session = { connection, channel, acks, publisher: undefined, consumerTag: undefined, closed: false, held: new Slots() };
      const lost = (why: string) => (error?: unknown): void => { this.onLost(session, why, error); };
      connection.on('error', (error: unknown) => { context.logger.warn({ err: errorText(error) }, 'RabbitMQ connection error'); });
      connection.on('close', lost('connection closed'));
      // Also how RabbitMQ's consumer_timeout ends a delivery held too long: it closes this channel.
      channel.on('error', (error: unknown) => { context.logger.warn({ err: errorText(error) }, 'RabbitMQ channel error'); });
      channel.on('close', lost('consumer channel closed'));
      if (config.declare) await channel.assertQueue(config.queue, { durable: true });
      if (config.exchange !== undefined) {
        if (config.declare) await channel.assertExchange(config.exchange, config.exchangeType, { durable: true });
        await channel.bindQueue(config.queue, config.exchange, config.routingKey);
      }
      await channel.prefetch(this.prefetch);
      this.session = session;
      const { consumerTag } = await channel.consume(config.queue, (msg) => { this.onMessage(session, msg); }, { noAck: false });
      session.consumerTag = consumerTag;
      context.logger.info({ queue: config.queue, prefetch: this.prefetch, exchange: config.exchange, routingKey: config.exchange === undefined ? undefined : config.routingKey }, 'consuming from RabbitMQ');
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  private onLost(session: Session, why: string, error?: unknown): void {
    if (session.closed) return;
    session.closed = true;
    session.acks.abandon();
    if (this.session === session) this.session = undefined;
    // The broker requeues everything this session delivered: the pipeline lets go of all of it now
    // (queued, waiting, retrying), so only attempts already at the function can be duplicated.
    for (const held of session.held.snapshot()) held.abort();
    session.held.clear();
    // A channel can die alone (e.g. a channel-level error): drop the whole connection and start over.
    session.connection.close().catch(() => undefined);
    if (this.stopping) return;
    this.context.logger.warn({ reason: why, err: error === undefined ? undefined : errorText(error) }, 'lost RabbitMQ; reconnecting (unacked messages will be redelivered)');
    this.reconnecting ??= this.connectWithRetry().finally(() => {
      this.reconnecting = undefined;
      if (this.session !== undefined) this.context.logger.info({}, 'reconnected to RabbitMQ');
    });
  }

  private onMessage(session: Session, msg: ConsumeMessage | null): void {
    const pipeline = this.pipeline;
    if (msg === null) {
      // The broker cancelled the consumer (queue deleted or failover): start over.
      this.onLost(session, 'consumer cancelled by the broker');
      return;
    }
    if (pipeline === undefined) return;
    session.acks.delivered(msg);
    const settle = (ack: boolean): void => {
      if (session.closed) return; // the broker already requeued it with the channel
      if (ack) session.acks.ack(msg);
      else session.acks.nack(msg);
    };
    if (this.paused) {
      settle(false);
      return;
    }
    const dropped: DroppedProperty[] = [];
    const message = amqpMessage(msg, this.config.queue, dropped);
    for (const { property, reason } of dropped) {
      if (this.reportedDrops.has(property)) continue;
      this.reportedDrops.add(property);
      this.context.logger.warn({ id: message.id, property, reason }, 'message property dropped from the headers');
    }
    const held = new AbortController();
    const slot = session.held.add(held);
    const done = (ack: boolean) => (): void => {
      session.held.delete(slot, held);
      settle(ack);
    };
    // Admission order is delivery order within the queue: admit synchronously in callback order.
    pipeline.admit(message, { release: held.signal }).then(
      (admission) => admission.settled.then(done(true), done(false)),
      done(false),
    );
  }

  /**
   * Publishes persistently and `mandatory`, and resolves only when the broker confirmed it: a
   * message it could not route (no such queue) comes back and counts as a failed write. With
   * RABBITMQ_DECLARE the queue is then declared and the publish tried once more. A publish-channel
   * error (e.g. a declare the broker refuses) closes only that channel, never the consumer's.
   */
  async publish(destination: string, body: Buffer, headers: Readonly<Record<string, string>>): Promise<void> {
    const session = this.session;
    if (session === undefined) throw new Error('not connected to RabbitMQ');
    const publisher = await this.publisher(session);
    try {
      await this.send(publisher, destination, body, headers);
    } catch (error) {
      if (!(error instanceof UnroutableError) || !this.config.declare) throw error;
      await publisher.assertQueue(destination, { durable: true });
      await this.send(publisher, destination, body, headers);
    }
  }

  private publisher(session: Session): Promise<ConfirmChannel> {
    if (session.publisher !== undefined) return session.publisher;
    const { logger } = this.context;
    const opened = session.connection.createConfirmChannel().then((channel) => {
      channel.on('error', (error: unknown) => { logger.warn({ err: errorText(error) }, 'RabbitMQ publish channel error'); });
      channel.on('close', () => { if (session.publisher === opened) session.publisher = undefined; });
      channel.on('return', (returned: ConsumeMessage) => {
        const id = returned.properties.messageId as unknown;
        if (typeof id === 'string') this.returned.add(id);
      });
      return channel;
    });
    session.publisher = opened;
    opened.catch(() => { if (session.publisher === opened) session.publisher = undefined; });
    return opened;
  }

  private send(publisher: ConfirmChannel, destination: string, body: Buffer, headers: Readonly<Record<string, string>>): Promise<void> {
    const { 'content-type': contentType, ...rest } = headers;
    // The id ties a basic.return (which the broker sends before the confirm) to this publish.
    const publishId = randomUUID();
    return new Promise<void>((resolve, reject) => {
      publisher.sendToQueue(destination, body, { persistent: true, mandatory: true, messageId: publishId, contentType, headers: rest }, (error: unknown) => {
        const unroutable = this.returned.delete(publishId);
        if (error !== null && error !== undefined) reject(error instanceof Error ? error : new Error(`RabbitMQ refused the publish to queue "${destination}"`));
        else if (unroutable) reject(new UnroutableError(`RabbitMQ could not route the publish to queue "${destination}": no such queue`));
        else resolve();
      });
    });
  }

  async pause(): Promise<void> {
    this.paused = true;
    const session = this.session;
    if (session?.consumerTag !== undefined && !session.closed) {
      await session.channel.cancel(session.consumerTag).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.paused = true;
    const session = this.session;
    this.session = undefined;
    if (session === undefined || session.closed) return;
    // Acks of settled messages are written before this; closing requeues anything still unacked.
    session.acks.flush();
    session.closed = true;
    session.acks.abandon();
    await session.channel.close().catch(() => undefined);
    const publisher = await session.publisher?.catch(() => undefined);
    await publisher?.close().catch(() => undefined);
    await session.connection.close().catch(() => undefined);
  }

  connected(): boolean {
    return this.session !== undefined && !this.session.closed && !this.paused;
  }
}

export const sourceModule: SourceModule<RabbitMQConfig> = {
  source: 'rabbitmq',
  parseConfig: parseRabbitMQConfig,
  createAdapter: (config, context) => new RabbitMQAdapter(config, context),
};
