/**
 * The part of `pulsar-client` (the official Node client, apache/pulsar-client-node, index.d.ts)
 * the Pulsar dispatcher uses. The package is an optional native dependency that cannot be
 * installed everywhere, so the adapter is typed against this subset and receives the module as
 * a dependency: the real one in production, a fake in tests. Names and shapes are the client's own.
 */

/** The client's subscription type names (note `KeyShared`: the broker and the trigger say `Key_Shared`). */
export type PulsarSubscriptionType = 'Exclusive' | 'Shared' | 'KeyShared' | 'Failover';
export type PulsarInitialPosition = 'Latest' | 'Earliest';

export interface PulsarMessageId {
  toString(): string;
  serialize(): Buffer;
}

export interface PulsarMessage {
  getTopicName(): string;
  getProperties(): Record<string, string>;
  getData(): Buffer;
  getMessageId(): PulsarMessageId;
  getPublishTimestamp(): number;
  getEventTimestamp(): number;
  getRedeliveryCount(): number;
  getPartitionKey(): string;
  getOrderingKey(): string;
}

export interface PulsarDeadLetterPolicy {
  deadLetterTopic: string;
  maxRedeliverCount?: number;
  initialSubscriptionName?: string;
}

export interface PulsarConsumerConfig {
  topic: string;
  subscription: string;
  subscriptionType?: PulsarSubscriptionType;
  subscriptionInitialPosition?: PulsarInitialPosition;
  /** 0 (off) or at least 10000: the client refuses anything in between. */
  ackTimeoutMs?: number;
  nAckRedeliverTimeoutMs?: number;
  /** Per partition of a partitioned topic. */
  receiverQueueSize?: number;
  /** Caps the receiver queues of all partitions together (the client's default is 50000). */
  maxTotalReceiverQueueSizeAcrossPartitions?: number;
  consumerName?: string;
  properties?: Record<string, string>;
  listener?: (message: PulsarMessage, consumer: PulsarConsumer) => void;
  deadLetterPolicy?: PulsarDeadLetterPolicy;
}

export interface PulsarConsumer {
  /**
   * Without `timeout`: asynchronous (the C++ client's receiveAsync), rejects when the consumer
   * closes. With `timeout` (ms): a blocking receive on a libuv worker thread, rejecting with
   * `Failed to receive message: TimeOut`.
   */
  receive(timeout?: number): Promise<PulsarMessage>;
  acknowledge(message: PulsarMessage): Promise<null>;
  negativeAcknowledge(message: PulsarMessage): void;
  isConnected(): boolean;
  close(): Promise<null>;
}

export interface PulsarProducerMessage {
  data: Buffer;
  properties?: Record<string, string>;
  eventTimestamp?: number;
  partitionKey?: string;
  orderingKey?: string;
}

export interface PulsarProducerConfig {
  topic: string;
  sendTimeoutMs?: number;
  batchingEnabled?: boolean;
  producerName?: string;
}

export interface PulsarProducer {
  /** Resolves once the broker persisted the message. */
  send(message: PulsarProducerMessage): Promise<PulsarMessageId>;
  flush(): Promise<null>;
  close(): Promise<null>;
}

export interface PulsarClientConfig {
  serviceUrl: string;
  authentication?: unknown;
  operationTimeoutSeconds?: number;
  tlsTrustCertsFilePath?: string;
  tlsValidateHostname?: boolean;
  tlsAllowInsecureConnection?: boolean;
  log?: (level: number, file: string, line: number, message: string) => void;
}

export interface PulsarClient {
  subscribe(config: PulsarConsumerConfig): Promise<PulsarConsumer>;
  createProducer(config: PulsarProducerConfig): Promise<PulsarProducer>;
  close(): Promise<null>;
}

/** The module object `pulsar-client` exports (CommonJS: `module.exports = { Client, AuthenticationToken, … }`). */
export interface PulsarModule {
  Client: new (config: PulsarClientConfig) => PulsarClient;
  AuthenticationToken: new (params: { token: string }) => unknown;
}
