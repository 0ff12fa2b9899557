import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { unrefDelay } from '../core/clock.js';
import { ReleasedError, Source } from '../core/types.js';
import type { AdapterContext, Logger, Pipeline, SourceAdapter } from '../core/types.js';
import type { PulsarClient, PulsarClientConfig, PulsarConsumer, PulsarConsumerConfig, PulsarMessage, PulsarModule, PulsarProducer } from './client-api.js';
import type { PulsarConfig } from './config.js';
import { loadPulsarClient } from './load.js';
import { messageFromPulsar } from './message.js';

export interface PulsarAdapterDependencies {
  /** Provides the `pulsar-client` module: the real one by default, a fake in tests. */
  readonly load?: () => Promise<PulsarModule>;
}

const RETRY_RECEIVE_MS = 1_000;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}


/**
 * `kurier-<namespace>-<name>-<host>-<random>`: unique per replica. Key_Shared brokers before
 * 3.0.7 / 3.3.2 give consumers of the same name the same hash range, so equal names would starve
 * all replicas but one.
 */
export function replicaConsumerName(namespace: string, name: string, host = hostname()): string {
  return `kurier-${namespace}-${name}-${host}-${randomBytes(3).toString('hex')}`;
}

/** The consumer options the adapter subscribes with (exported for tests and docs). */
export function consumerConfig(config: PulsarConfig, consumerName?: string): PulsarConsumerConfig {
  // The C++ client applies a dead-letter policy only to Shared and KeyShared subscriptions.
  const shared = config.clientSubscriptionType === 'Shared' || config.clientSubscriptionType === 'KeyShared';
  return {
    topic: config.topic,
    subscription: config.subscription,
    subscriptionType: config.clientSubscriptionType,
    subscriptionInitialPosition: config.initialPosition,
    // Off: a delivery may be retried for longer than any timeout, and the dispatcher always
    // acknowledges or negatively acknowledges; a dead dispatcher's messages come back on disconnect.
    ackTimeoutMs: 0,
    nAckRedeliverTimeoutMs: config.nackRedeliveryMs,
    receiverQueueSize: config.receiverQueueSize,
    // receiverQueueSize applies per partition; this caps the sum over a partitioned topic's partitions.
    maxTotalReceiverQueueSizeAcrossPartitions: config.receiverQueueSize,
    ...(consumerName === undefined ? {} : { consumerName }),
    ...(shared && config.deadLetterTopic !== undefined && config.maxRedeliverCount > 0
      ? { deadLetterPolicy: { deadLetterTopic: config.deadLetterTopic, maxRedeliverCount: config.maxRedeliverCount } }
      : {}),
  };
}

/**
 * The Pulsar source: one consumer on the trigger's subscription, pulled with `receive` so the
 * pipeline's admission is the backpressure; acknowledged after the pipeline settled a message,
 * negatively acknowledged (redelivered after the nack delay) when it was released.
 */
export class PulsarAdapter implements SourceAdapter {
  readonly source = Source.Pulsar;
  private readonly config: PulsarConfig;
  private readonly context: AdapterContext;
  private readonly logger: Logger;
  private readonly load: () => Promise<PulsarModule>;
  private client: PulsarClient | undefined;
  private consumer: PulsarConsumer | undefined;
  private readonly producers = new Map<string, Promise<PulsarProducer>>();
  private readonly acks = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** The loop is waiting in `receive()` (nothing of it in the pipeline). */
  private receiving = false;
  private tlsDir: string | undefined;

  constructor(config: PulsarConfig, context: AdapterContext, dependencies: PulsarAdapterDependencies = {}) {
    // The runtime's parsed delivery settings win over the lenient reading in parseConfig.
    this.config = {
      ...config,
      receiverQueueSize: context.delivery?.maxInFlight ?? config.receiverQueueSize,
      deadLetterTopic: context.delivery === undefined ? config.deadLetterTopic : context.delivery.deadLetterTopic,
    };
    this.context = context;
    this.logger = context.logger;
    this.load = dependencies.load ?? loadPulsarClient;
  }

  async start(pipeline: Pipeline): Promise<void> {
    const pulsar = await this.load();
    const clientConfig: PulsarClientConfig = {
      serviceUrl: this.config.serviceUrl,
      operationTimeoutSeconds: 30,
      tlsAllowInsecureConnection: this.config.tls.allowInsecureConnection,
      tlsValidateHostname: this.config.tls.validateHostname,
      // The native client logs to stdout by default; keep one JSON object a line.
      log: (level, file, line, message) => {
        const fields = { file, line };
        if (level >= 3) this.logger.error(fields, message);
        else if (level === 2) this.logger.warn(fields, message);
        else this.logger.debug(fields, message);
      },
    };
    if (this.config.authToken !== undefined) clientConfig.authentication = new pulsar.AuthenticationToken({ token: this.config.authToken });
    if (this.config.tls.trustCerts !== undefined) {
      this.tlsDir = await mkdtemp(join(tmpdir(), 'kurier-pulsar-'));
      const path = join(this.tlsDir, 'trust.pem');
      const pem = this.config.tls.trustCerts;
      await writeFile(path, pem.endsWith('\n') ? pem : `${pem}\n`, { mode: 0o600 });
      clientConfig.tlsTrustCertsFilePath = path;
    }
    const client = new pulsar.Client(clientConfig);
    this.client = client;
    const { trigger } = this.context;
    this.logger.info({ serviceUrl: this.config.serviceUrl, topic: this.config.topic }, 'connecting to Pulsar');
    this.consumer = await client.subscribe(consumerConfig(this.config, replicaConsumerName(trigger.namespace, trigger.name)));
    this.logger.info(
      { topic: this.config.topic, subscription: this.config.subscription, subscriptionType: this.config.subscriptionType },
      'pulsar consumer subscribed',
    );
    this.loop = this.receiveLoop(this.consumer, pipeline);
  }

  private async receiveLoop(consumer: PulsarConsumer, pipeline: Pipeline): Promise<void> {
    while (!this.isStopping()) {
      let received: PulsarMessage;
      try {
        // The asynchronous form: a timed receive blocks one of libuv's 4 worker threads, which DNS
        // lookups of the function's host share. Closing the consumer ends a pending receive.
        this.receiving = true;
        received = await consumer.receive();
      } catch (error) {
        if (this.isStopping()) break;
        if (/timeout/i.test(errorText(error))) continue;
        this.logger.warn({ err: errorText(error) }, 'receive failed; retrying');
        await unrefDelay(RETRY_RECEIVE_MS);
        continue;
      }
      this.receiving = false;
      if (this.isStopping()) {
        this.release(consumer, received);
        break;
      }
      const message = messageFromPulsar(received);
      try {
        const admission = await pipeline.admit(message);
        this.track(
          admission.settled.then(
            () => consumer.acknowledge(received).then(() => undefined),
            (error: unknown) => {
              // Released on shutdown (or a core bug): redeliver, never acknowledge.
              if (!(error instanceof ReleasedError)) this.logger.error({ id: message.id, err: errorText(error) }, 'settlement failed');
              this.release(consumer, received);
            },
          ),
          message.id,
        );
      } catch (error) {
        this.release(consumer, received);
        // Released: the pipeline is draining and takes nothing more.
        if (error instanceof ReleasedError) break;
        this.logger.error({ id: message.id, err: errorText(error) }, 'admit failed');
      }
    }
  }

  /** Negative acknowledgement: the broker redelivers after the nack delay (or on disconnect if this fails). */
  private release(consumer: PulsarConsumer, message: PulsarMessage): void {
    try {
      consumer.negativeAcknowledge(message);
    } catch (error) {
      this.logger.warn({ err: errorText(error) }, 'negative acknowledge failed; the broker redelivers on disconnect');
    }
  }

  /** A method, not the field: the flag changes while the loop awaits. */
  private isStopping(): boolean {
    return this.stopping;
  }

  private track(work: Promise<void>, id: string): void {
    const tracked = work.catch((error: unknown) => {
      // The broker redelivers what it did not see acknowledged: a duplicate, never a loss.
      this.logger.warn({ id, err: errorText(error) }, 'acknowledge failed; the message will be redelivered');
    });
    this.acks.add(tracked);
    void tracked.finally(() => this.acks.delete(tracked));
  }

  async pause(): Promise<void> {
    this.stopping = true;
    // A loop waiting in receive() takes nothing more (what arrives is released); close() ends the wait.
    if (!this.receiving) await this.loop;
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (!this.receiving) await this.loop;
    // Acks and nacks of everything the pipeline settled or released, before the consumer goes.
    await Promise.allSettled([...this.acks]);
    // Nacks live in the client and die with the consumer: the broker redelivers what was released at once.
    await this.consumer?.close().catch((error: unknown) => {
      this.logger.warn({ err: errorText(error) }, 'closing the consumer failed');
    });
    await this.loop;
    for (const producer of this.producers.values()) {
      await producer.then((ready) => ready.close()).catch(() => undefined);
    }
    await this.client?.close().catch(() => undefined);
    if (this.tlsDir !== undefined) await rm(this.tlsDir, { recursive: true, force: true });
  }

  connected(): boolean {
    return this.consumer?.isConnected() ?? false;
  }

  async publish(destination: string, body: Buffer, headers: Readonly<Record<string, string>>, key?: string): Promise<void> {
    const client = this.client;
    if (client === undefined) throw new Error('pulsar adapter not started: cannot publish');
    let producer = this.producers.get(destination);
    if (producer === undefined) {
      producer = client.createProducer({ topic: destination, sendTimeoutMs: 30_000, batchingEnabled: false });
      this.producers.set(destination, producer);
      // A failed creation is retried by the next publish.
      producer.catch(() => this.producers.delete(destination));
    }
    await (await producer).send({ data: body, properties: { ...headers }, ...(key === undefined ? {} : { partitionKey: key, orderingKey: key }) });
  }
}
