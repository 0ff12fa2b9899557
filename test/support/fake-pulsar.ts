/**
 * A fake of the `pulsar-client` Node API (apache/pulsar-client-node, index.d.ts) backed by an
 * in-memory broker, for tests on machines where the native client cannot be installed. No real
 * broker is involved: tests using it say so in their names.
 *
 * It keeps the semantics the Pulsar dispatcher relies on:
 * - durable subscriptions with a cursor that survives consumers (a restarted consumer resumes);
 *   initial position Latest/Earliest applies when the subscription is created;
 * - `receive(timeout)` pulls from a receiver queue of `receiverQueueSize` (default 1000) that the
 *   broker fills; rejects with `Failed to receive message: TimeOut` / `AlreadyClosed`;
 * - `acknowledge` removes a message for good; `negativeAcknowledge` redelivers it after
 *   `nAckRedeliverTimeoutMs` (default 60 s). As in the C++ client (ConsumerImpl::
 *   redeliverUnacknowledgedMessages), on Shared and KeyShared that redelivers the nacked message
 *   with `getRedeliveryCount()` + 1 (the broker's in-memory redelivery tracker); on Exclusive and
 *   Failover it redelivers *every* unacknowledged message of the consumer and the count stays 0
 *   (the broker tracks redeliveries only for Shared dispatchers);
 * - negative acks live in the client: `close()` drops the pending ones, and the broker redelivers
 *   everything the closed consumer held at once (count unchanged), nacked messages included;
 * - the consumer's `receive()` calls are recorded (`receiveTimeouts`), so a test can check a
 *   client never blocks a libuv worker thread on a timed receive;
 * - KeyShared hash ranges go by consumer *name* (brokers before 3.0.7 / 3.3.2): consumers sharing a
 *   name share one range, and only the first of them gets its keys;
 * - ack timeout: with `ackTimeoutMs` set (0 or ≥ 10 s, as the real client demands; tests may lower
 *   the minimum) a received, unacknowledged message is redelivered with the count + 1;
 * - a closed consumer's unacknowledged messages go back to the subscription at once (count unchanged);
 * - subscription types by the client's names: `Exclusive` refuses a second consumer
 *   (ConsumerBusy), `Failover` feeds only the first consumer by name, `Shared` round-robins,
 *   `KeyShared` routes by ordering key, else partition key, so one key goes to one consumer;
 *   an unknown type name subscribes Exclusive, as the real client does silently;
 * - the client-side dead-letter policy, for Shared and KeyShared only (the C++ client ignores it
 *   otherwise): a message due for redelivery that was already redelivered `maxRedeliverCount`
 *   times goes to the dead-letter topic instead;
 * - producers: `send` stores the message and resolves with its id.
 */

type SubscriptionType = 'Exclusive' | 'Shared' | 'KeyShared' | 'Failover';

export interface FakeProducerMessage {
  data: Buffer;
  properties?: Record<string, string>;
  eventTimestamp?: number;
  partitionKey?: string;
  orderingKey?: string;
}

interface Stored {
  readonly index: number;
  readonly id: FakeMessageId;
  readonly data: Buffer;
  readonly properties: Record<string, string>;
  readonly partitionKey: string;
  readonly orderingKey: string;
  readonly publishTimestamp: number;
  readonly eventTimestamp: number;
  readonly producerName: string;
}

export class FakeMessageId {
  readonly ledgerId: number;
  readonly entryId: number;
  readonly partition = -1;
  readonly batchIndex = -1;
  constructor(ledgerId: number, entryId: number) {
    this.ledgerId = ledgerId;
    this.entryId = entryId;
  }
  static earliest(): FakeMessageId {
    return new FakeMessageId(-1, -1);
  }
  static latest(): FakeMessageId {
    return new FakeMessageId(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }
  /** The C++ client's format. */
  toString(): string {
    return `(${String(this.ledgerId)},${String(this.entryId)},${String(this.partition)},${String(this.batchIndex)})`;
  }
  serialize(): Buffer {
    return Buffer.from(this.toString());
  }
}

export class FakeMessage {
  private readonly stored: Stored;
  private readonly topic: string;
  private readonly redeliveryCount: number;
  constructor(topic: string, stored: Stored, redeliveryCount: number) {
    this.topic = topic;
    this.stored = stored;
    this.redeliveryCount = redeliveryCount;
  }
  getTopicName(): string {
    return this.topic;
  }
  getProperties(): Record<string, string> {
    return { ...this.stored.properties };
  }
  getData(): Buffer {
    return this.stored.data;
  }
  getMessageId(): FakeMessageId {
    return this.stored.id;
  }
  getPublishTimestamp(): number {
    return this.stored.publishTimestamp;
  }
  getEventTimestamp(): number {
    return this.stored.eventTimestamp;
  }
  getRedeliveryCount(): number {
    return this.redeliveryCount;
  }
  getPartitionKey(): string {
    return this.stored.partitionKey;
  }
  getOrderingKey(): string {
    return this.stored.orderingKey;
  }
  getProducerName(): string {
    return this.stored.producerName;
  }
  /** @internal */
  get entry(): Stored {
    return this.stored;
  }
}

type EntryState = 'available' | 'queued' | 'received' | 'nacked' | 'acked';

interface EntryTracking {
  state: EntryState;
  redeliveries: number;
  owner: FakeConsumer | undefined;
  timer: NodeJS.Timeout | undefined;
}

class FakeTopic {
  readonly name: string;
  readonly ledgerId: number;
  readonly messages: Stored[] = [];
  readonly subscriptions = new Map<string, FakeSubscription>();
  constructor(name: string, ledgerId: number) {
    this.name = name;
    this.ledgerId = ledgerId;
  }
}

class FakeSubscription {
  readonly name: string;
  readonly topic: FakeTopic;
  type: SubscriptionType;
  readonly consumers: FakeConsumer[] = [];
  readonly entries = new Map<number, EntryTracking>();
  /** Messages before this index existed before the subscription (Latest) or are all acked. */
  low: number;
  private roundRobin = 0;
  private readonly broker: FakePulsarBroker;

  constructor(broker: FakePulsarBroker, topic: FakeTopic, name: string, type: SubscriptionType, initial: 'Latest' | 'Earliest') {
    this.broker = broker;
    this.topic = topic;
    this.name = name;
    this.type = type;
    this.low = initial === 'Earliest' ? 0 : topic.messages.length;
  }

  tracking(index: number): EntryTracking {
    let entry = this.entries.get(index);
    if (entry === undefined) {
      entry = { state: 'available', redeliveries: 0, owner: undefined, timer: undefined };
      this.entries.set(index, entry);
    }
    return entry;
  }

  /** Unacknowledged messages (the backlog). */
  backlog(): number {
    let count = 0;
    for (let index = this.low; index < this.topic.messages.length; index += 1) {
      if (this.entries.get(index)?.state !== 'acked') count += 1;
    }
    return count;
  }

  ack(index: number): void {
    const entry = this.tracking(index);
    clearTimeout(entry.timer);
    entry.state = 'acked';
    entry.owner = undefined;
    while (this.low < this.topic.messages.length && this.entries.get(this.low)?.state === 'acked') {
      this.entries.delete(this.low);
      this.low += 1;
    }
    this.dispatch();
  }

  /** Back to the subscription for another delivery (nack delay over, ack timeout, consumer gone). */
  redeliver(index: number, countIt: boolean, policy: FakeConsumer | undefined): void {
    const entry = this.tracking(index);
    if (entry.state === 'acked') return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    const deadLetter = this.isShared() ? policy?.config.deadLetterPolicy : undefined;
    if (countIt && deadLetter !== undefined && entry.redeliveries >= (deadLetter.maxRedeliverCount ?? 0)) {
      const stored = this.topic.messages[index];
      if (stored !== undefined) {
        this.broker.publish(deadLetter.deadLetterTopic, {
          data: stored.data,
          properties: { ...stored.properties, REAL_TOPIC: this.topic.name, ORIGIN_MESSAGE_ID: stored.id.toString() },
          partitionKey: stored.partitionKey,
          orderingKey: stored.orderingKey,
          eventTimestamp: stored.eventTimestamp,
        });
      }
      this.ack(index);
      return;
    }
    if (countIt && this.isShared()) entry.redeliveries += 1;
    entry.state = 'available';
    entry.owner = undefined;
    this.dispatch();
  }

  /** Shared and KeyShared: the dispatchers with a redelivery tracker, where the client applies a dead-letter policy. */
  isShared(): boolean {
    return this.type === 'Shared' || this.type === 'KeyShared';
  }

  private keyOf(stored: Stored): string {
    return stored.orderingKey || stored.partitionKey;
  }

  private chooseConsumer(stored: Stored, blockedKeys: Set<string>): FakeConsumer | undefined | 'stop' {
    const open = this.consumers.filter((consumer) => !consumer.closed);
    if (open.length === 0) return 'stop';
    switch (this.type) {
      case 'Exclusive':
      case 'Failover': {
        // Failover on a non-partitioned topic: the broker sorts consumers by name; the first is active.
        const [active] = [...open].sort((a, b) => (a.config.consumerName ?? '').localeCompare(b.config.consumerName ?? '') || a.id - b.id);
        return active?.hasPermit() === true ? active : 'stop';
      }
      case 'Shared': {
        for (let tried = 0; tried < open.length; tried += 1) {
          const candidate = open[(this.roundRobin + tried) % open.length];
          if (candidate?.hasPermit() === true) {
            this.roundRobin = (this.roundRobin + tried + 1) % open.length;
            return candidate;
          }
        }
        return 'stop';
      }
      case 'KeyShared': {
        const key = this.keyOf(stored);
        if (blockedKeys.has(key)) return undefined;
        // Ranges by consumer name: of several consumers with one name, only the first is fed.
        const names = [...new Set(open.map((consumer) => consumer.config.consumerName ?? `#${String(consumer.id)}`))].sort();
        const name = names[hash(key) % names.length];
        const owner = [...open].sort((a, b) => a.id - b.id).find((consumer) => (consumer.config.consumerName ?? `#${String(consumer.id)}`) === name);
        if (owner?.hasPermit() === true) return owner;
        // The key's consumer is full: later messages of that key wait too, so the key stays in order.
        blockedKeys.add(key);
        return undefined;
      }
    }
  }

  /** Hands available messages, oldest first, to consumers with room in their receiver queue. */
  dispatch(): void {
    const blockedKeys = new Set<string>();
    for (let index = this.low; index < this.topic.messages.length; index += 1) {
      const stored = this.topic.messages[index];
      if (stored === undefined) break;
      const entry = this.tracking(index);
      if (entry.state !== 'available') continue;
      const consumer = this.chooseConsumer(stored, blockedKeys);
      if (consumer === 'stop') return;
      if (consumer === undefined) continue;
      entry.state = 'queued';
      entry.owner = consumer;
      consumer.enqueue(new FakeMessage(this.topic.name, stored, entry.redeliveries));
    }
  }
}

function hash(key: string): number {
  let value = 2_166_136_261;
  for (let i = 0; i < key.length; i += 1) {
    value ^= key.charCodeAt(i);
    value = Math.imul(value, 16_777_619);
  }
  return value >>> 0;
}

export interface FakeConsumerConfig {
  topic: string;
  subscription: string;
  subscriptionType?: string;
  subscriptionInitialPosition?: 'Latest' | 'Earliest';
  ackTimeoutMs?: number;
  nAckRedeliverTimeoutMs?: number;
  receiverQueueSize?: number;
  consumerName?: string;
  listener?: (message: FakeMessage, consumer: FakeConsumer) => void;
  deadLetterPolicy?: { deadLetterTopic: string; maxRedeliverCount?: number; initialSubscriptionName?: string };
}

let consumerIds = 0;

export class FakeConsumer {
  readonly id = (consumerIds += 1);
  readonly config: FakeConsumerConfig;
  closed = false;
  private readonly subscription: FakeSubscription;
  private readonly queue: FakeMessage[] = [];
  private readonly waiting: { resolve: (message: FakeMessage) => void; reject: (error: Error) => void; timer: NodeJS.Timeout | undefined }[] = [];
  private readonly ackTimeoutMs: number;
  private readonly nackDelayMs: number;
  private readonly capacity: number;

  constructor(subscription: FakeSubscription, config: FakeConsumerConfig) {
    this.subscription = subscription;
    this.config = config;
    this.ackTimeoutMs = config.ackTimeoutMs ?? 0;
    this.nackDelayMs = config.nAckRedeliverTimeoutMs ?? 60_000;
    this.capacity = config.receiverQueueSize ?? 1_000;
  }

  hasPermit(): boolean {
    return !this.closed && (this.config.listener !== undefined || this.queue.length < this.capacity);
  }

  enqueue(message: FakeMessage): void {
    const listener = this.config.listener;
    if (listener !== undefined) {
      this.markReceived(message);
      setImmediate(() => {
        if (!this.closed) listener(message, this);
      });
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      this.markReceived(message);
      waiter.resolve(message);
      return;
    }
    this.queue.push(message);
  }

  private markReceived(message: FakeMessage): void {
    const entry = this.subscription.tracking(message.entry.index);
    entry.state = 'received';
    if (this.ackTimeoutMs > 0) {
      entry.timer = setTimeout(() => {
        if (entry.state === 'received' && entry.owner === this) this.subscription.redeliver(message.entry.index, true, this);
      }, this.ackTimeoutMs);
      entry.timer.unref();
    }
  }

  /** The `timeout` argument of every `receive` call (`undefined`: the asynchronous form). */
  readonly receiveTimeouts: (number | undefined)[] = [];

  receive(timeout?: number): Promise<FakeMessage> {
    this.receiveTimeouts.push(timeout);
    if (this.closed) return Promise.reject(new Error('Failed to receive message: AlreadyClosed'));
    if (this.config.listener !== undefined) return Promise.reject(new Error('Failed to receive message: InvalidConfiguration'));
    const next = this.queue.shift();
    if (next !== undefined) {
      this.markReceived(next);
      // A permit freed: the broker sends more.
      setImmediate(() => { this.subscription.dispatch(); });
      return Promise.resolve(next);
    }
    return new Promise<FakeMessage>((resolve, reject) => {
      const waiter = {
        resolve: (message: FakeMessage) => {
          resolve(message);
          setImmediate(() => { this.subscription.dispatch(); });
        },
        reject,
        timer: undefined as NodeJS.Timeout | undefined,
      };
      if (timeout !== undefined && timeout > 0) {
        waiter.timer = setTimeout(() => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new Error('Failed to receive message: TimeOut'));
        }, timeout);
      }
      this.waiting.push(waiter);
    });
  }

  acknowledge(message: FakeMessage): Promise<null> {
    if (this.closed) return Promise.reject(new Error('Failed to acknowledge: AlreadyClosed'));
    // The broker acknowledges by message id, whichever consumer holds it now.
    const entry = this.subscription.entries.get(message.entry.index);
    if (entry !== undefined && entry.state !== 'acked') this.subscription.ack(message.entry.index);
    return Promise.resolve(null);
  }

  acknowledgeId(id: FakeMessageId): Promise<null> {
    const stored = this.subscription.topic.messages.find((candidate) => candidate.id === id || candidate.id.toString() === id.toString());
    if (stored !== undefined) this.subscription.ack(stored.index);
    return Promise.resolve(null);
  }

  negativeAcknowledge(message: FakeMessage): void {
    if (this.closed) return;
    const entry = this.subscription.tracking(message.entry.index);
    if (entry.state === 'acked' || entry.owner !== this) return;
    clearTimeout(entry.timer);
    entry.state = 'nacked';
    entry.timer = setTimeout(() => {
      if (entry.state !== 'nacked') return;
      if (this.subscription.isShared()) {
        this.subscription.redeliver(message.entry.index, true, this);
        return;
      }
      // Exclusive/Failover: the client asks for every unacknowledged message again.
      this.queue.length = 0;
      const held = [...this.subscription.entries].filter(([, tracked]) => tracked.owner === this && tracked.state !== 'acked').map(([index]) => index);
      for (const index of held) this.subscription.redeliver(index, false, undefined);
    }, this.nackDelayMs);
    entry.timer.unref();
  }

  isConnected(): boolean {
    return !this.closed;
  }

  /** Closes the consumer; what it held unacknowledged goes back to the subscription. */
  close(): Promise<null> {
    if (this.closed) return Promise.resolve(null);
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('Failed to receive message: AlreadyClosed'));
    }
    this.queue.length = 0;
    const consumers = this.subscription.consumers;
    consumers.splice(consumers.indexOf(this), 1);
    for (const [index, entry] of this.subscription.entries) {
      if (entry.owner === this && entry.state !== 'acked') {
        // Pending nacks die with the client: the broker sees an unacknowledged message and redelivers it now.
        this.subscription.redeliver(index, false, undefined);
      }
    }
    this.subscription.dispatch();
    return Promise.resolve(null);
  }
}

export class FakeProducer {
  private readonly broker: FakePulsarBroker;
  private readonly topic: string;
  private closed = false;
  constructor(broker: FakePulsarBroker, topic: string) {
    this.broker = broker;
    this.topic = topic;
  }
  send(message: FakeProducerMessage): Promise<FakeMessageId> {
    if (this.closed) return Promise.reject(new Error('Failed to send message: AlreadyClosed'));
    if (this.broker.failSends > 0) {
      this.broker.failSends -= 1;
      return Promise.reject(new Error('Failed to send message: TimeOut'));
    }
    return Promise.resolve(this.broker.publish(this.topic, message));
  }
  flush(): Promise<null> {
    return Promise.resolve(null);
  }
  close(): Promise<null> {
    this.closed = true;
    return Promise.resolve(null);
  }
  getTopic(): string {
    return fullTopic(this.topic);
  }
  isConnected(): boolean {
    return !this.closed;
  }
}

export interface FakeClientConfig {
  serviceUrl: string;
  authentication?: unknown;
  [option: string]: unknown;
}

/** `persistent://public/default/t` for `t`, as the broker expands short names. */
export function fullTopic(topic: string): string {
  if (/^(non-)?persistent:\/\//.test(topic)) return topic;
  return topic.split('/').length === 3 ? `persistent://${topic}` : `persistent://public/default/${topic}`;
}

export interface FakePulsarOptions {
  /** The real client refuses an ack timeout between 1 and 9,999 ms; tests may lower this. */
  readonly minAckTimeoutMs?: number;
}

/** The in-memory broker behind the fake module; tests publish and inspect through it. */
export class FakePulsarBroker {
  readonly topics = new Map<string, FakeTopic>();
  readonly clients: { config: FakeClientConfig; closed: boolean }[] = [];
  /** The next N producer sends fail (a broker refusing a publish). */
  failSends = 0;
  private nextLedger = 100;
  private readonly minAckTimeoutMs: number;
  /** The object to hand to the adapter in place of `import('pulsar-client')`. */
  readonly module: {
    Client: new (config: FakeClientConfig) => FakeClient;
    AuthenticationToken: new (params: { token: string }) => FakeAuthenticationToken;
    MessageId: typeof FakeMessageId;
  };

  constructor(options: FakePulsarOptions = {}) {
    this.minAckTimeoutMs = options.minAckTimeoutMs ?? 10_000;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the module's classes close over their broker
    const broker = this;
    this.module = {
      Client: class extends FakeClient {
        constructor(config: FakeClientConfig) {
          super(broker, config);
        }
      },
      AuthenticationToken: FakeAuthenticationToken,
      MessageId: FakeMessageId,
    };
  }

  topic(name: string): FakeTopic {
    const full = fullTopic(name);
    let topic = this.topics.get(full);
    if (topic === undefined) {
      topic = new FakeTopic(full, (this.nextLedger += 1));
      this.topics.set(full, topic);
    }
    return topic;
  }

  /** Stores a message as a producer would and dispatches it. */
  publish(topicName: string, message: FakeProducerMessage, producerName = 'test-producer'): FakeMessageId {
    const topic = this.topic(topicName);
    const index = topic.messages.length;
    const stored: Stored = {
      index,
      id: new FakeMessageId(topic.ledgerId, index),
      data: Buffer.from(message.data),
      properties: { ...(message.properties ?? {}) },
      partitionKey: message.partitionKey ?? '',
      orderingKey: message.orderingKey ?? '',
      publishTimestamp: Date.now(),
      eventTimestamp: message.eventTimestamp ?? 0,
      producerName,
    };
    topic.messages.push(stored);
    for (const subscription of topic.subscriptions.values()) subscription.dispatch();
    return stored.id;
  }

  /** Messages stored on a topic (e.g. a dead-letter topic). */
  messages(topicName: string): FakeMessage[] {
    const topic = this.topic(topicName);
    return topic.messages.map((stored) => new FakeMessage(topic.name, stored, 0));
  }

  /** Unacknowledged messages on a subscription. */
  backlog(topicName: string, subscription: string): number {
    return this.topic(topicName).subscriptions.get(subscription)?.backlog() ?? 0;
  }

  subscribe(config: FakeConsumerConfig): FakeConsumer {
    if (config.topic === '' || config.subscription === '') {
      throw new Error('Topic, topics or topicsPattern is required and must be specified as a string when creating consumer');
    }
    const ackTimeout = config.ackTimeoutMs ?? 0;
    if (ackTimeout !== 0 && ackTimeout < this.minAckTimeoutMs) {
      throw new Error(`Ack timeout should be 0 or greater than or equal to ${String(this.minAckTimeoutMs)}`);
    }
    const requested = config.subscriptionType ?? 'Exclusive';
    // The real client maps unknown names to its default (Exclusive) without a word.
    const type: SubscriptionType = (['Exclusive', 'Shared', 'KeyShared', 'Failover'] as const).find((known) => known === requested) ?? 'Exclusive';
    const topic = this.topic(config.topic);
    let subscription = topic.subscriptions.get(config.subscription);
    if (subscription === undefined) {
      subscription = new FakeSubscription(this, topic, config.subscription, type, config.subscriptionInitialPosition ?? 'Latest');
      topic.subscriptions.set(config.subscription, subscription);
    }
    if (subscription.consumers.length > 0) {
      if (subscription.type !== type) throw new Error('Failed to create consumer: ConsumerBusy (subscription is of a different type)');
      if (type === 'Exclusive') throw new Error('Failed to create consumer: ConsumerBusy');
    } else {
      subscription.type = type;
    }
    const consumer = new FakeConsumer(subscription, config);
    subscription.consumers.push(consumer);
    subscription.dispatch();
    return consumer;
  }
}

export class FakeAuthenticationToken {
  readonly token: string;
  constructor(params: { token: string }) {
    this.token = params.token;
  }
}

export class FakeClient {
  private readonly broker: FakePulsarBroker;
  private readonly record: { config: FakeClientConfig; closed: boolean };
  private readonly consumers: FakeConsumer[] = [];
  private readonly producers: FakeProducer[] = [];

  constructor(broker: FakePulsarBroker, config: FakeClientConfig) {
    if (!/^pulsar(\+ssl)?:\/\//.test(config.serviceUrl)) throw new Error(`Invalid service URL: ${config.serviceUrl}`);
    this.broker = broker;
    this.record = { config, closed: false };
    broker.clients.push(this.record);
  }

  subscribe(config: FakeConsumerConfig): Promise<FakeConsumer> {
    if (this.record.closed) return Promise.reject(new Error('Failed to create consumer: AlreadyClosed'));
    try {
      const consumer = this.broker.subscribe(config);
      this.consumers.push(consumer);
      return Promise.resolve(consumer);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  createProducer(config: { topic: string }): Promise<FakeProducer> {
    if (this.record.closed) return Promise.reject(new Error('Failed to create producer: AlreadyClosed'));
    const producer = new FakeProducer(this.broker, config.topic);
    this.producers.push(producer);
    return Promise.resolve(producer);
  }

  /** Closes every consumer and producer of this client (what the broker sees when a process dies). */
  async close(): Promise<null> {
    this.record.closed = true;
    for (const consumer of this.consumers) await consumer.close();
    for (const producer of this.producers) await producer.close();
    return null;
  }
}
