import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { Message } from '../core/types.js';

/** `ce-id` of a Kafka record: its coordinates, identical on every redelivery. */
export function kafkaMessageId(topic: string, partition: number, offset: string): string {
  return `${topic}/${String(partition)}/${offset}`;
}

/** Kafka header values are bytes (or arrays of them); the function sees UTF-8 strings, repeated ones comma-joined. */
export function headersFromKafka(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (headers === undefined) return result;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    const text = values.map((item) => (typeof item === 'string' ? item : item.toString('utf8'))).join(',');
    const lower = name.toLowerCase();
    result[lower] = lower in result ? `${result[lower] ?? ''},${text}` : text;
  }
  return result;
}

/** The neutral message for a Kafka record; the lane is the partition, the key the record key. */
export function messageFromKafka(topic: string, partition: number, record: KafkaMessage): Message {
  const headers = headersFromKafka(record.headers);
  const contentType = headers['content-type'];
  delete headers['content-type'];
  const timestamp = Number(record.timestamp);
  return {
    id: kafkaMessageId(topic, partition, record.offset),
    body: record.value ?? Buffer.alloc(0),
    headers,
    contentType,
    topic,
    lane: `${topic}/${String(partition)}`,
    key: record.key === null ? undefined : record.key.toString('utf8'),
    time: Number.isFinite(timestamp) && timestamp > 0 ? new Date(timestamp) : new Date(),
    coordinates: { topic, partition, offset: record.offset },
  };
}
