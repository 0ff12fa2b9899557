import type { Message, Source, TriggerIdentity } from './types.js';

/** The `event-namespace` header each kubeless trigger sent. */
export const KUBELESS_EVENT_NAMESPACE: Readonly<Record<Source, string>> = {
  kafka: 'kafkatriggers.kubeless.io',
  pulsar: 'pulsartriggers.kubeless.io',
  nats: 'natstriggers.kubeless.io',
  rabbitmq: 'rabbitmqtriggers.kubeless.io',
  cron: 'cronjobtriggers.kubeless.io',
};

const PLURAL: Readonly<Record<Source, string>> = {
  kafka: 'kafkatriggers',
  pulsar: 'pulsartriggers',
  nats: 'natstriggers',
  rabbitmq: 'rabbitmqtriggers',
  cron: 'crontriggers',
};

// Set by the HTTP client or meaningless when copied from a broker message.
const HOP_BY_HOP = new Set([
  'host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer',
  'proxy-connection', 'expect',
]);

export interface RequestContext {
  readonly source: Source;
  readonly trigger: TriggerIdentity;
}

function looksLikeJson(body: Buffer): boolean {
  if (body.length === 0) return false;
  const first = body.find((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
  // Only objects, arrays and strings: a bare number or `true` is as likely plain text.
  if (first !== 0x7b && first !== 0x5b && first !== 0x22) return false;
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** The content type the function sees: the message's own, else JSON when the body is JSON, else octet-stream. */
export function contentTypeOf(message: Message): string {
  return message.contentType ?? message.headers['content-type'] ?? (looksLikeJson(message.body) ? 'application/json' : 'application/octet-stream');
}

/** True when the message already is a binary-mode CloudEvent. */
export function isBinaryCloudEvent(headers: Readonly<Record<string, string>>): boolean {
  return headers['ce-id'] !== undefined && headers['ce-specversion'] !== undefined;
}

function structuredCloudEventId(message: Message, contentType: string): string | undefined {
  if (!contentType.toLowerCase().startsWith('application/cloudevents+json')) return undefined;
  try {
    const parsed = JSON.parse(message.body.toString('utf8')) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

/** The identity the function sees as `ce-id`/`event-id`: a CloudEvent keeps its own. */
export function eventIdOf(message: Message): string {
  if (isBinaryCloudEvent(message.headers)) return message.headers['ce-id'] ?? message.id;
  return structuredCloudEventId(message, contentTypeOf(message)) ?? message.id;
}

/**
 * The ISO form of a message's time, or `undefined` when the broker's timestamp lies outside what a
 * Date can hold (e.g. microseconds or nanoseconds where milliseconds were expected).
 */
export function isoTime(time: Date): string | undefined {
  const ms = time.getTime();
  if (!Number.isFinite(ms)) return undefined;
  // Messages come many to a millisecond under load, and toISOString costs microseconds each time.
  if (ms !== lastIsoTime.ms) lastIsoTime = { ms, iso: time.toISOString() };
  return lastIsoTime.iso;
}

let lastIsoTime = { ms: Number.NaN, iso: '' };

// The checks node:http's validateHeaderName/validateHeaderValue make, without a throw per call.
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

function safeHeader(name: string, value: string): boolean {
  return TOKEN.test(name) && !INVALID_VALUE_CHAR.test(value);
}

/**
 * The request headers for one message (DESIGN.md, "the dispatcher contract"): the message's own
 * headers, the kubeless headers, and CloudEvents binary-mode headers unless the message already is
 * a CloudEvent. Pure; identical for every attempt and every redelivery of the same message.
 */
export function buildHeaders(message: Message, context: RequestContext, dropped: (problem: string) => void = () => undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(message.headers)) {
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    if (typeof value !== 'string' || !safeHeader(name, value)) {
      dropped(`header ${JSON.stringify(rawName)} cannot be sent over HTTP`);
      continue;
    }
    headers[name] = value;
  }
  const contentType = contentTypeOf(message);
  const structuredId = structuredCloudEventId(message, contentType);
  const binary = isBinaryCloudEvent(message.headers);
  const id = binary ? (message.headers['ce-id'] ?? message.id) : (structuredId ?? message.id);
  const time = isoTime(message.time);
  if (time === undefined) dropped(`message time ${String(message.time.valueOf())} is outside the range of a date: event-time and ce-time left out`);
  headers['content-type'] = contentType;
  headers['event-id'] = id;
  headers['event-type'] = contentType;
  if (time !== undefined) headers['event-time'] = time;
  headers['event-namespace'] = KUBELESS_EVENT_NAMESPACE[context.source];
  headers['event-topic'] = message.topic;
  headers['event-name'] = context.trigger.name;
  if (!binary && structuredId === undefined) {
    headers['ce-specversion'] = '1.0';
    headers['ce-id'] = id;
    headers['ce-source'] = `/apis/kurier.dev/v1alpha1/namespaces/${context.trigger.namespace}/${PLURAL[context.source]}/${context.trigger.name}`;
    headers['ce-type'] = `dev.kurier.${context.source}.${context.source === 'cron' ? 'tick' : 'message'}`;
    if (time !== undefined) headers['ce-time'] = time;
    headers['ce-subject'] = message.topic;
  }
  // Names are ours or were checked above; values derived from the message or trigger may still be unsafe.
  for (const name in headers) {
    const value = headers[name] ?? '';
    if (INVALID_VALUE_CHAR.test(value)) headers[name] = encodeURIComponent(value);
  }
  return headers;
}
