import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { backoffDelay } from '../core/backoff.js';
import type { AdapterContext, Message, Pipeline, SourceAdapter, SourceModule } from '../core/types.js';
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
  return JSON.stringify(value);
}

/**
 * AMQP message → neutral message. RabbitMQ assigns no message id, so the id is the publisher's
 * `message_id` (stable across redeliveries) or, when absent, a fresh one per delivery.
 */
export function amqpMessage(msg: ConsumeMessage, queue: string): Message {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(msg.properties.headers ?? {})) {
    if (value !== undefined && value !== null) headers[name.toLowerCase()] = headerValue(value);
  }
  const { properties, fields } = msg;
  const timestamp = typeof properties.timestamp === 'number' ? new Date(properties.timestamp * 1000) : new Date();
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

interface Session {
  readonly connection: ChannelModel;
  readonly channel: Channel;
  readonly publisher: ConfirmChannel;
  consumerTag: string | undefined;
  closed: boolean;
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
  private readonly declaredDestinations = new Set<string>();

  constructor(config: RabbitMQConfig, context: AdapterContext) {
    this.config = config;
    this.context = context;
  }

  private get prefetch(): number {
    return this.config.prefetch ?? this.context.delivery?.maxInFlight ?? 1;
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
    context.logger.info({ url: config.url.replace(/\/\/[^@/]*@/, '//') }, 'connecting to RabbitMQ');
    const connection = await amqp.connect(config.url, { clientProperties: { connection_name: config.connectionName } });
    try {
      const channel = await connection.createChannel();
      const publisher = await connection.createConfirmChannel();
      const session: Session = { connection, channel, publisher, consumerTag: undefined, closed: false };
      const lost = (why: string) => (error?: unknown): void => { this.onLost(session, why, error); };
      connection.on('error', (error: unknown) => { context.logger.warn({ err: errorText(error) }, 'RabbitMQ connection error'); });
      connection.on('close', lost('connection closed'));
      channel.on('error', (error: unknown) => { context.logger.warn({ err: errorText(error) }, 'RabbitMQ channel error'); });
      channel.on('close', lost('consumer channel closed'));
      publisher.on('error', (error: unknown) => { context.logger.warn({ err: errorText(error) }, 'RabbitMQ publish channel error'); });
      publisher.on('close', lost('publish channel closed'));
      if (config.declare) await channel.assertQueue(config.queue, { durable: true });
      if (config.exchange !== undefined) {
        if (config.declare) await channel.assertExchange(config.exchange, config.exchangeType, { durable: true });
        await channel.bindQueue(config.queue, config.exchange, config.routingKey);
      }
      await channel.prefetch(this.prefetch);
      this.session = session;
      this.declaredDestinations.clear();
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
    if (this.session === session) this.session = undefined;
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
    const settle = (ack: boolean): void => {
      if (session.closed) return; // the broker already requeued it with the channel
      try {
        if (ack) session.channel.ack(msg);
        else session.channel.nack(msg, false, true);
      } catch (error) {
        this.context.logger.warn({ err: errorText(error), deliveryTag: msg.fields.deliveryTag }, 'could not settle with RabbitMQ; it will redeliver');
      }
    };
    if (this.paused) {
      settle(false);
      return;
    }
    // Admission order is delivery order within the queue: admit synchronously in callback order.
    pipeline.admit(amqpMessage(msg, this.config.queue)).then(
      (admission) => admission.settled.then(() => { settle(true); }, () => { settle(false); }),
      () => { settle(false); },
    );
  }

  async publish(destination: string, body: Buffer, headers: Readonly<Record<string, string>>): Promise<void> {
    const session = this.session;
    if (session === undefined) throw new Error('not connected to RabbitMQ');
    if (this.config.declare && !this.declaredDestinations.has(destination)) {
      await session.publisher.assertQueue(destination, { durable: true });
      this.declaredDestinations.add(destination);
    }
    const { 'content-type': contentType, ...rest } = headers;
    await new Promise<void>((resolve, reject) => {
      session.publisher.sendToQueue(destination, body, { persistent: true, contentType, headers: rest }, (error: unknown) => {
        if (error === null || error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error(`broker refused the publish to ${destination}`));
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
    session.closed = true;
    // Acks of settled messages were written before this; closing requeues anything still unacked.
    await session.channel.close().catch(() => undefined);
    await session.publisher.close().catch(() => undefined);
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
