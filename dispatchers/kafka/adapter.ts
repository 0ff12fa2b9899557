import { Kafka, logLevel as KafkaLogLevel, Partitioners } from 'kafkajs';
import type { Consumer, EachBatchPayload, KafkaConfig as KafkaJsConfig, LogEntry, Producer, SASLOptions } from 'kafkajs';
import type { Gauge } from 'prom-client';
import { unrefDelay } from '../core/clock.js';
import { consumerLagGauge, lagLabels } from '../core/metrics.js';
import type { LagLabel } from '../core/metrics.js';
import { ReleasedError, Source } from '../core/types.js';
import type { AdapterContext, Logger, Message, Pipeline, SourceAdapter } from '../core/types.js';
import type { KafkaConfig } from './config.js';
import { messageFromKafka } from './message.js';
import { OffsetTracker } from './offset-tracker.js';
import { ignoreKafkaJsNegativeTimeoutWarning } from './quiet-kafkajs.js';
import type { CommitOffset, TopicPartition } from './offset-tracker.js';

/** eachBatch calls running at once; each waits at most `windowWaitMs` before pausing its partition. */
const PARTITIONS_CONSUMED_CONCURRENTLY = 32;
/** How long close() keeps retrying a refused final commit (the runtime's close budget is 5 s). */
const SHUTDOWN_COMMIT_RETRY_MS = 4_000;
/** What a heartbeat tick resolves with, to tell it from the awaited work's result. */
const HEARTBEAT_DUE: unique symbol = Symbol('heartbeat due');

export interface KafkaAdapterDependencies {
  /** A kafkajs client; built from the configuration when absent. */
  readonly kafka?: Kafka;
}

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${String(partition)}`;


/** kafkajs client options for the configuration: client id, brokers, SASL, TLS, quiet retries. */
export function kafkaClientConfig(config: KafkaConfig, logger: Logger): KafkaJsConfig {
  const sasl: SASLOptions | undefined =
    config.sasl === undefined
      ? undefined
      : config.sasl.mechanism === 'plain'
        ? { mechanism: 'plain', username: config.sasl.username, password: config.sasl.password }
        : config.sasl.mechanism === 'scram-sha-256'
          ? { mechanism: 'scram-sha-256', username: config.sasl.username, password: config.sasl.password }
          : { mechanism: 'scram-sha-512', username: config.sasl.username, password: config.sasl.password };
  return {
    clientId: config.clientId,
    brokers: [...config.brokers],
    ...(sasl === undefined ? {} : { sasl }),
    ...(config.tls === undefined
      ? {}
      : {
          ssl: {
            rejectUnauthorized: config.tls.rejectUnauthorized,
            ...(config.tls.ca === undefined ? {} : { ca: [config.tls.ca] }),
            ...(config.tls.cert === undefined ? {} : { cert: config.tls.cert }),
            ...(config.tls.key === undefined ? {} : { key: config.tls.key }),
          },
        }),
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log;
      // The logger already carries `source`; kafkajs' own namespace says which part of it spoke.
      const record = { kafkajs: entry.namespace, ...fields };
      // A request refused because the group is rebalancing is routine; the adapter logs what it means.
      const routine = message.startsWith('Response ') && /rebalanc|generation/i.test(String(fields.error));
      if (routine) logger.debug(record, message);
      else if (entry.level <= KafkaLogLevel.ERROR) logger.error(record, message);
      else if (entry.level === KafkaLogLevel.WARN) logger.warn(record, message);
      else logger.debug(record, message);
    },
  };
}

/**
 * The Kafka source: a consumer-group member that feeds the pipeline partition by partition,
 * pauses a partition whose window of unsettled messages is full (instead of buffering), and
 * commits only the settled prefix of each partition — periodically, when a rebalance starts,
 * and on close.
 */
export class KafkaAdapter implements SourceAdapter {
  readonly source = Source.Kafka;
  private readonly config: KafkaConfig;
  /** Unsettled messages per partition before it is paused. */
  private readonly window: number;
  private readonly logger: Logger;
  private readonly kafka: Kafka;
  private readonly tracker = new OffsetTracker();
  private readonly lag: Gauge<LagLabel>;
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private pipeline: Pipeline | undefined;
  private assignment: TopicPartition[] = [];
  /** Partitions this adapter paused because their window is full. */
  private readonly backpressured = new Set<string>();
  private readonly progressWaiters = new Map<string, Set<() => void>>();
  private readonly highWatermarks = new Map<string, bigint>();
  private draining = false;
  private joined = false;
  private commitTimer: NodeJS.Timeout | undefined;
  private recovery: NodeJS.Timeout | undefined;
  private recoveryAttempts = 0;
  /** A replacement consumer is waiting for its backoff or being started. */
  private recovering = false;
  private crashedWhileRecovering = false;
  private commitChain: Promise<boolean> = Promise.resolve(true);

  constructor(config: KafkaConfig, context: AdapterContext, dependencies: KafkaAdapterDependencies = {}) {
    this.config = config;
    const { delivery } = context;
    this.window = delivery === undefined ? config.partitionWindow : delivery.ordering === 'ordered' ? 1 : delivery.maxInFlight;
    this.logger = context.logger;
    ignoreKafkaJsNegativeTimeoutWarning();
    this.kafka = dependencies.kafka ?? new Kafka(kafkaClientConfig(config, context.logger));
    this.lag = consumerLagGauge(context.registry);
  }

  async start(pipeline: Pipeline): Promise<void> {
    this.pipeline = pipeline;
    // An explicit partitioner (kafkajs' default, Java-compatible murmur2) also keeps kafkajs from
    // printing its v2 partitioner notice.
    const producer = this.kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
    this.producer = producer;
    this.logger.info({ brokers: this.config.brokers }, 'connecting to Kafka');
    await producer.connect();
    await this.startConsumer();
  }

  private async startConsumer(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.config.groupId,
      sessionTimeout: this.config.sessionTimeoutMs,
      rebalanceTimeout: this.config.rebalanceTimeoutMs,
      heartbeatInterval: this.config.heartbeatIntervalMs,
      maxWaitTimeInMs: this.config.fetchMaxWaitMs,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.onAssignment(event.payload.memberAssignment);
    });
    consumer.on(consumer.events.REBALANCING, () => {
      // Partitions may be revoked: commit what settled while this member still owns them.
      void this.commitNow('rebalance');
    });
    consumer.on(consumer.events.DISCONNECT, () => {
      this.joined = false;
    });
    consumer.on(consumer.events.CRASH, (event) => {
      // A late event of a consumer already replaced says nothing about the current one.
      if (consumer !== this.consumer) return;
      this.joined = false;
      const { error, restart } = event.payload;
      this.logger.error({ err: String(error), restart }, 'kafka consumer crashed');
      // kafkajs restarts itself only after retriable errors; anything else would leave this
      // replica connected to nothing and never ready.
      if (!restart) this.scheduleRecovery();
    });

    await consumer.connect();
    await consumer.subscribe({ topics: [...this.config.topics], fromBeginning: this.config.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: PARTITIONS_CONSUMED_CONCURRENTLY,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.logger.info(
      { topics: this.config.topics, groupId: this.config.groupId, clientId: this.config.clientId },
      'kafka consumer started',
    );
  }

  /**
   * Replaces a consumer that kafkajs gave up on, with backoff from 0.5 s doubling to 30 s. kafkajs
   * reports a failed join as CRASH from inside `consumer.run()`, so a replacement can crash while it
   * is being started: that crash is remembered and the replacement is replaced in turn. The backoff
   * starts again only once a consumer joined the group.
   */
  private scheduleRecovery(): void {
    if (this.draining) return;
    if (this.recovering) {
      this.crashedWhileRecovering = true;
      return;
    }
    this.recovering = true;
    this.recoveryAttempts += 1;
    const delay = Math.min(30_000, 500 * 2 ** (this.recoveryAttempts - 1));
    this.recovery = setTimeout(() => {
      void this.recover();
    }, delay);
    this.recovery.unref();
    this.logger.warn({ delayMs: delay, attempt: this.recoveryAttempts }, 'restarting the kafka consumer');
  }

  private async recover(): Promise<void> {
    if (this.draining) {
      this.recovering = false;
      return;
    }
    this.crashedWhileRecovering = false;
    const crashed = this.consumer;
    await crashed?.disconnect().catch(() => undefined);
    let failed = false;
    try {
      await this.startConsumer();
    } catch (err) {
      failed = true;
      this.logger.error({ err: String(err), attempt: this.recoveryAttempts }, 'kafka consumer restart failed');
    }
    this.recovering = false;
    // Not `||` directly: the flag is set by the CRASH handler while startConsumer() was awaited.
    const crashedMeanwhile = this.takeCrashedWhileRecovering();
    if (failed || crashedMeanwhile) this.scheduleRecovery();
  }

  private takeCrashedWhileRecovering(): boolean {
    const crashed = this.crashedWhileRecovering;
    this.crashedWhileRecovering = false;
    return crashed;
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const heartbeat = (): Promise<void> => this.heartbeat(payload);
    this.observeHighWatermark(topic, partition, batch.highWatermark, batch.firstOffset());
    for (const record of batch.messages) {
      if (this.draining || !payload.isRunning() || payload.isStale()) return;
      const highest = this.tracker.highestAdmitted(topic, partition);
      if (highest !== undefined && BigInt(record.offset) <= BigInt(highest)) {
        // Re-read after a rebalance while this member still holds it: already in the pipeline.
        payload.resolveOffset(record.offset);
        continue;
      }
      // The common case, room in the window, without an async call per record.
      if (!this.withinBounds(topic, partition) && !(await this.waitForWindow(topic, partition, heartbeat))) {
        this.pausePartition(topic, partition);
        return;
      }
      this.tracker.admit(topic, partition, record.offset);
      const admitted = this.admit(messageFromKafka(topic, partition, record), topic, partition, record.offset);
      if (!(await this.withHeartbeat(admitted, heartbeat))) return;
      payload.resolveOffset(record.offset);
    }
  }

  /** Hands one message to the pipeline; false when it was released instead of taken. */
  private async admit(message: Message, topic: string, partition: number, offset: string): Promise<boolean> {
    const pipeline = this.pipeline;
    if (pipeline === undefined) throw new Error('kafka adapter not started');
    let admission;
    try {
      admission = await pipeline.admit(message);
    } catch (err) {
      this.tracker.release(topic, partition, offset);
      if (!(err instanceof ReleasedError)) this.logger.error({ err: String(err), id: message.id }, 'admit failed');
      this.progress(topic, partition);
      return false;
    }
    admission.settled.then(
      () => {
        this.tracker.settle(topic, partition, offset);
        this.progress(topic, partition);
      },
      (err: unknown) => {
        // Released (or a core bug): never acknowledged, so never committed past.
        this.tracker.release(topic, partition, offset);
        if (!(err instanceof ReleasedError)) this.logger.error({ err: String(err), id: message.id }, 'settlement failed');
        this.progress(topic, partition);
      },
    );
    return true;
  }

  private async heartbeat(payload: EachBatchPayload): Promise<void> {
    try {
      await payload.heartbeat();
    } catch (err) {
      // A rebalance is starting (partitions may be revoked): commit synchronously first.
      await this.commitNow('rebalance');
      throw err;
    }
  }

  /**
   * Waits for `work`, heartbeating so a long wait never costs the group membership. The tick's
   * timer is cleared as soon as `work` settles: one per record, it would otherwise stay armed for a
   * whole heartbeat interval (thousands of live timers at a few thousand records per second).
   */
  private async withHeartbeat<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<typeof HEARTBEAT_DUE>((resolve) => {
        timer = setTimeout(resolve, this.config.heartbeatIntervalMs, HEARTBEAT_DUE);
        timer.unref();
      });
      let result: T | typeof HEARTBEAT_DUE;
      try {
        result = await Promise.race([work, tick]);
      } finally {
        clearTimeout(timer);
      }
      if (result !== HEARTBEAT_DUE) return result;
      await heartbeat();
    }
  }

  /** True once the partition's window has room; false after `windowWaitMs` or when draining. */
  private async waitForWindow(topic: string, partition: number, heartbeat: () => Promise<void>): Promise<boolean> {
    const deadline = Date.now() + this.config.windowWaitMs;
    while (!this.withinBounds(topic, partition)) {
      const remaining = deadline - Date.now();
      if (this.draining || remaining <= 0) return false;
      await this.waitForProgress(keyOf(topic, partition), remaining);
      await heartbeat();
    }
    return !this.draining;
  }

  private waitForProgress(key: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.progressWaiters.get(key);
      if (waiters === undefined) {
        waiters = new Set();
        this.progressWaiters.set(key, waiters);
      }
      const set = waiters;
      const wake = (): void => {
        clearTimeout(timer);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      timer.unref();
      set.add(wake);
    });
  }

  private progress(topic: string, partition: number): void {
    const key = keyOf(topic, partition);
    const waiters = this.progressWaiters.get(key);
    if (waiters !== undefined && waiters.size > 0) for (const wake of [...waiters]) wake();
    if (this.backpressured.has(key) && this.hasRoom(topic, partition)) this.resumePartition(topic, partition);
    this.scheduleCommit();
  }

  private hasRoom(topic: string, partition: number): boolean {
    return !this.draining && this.withinBounds(topic, partition);
  }

  /** Room for one more record: its window of unsettled records, and the ledger behind the oldest of them. */
  private withinBounds(topic: string, partition: number): boolean {
    return this.tracker.inFlight(topic, partition) < this.window && this.tracker.uncommitted(topic, partition) < this.config.maxUncommitted;
  }

  private pausePartition(topic: string, partition: number): void {
    if (this.draining) return;
    this.backpressured.add(keyOf(topic, partition));
    this.applyPause([{ topic, partition }], true);
    // A settlement may have landed between the window check and the pause.
    if (this.hasRoom(topic, partition)) this.resumePartition(topic, partition);
  }

  private resumePartition(topic: string, partition: number): void {
    this.backpressured.delete(keyOf(topic, partition));
    if (!this.draining) this.applyPause([{ topic, partition }], false);
  }

  /** Pauses/resumes single partitions only: kafkajs forgets a topic-wide pause when one partition is paused. */
  private applyPause(partitions: readonly TopicPartition[], pause: boolean): void {
    const consumer = this.consumer;
    if (consumer === undefined || partitions.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    const request = [...byTopic].map(([topic, list]) => ({ topic, partitions: list }));
    try {
      if (pause) consumer.pause(request);
      else consumer.resume(request);
    } catch (err) {
      this.logger.warn({ err: String(err) }, pause ? 'pause failed' : 'resume failed');
    }
  }

  private onAssignment(memberAssignment: Record<string, number[]>): void {
    this.assignment = Object.entries(memberAssignment).flatMap(([topic, partitions]) =>
      partitions.map((partition) => ({ topic, partition })),
    );
    const owned = new Set(this.assignment.map(({ topic, partition }) => keyOf(topic, partition)));
    const settledOnRevoked = this.tracker.committable().filter(({ topic, partition }) => !owned.has(keyOf(topic, partition)));
    const revoked = this.tracker.retain(this.assignment);
    if (settledOnRevoked.length > 0) void this.commitRevoked(settledOnRevoked);
    for (const { topic, partition } of revoked) {
      const key = keyOf(topic, partition);
      this.backpressured.delete(key);
      this.highWatermarks.delete(key);
      this.lag.remove(lagLabels({ topic, partition }));
      for (const wake of [...(this.progressWaiters.get(key) ?? [])]) wake();
    }
    // kafkajs keeps pause state across generations; make it match ours for the new assignment.
    const paused = this.assignment.filter(({ topic, partition }) => this.draining || !this.hasRoom(topic, partition));
    const running = this.assignment.filter(({ topic, partition }) => !this.draining && this.hasRoom(topic, partition));
    for (const { topic, partition } of paused) this.backpressured.add(keyOf(topic, partition));
    for (const { topic, partition } of running) this.backpressured.delete(keyOf(topic, partition));
    this.applyPause(paused, true);
    this.applyPause(running, false);
    this.joined = true;
    this.recoveryAttempts = 0;
    void this.commitNow('rebalance');
    this.logger.info(
      { assigned: this.assignment.map(({ topic, partition }) => `${topic}/${String(partition)}`), revoked: revoked.length },
      'kafka partitions assigned',
    );
  }

  private observeHighWatermark(topic: string, partition: number, highWatermark: string, firstOffset: string | null): void {
    const key = keyOf(topic, partition);
    this.highWatermarks.set(key, BigInt(highWatermark));
    const position = this.tracker.committedOffset(topic, partition) ?? firstOffset ?? highWatermark;
    this.lag.set(lagLabels({ topic, partition }), Number(BigInt(highWatermark) - BigInt(position)));
  }

  private scheduleCommit(): void {
    if (this.commitTimer !== undefined || this.consumer === undefined) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commitNow('interval');
    }, this.config.commitIntervalMs);
    this.commitTimer.unref();
  }

  /**
   * Commits every partition's settled prefix now, one commit request at a time. Resolves true when
   * nothing is left to commit, false when the broker refused (the offsets stay committable).
   */
  private commitNow(reason: string): Promise<boolean> {
    const next = this.commitChain.then(() => this.commitOnce(reason));
    this.commitChain = next;
    return next;
  }

  /**
   * Commits what this member settled on partitions it just lost, when the group refused the commit
   * while rebalancing (librdkafka's mock refuses every commit then; Kafka refuses them once the
   * group is completing the rebalance). Every offset below each value was delivered or
   * dead-lettered by this member, so this can only save the new owner duplicates, never skip a record.
   */
  private commitRevoked(offsets: readonly CommitOffset[]): Promise<boolean> {
    const consumer = this.consumer;
    const next = this.commitChain.then(async () => {
      if (consumer === undefined) return true;
      try {
        await consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
        this.logger.info({ offsets }, 'committed the settled offsets of revoked partitions');
        return true;
      } catch (err) {
        this.logger.warn({ err: String(err), offsets }, 'commit of revoked partitions failed; the new owner re-reads them');
        return false;
      }
    });
    this.commitChain = next;
    return next;
  }

  private async commitOnce(reason: string): Promise<boolean> {
    const consumer = this.consumer;
    const offsets: CommitOffset[] = this.tracker.committable();
    if (consumer === undefined || offsets.length === 0) return true;
    try {
      await consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
      this.tracker.committed(offsets);
      for (const { topic, partition, offset } of offsets) {
        const highWatermark = this.highWatermarks.get(keyOf(topic, partition));
        if (highWatermark !== undefined) {
          this.lag.set(lagLabels({ topic, partition }), Math.max(0, Number(highWatermark - BigInt(offset))));
        }
      }
      this.logger.debug({ reason, offsets }, 'committed');
      return true;
    } catch (err) {
      // Not lost: the offsets stay committable and go with the next commit (or are re-read).
      this.logger.warn({ reason, err: String(err), offsets }, 'commit failed');
      return false;
    }
  }

  pause(): Promise<void> {
    this.draining = true;
    this.applyPause(this.assignment, true);
    for (const waiters of this.progressWaiters.values()) for (const wake of [...waiters]) wake();
    // Commit what already settled now, while the group is most likely still stable (other replicas
    // stopping at the same moment will soon rebalance it); close() commits what settles meanwhile.
    void this.commitNow('shutdown');
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.draining = true;
    if (this.commitTimer !== undefined) clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    clearTimeout(this.recovery);
    // Commit synchronously while still a group member, then leave the group. A group that is
    // rebalancing (another replica stopping too) refuses commits until it re-formed: retry briefly.
    const deadline = Date.now() + SHUTDOWN_COMMIT_RETRY_MS;
    while (!(await this.commitNow('shutdown')) && Date.now() < deadline) await unrefDelay(250);
    this.joined = false;
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
  }

  connected(): boolean {
    return this.joined && !this.draining;
  }

  async publish(destination: string, body: Buffer, headers: Readonly<Record<string, string>>, key?: string): Promise<void> {
    const producer = this.producer;
    if (producer === undefined) throw new Error('kafka adapter not started: cannot publish');
    // acks=-1: resolved only once every in-sync replica has the record.
    await producer.send({ topic: destination, acks: -1, messages: [{ key: key ?? null, value: body, headers: { ...headers } }] });
  }
}
