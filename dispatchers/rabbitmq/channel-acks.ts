/** A delivery as ChannelAcks sees it: amqplib's ConsumeMessage has this shape. */
export interface Tagged {
  readonly fields: { readonly deliveryTag: number };
}

/** What ChannelAcks needs of an amqplib channel. */
export interface AckChannel<M extends Tagged> {
  ack(message: M, allUpTo?: boolean): void;
  nack(message: M, allUpTo?: boolean, requeue?: boolean): void;
}

/**
 * The acknowledgements of one consumer channel, coalesced per event-loop turn. Acks queued in a
 * turn are written at its end: the ones below the lowest delivery tag still unsettled as a single
 * `basic.ack` with `multiple` (RabbitMQ then acks every outstanding tag up to it), the rest one by
 * one. A `multiple` ack therefore never covers a delivery that has not settled — one still waiting,
 * in an attempt or retrying stays unacked, and the broker redelivers it if the dispatcher dies.
 * Nacks (release with requeue) are written at once, one by one.
 */
export class ChannelAcks<M extends Tagged> {
  private readonly channel: AckChannel<M>;
  private readonly onError: (error: unknown, message: M) => void;
  /** Delivery tags handed to the dispatcher and neither acked nor nacked on the wire yet. */
  private readonly open = new Set<number>();
  private ready: M[] = [];
  private flushScheduled = false;
  private abandoned = false;

  constructor(channel: AckChannel<M>, onError: (error: unknown, message: M) => void) {
    this.channel = channel;
    this.onError = onError;
  }

  /** Every delivery of the channel is registered here first, in delivery order. */
  delivered(message: M): void {
    if (this.abandoned) return;
    this.open.add(message.fields.deliveryTag);
  }

  /** Acknowledges `message` at the end of this loop turn. */
  ack(message: M): void {
    if (this.abandoned) return;
    this.ready.push(message);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => { this.flush(); });
  }

  /** Releases `message` back to the queue (requeue) now. */
  nack(message: M): void {
    if (this.abandoned) return;
    this.open.delete(message.fields.deliveryTag);
    try {
      this.channel.nack(message, false, true);
    } catch (error) {
      this.onError(error, message);
    }
  }

  /** Writes the queued acks; once per loop turn, and before the channel closes. */
  flush(): void {
    this.flushScheduled = false;
    if (this.ready.length === 0) return;
    const ready = this.ready;
    this.ready = [];
    for (const message of ready) this.open.delete(message.fields.deliveryTag);
    let lowestUnsettled = Number.POSITIVE_INFINITY;
    for (const tag of this.open) if (tag < lowestUnsettled) lowestUnsettled = tag;
    ready.sort((a, b) => a.fields.deliveryTag - b.fields.deliveryTag);
    let covered = 0;
    while (covered < ready.length && (ready[covered]?.fields.deliveryTag ?? Number.POSITIVE_INFINITY) < lowestUnsettled) covered += 1;
    const highestCovered = covered > 1 ? ready[covered - 1] : undefined;
    if (highestCovered !== undefined) this.write(highestCovered, true);
    for (let i = highestCovered === undefined ? 0 : covered; i < ready.length; i += 1) {
      const message = ready[i];
      if (message !== undefined) this.write(message, false);
    }
  }

  private write(message: M, allUpTo: boolean): void {
    try {
      this.channel.ack(message, allUpTo);
    } catch (error) {
      this.onError(error, message);
    }
  }

  /** Deliveries registered and not yet acked or nacked on the wire. */
  get outstanding(): number {
    return this.open.size;
  }

  /** The channel is gone (the broker requeued everything unacked): nothing more is written. */
  abandon(): void {
    this.abandoned = true;
    this.ready = [];
    this.open.clear();
  }
}
