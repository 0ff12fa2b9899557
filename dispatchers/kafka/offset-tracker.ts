/**
 * Which Kafka offsets may be committed: per partition, only the contiguous prefix of admitted
 * messages that all settled. A message still in flight, released on shutdown, or kept retrying
 * because its dead-letter publish failed holds the commit back, however many later messages
 * settled. Pure bookkeeping: no I/O, no clock.
 */

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** An offset to commit: the next offset to read, i.e. last finished offset + 1 (Kafka's convention). */
export interface CommitOffset extends TopicPartition {
  readonly offset: string;
}

const Mark = { Pending: 0, Settled: 1, Released: 2 } as const;
type Mark = (typeof Mark)[keyof typeof Mark];

class PartitionLedger {
  /** Admitted offsets in increasing order, from the oldest not yet folded into `next`. */
  private offsets: bigint[] = [];
  private states: Mark[] = [];
  private head = 0;
  private highest: bigint | undefined;
  /** Next offset to read after the settled prefix; what a commit would write. */
  private next: bigint | undefined;
  private committedNext: bigint | undefined;
  private pending = 0;

  admit(offset: bigint): boolean {
    if (this.highest !== undefined && offset <= this.highest) return false;
    this.highest = offset;
    this.offsets.push(offset);
    this.states.push(Mark.Pending);
    this.pending += 1;
    return true;
  }

  finish(offset: bigint, state: Mark): void {
    const index = this.indexOf(offset);
    if (index === undefined || this.states[index] !== Mark.Pending) return;
    this.states[index] = state;
    this.pending -= 1;
    this.fold();
  }

  private indexOf(offset: bigint): number | undefined {
    // Offsets are sorted: binary search over the live part.
    let low = this.head;
    let high = this.offsets.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const value = this.offsets[mid];
      if (value === undefined) return undefined;
      if (value === offset) return mid;
      if (value < offset) low = mid + 1;
      else high = mid - 1;
    }
    return undefined;
  }

  private fold(): void {
    while (this.head < this.offsets.length && this.states[this.head] === Mark.Settled) {
      this.next = (this.offsets[this.head] ?? 0n) + 1n;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.head);
      this.states = this.states.slice(this.head);
      this.head = 0;
    }
  }

  /** Admitted and neither settled nor released. */
  inFlight(): number {
    return this.pending;
  }

  /** Admitted records from the oldest one not yet settled on: what the ledger holds, and what a restart would read again. */
  uncommitted(): number {
    return this.offsets.length - this.head;
  }

  committable(): bigint | undefined {
    if (this.next === undefined) return undefined;
    if (this.committedNext !== undefined && this.next <= this.committedNext) return undefined;
    return this.next;
  }

  committed(next: bigint): void {
    if (this.committedNext === undefined || next > this.committedNext) this.committedNext = next;
  }

  committedOffset(): bigint | undefined {
    return this.committedNext;
  }

  highestAdmitted(): bigint | undefined {
    return this.highest;
  }
}

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${String(partition)}`;

/** Offset bookkeeping for every partition this consumer currently owns. */
export class OffsetTracker {
  private readonly partitions = new Map<string, { tp: TopicPartition; ledger: PartitionLedger }>();

  private ledger(topic: string, partition: number, create: boolean): PartitionLedger | undefined {
    const key = keyOf(topic, partition);
    let entry = this.partitions.get(key);
    if (entry === undefined && create) {
      entry = { tp: { topic, partition }, ledger: new PartitionLedger() };
      this.partitions.set(key, entry);
    }
    return entry?.ledger;
  }

  /**
   * Records that a message is being handed to the pipeline. Returns false when the offset is not
   * above every offset already admitted on the partition: a re-fetch of a message this consumer
   * already holds (kafkajs re-reads from the committed offset after a rebalance), to be skipped.
   */
  admit(topic: string, partition: number, offset: string): boolean {
    return this.ledger(topic, partition, true)?.admit(BigInt(offset)) ?? false;
  }

  /** The message was delivered, dead-lettered or dropped by policy: it may be committed. */
  settle(topic: string, partition: number, offset: string): void {
    this.ledger(topic, partition, false)?.finish(BigInt(offset), Mark.Settled);
  }

  /** The message was released (shutdown): it must be read again, so the commit stops before it. */
  release(topic: string, partition: number, offset: string): void {
    this.ledger(topic, partition, false)?.finish(BigInt(offset), Mark.Released);
  }

  /** Messages of the partition admitted and not yet settled or released. */
  inFlight(topic: string, partition: number): number {
    return this.ledger(topic, partition, false)?.inFlight() ?? 0;
  }

  /**
   * Records of the partition admitted at or after its oldest unsettled one (settled ones included):
   * the ledger's size, and how many records a restart would read again at most.
   */
  uncommitted(topic: string, partition: number): number {
    return this.ledger(topic, partition, false)?.uncommitted() ?? 0;
  }

  /** Offsets whose settled prefix moved past the last commit, one per partition. */
  committable(): CommitOffset[] {
    const result: CommitOffset[] = [];
    for (const { tp, ledger } of this.partitions.values()) {
      const next = ledger.committable();
      if (next !== undefined) result.push({ ...tp, offset: next.toString() });
    }
    return result;
  }

  /** The broker confirmed these commits. */
  committed(offsets: readonly CommitOffset[]): void {
    for (const { topic, partition, offset } of offsets) this.ledger(topic, partition, false)?.committed(BigInt(offset));
  }

  /** Last offset this consumer committed on the partition (next to read), if any. */
  committedOffset(topic: string, partition: number): string | undefined {
    return this.ledger(topic, partition, false)?.committedOffset()?.toString();
  }

  /** Highest offset admitted on the partition, if any. */
  highestAdmitted(topic: string, partition: number): string | undefined {
    return this.ledger(topic, partition, false)?.highestAdmitted()?.toString();
  }

  /**
   * Forgets partitions no longer assigned: their settlements can no longer be committed by this
   * member (the new owner re-reads from the last commit). Returns the partitions forgotten.
   */
  retain(assignment: readonly TopicPartition[]): TopicPartition[] {
    const keep = new Set(assignment.map(({ topic, partition }) => keyOf(topic, partition)));
    const dropped: TopicPartition[] = [];
    for (const [key, { tp }] of this.partitions) {
      if (!keep.has(key)) {
        this.partitions.delete(key);
        dropped.push(tp);
      }
    }
    return dropped;
  }

  /** Partitions currently tracked. */
  tracked(): TopicPartition[] {
    return [...this.partitions.values()].map(({ tp }) => tp);
  }
}
