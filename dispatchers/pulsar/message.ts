import type { Message } from '../core/types.js';
import type { PulsarMessage, PulsarMessageId } from './client-api.js';

/**
 * `ce-id` of a Pulsar message: its message id (ledger:entry:partition:batch), which the broker
 * keeps across redeliveries. The C++ client prints ids as `(ledger,entry,partition,batch)`.
 */
export function pulsarMessageId(id: PulsarMessageId): string {
  const text = id.toString();
  const match = /^\((-?\d+),(-?\d+),(-?\d+),(-?\d+)\)$/.exec(text);
  return match === null ? text : match.slice(1).join(':');
}

/** The neutral message: properties become headers, the ordering (else partition) key the key, the topic the lane. */
export function messageFromPulsar(message: PulsarMessage): Message {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.getProperties())) headers[name.toLowerCase()] = value;
  const contentType = headers['content-type'];
  delete headers['content-type'];
  const topic = message.getTopicName();
  const id = pulsarMessageId(message.getMessageId());
  const eventTime = message.getEventTimestamp();
  const key = message.getOrderingKey() || message.getPartitionKey();
  const redeliveries = message.getRedeliveryCount();
  return {
    id,
    body: message.getData(),
    headers,
    contentType,
    topic,
    lane: topic,
    key: key === '' ? undefined : key,
    time: new Date(eventTime > 0 ? eventTime : message.getPublishTimestamp() || Date.now()),
    coordinates: { topic, messageId: id, redeliveryCount: redeliveries },
    redeliveries,
  };
}
