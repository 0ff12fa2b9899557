import { redactUrl } from './redact.js';
import { isoTime } from './request.js';
import type { Message, Source, TriggerIdentity } from './types.js';

export const DEAD_LETTER_RESPONSE_LIMIT = 4096;

/** The JSON published to the dead-letter topic: everything needed to inspect or replay a message. */
export interface DeadLetterEnvelope {
  readonly kind: 'kurier.dev/dead-letter';
  readonly id: string;
  readonly trigger: TriggerIdentity;
  readonly source: { readonly type: Source; readonly topic: string; readonly coordinates: Readonly<Record<string, string | number>> };
  readonly message: {
    readonly body: string;
    readonly bodyEncoding: 'base64';
    readonly contentType: string | undefined;
    readonly headers: Readonly<Record<string, string>>;
    readonly key: string | undefined;
    /** Absent when the broker's timestamp is outside the range of a date. */
    readonly time: string | undefined;
  };
  readonly delivery: {
    /** The function URL without its userinfo. */
    readonly functionUrl: string;
    /** In a fan-out (FUNCTION_TARGETS_FILE), the name of the target that could not be reached; absent otherwise. */
    readonly target?: string;
    readonly attempts: number;
    readonly lastStatus: number | undefined;
    readonly lastError: string;
    /** The function's last response body, UTF-8, truncated to 4 KiB. */
    readonly lastResponseBody: string | undefined;
    readonly responseBodyTruncated: boolean;
    readonly failedAt: string;
  };
}

export interface DeadLetterFacts {
  readonly source: Source;
  readonly trigger: TriggerIdentity;
  readonly functionUrl: string;
  readonly target?: string | undefined;
  readonly attempts: number;
  readonly lastStatus: number | undefined;
  readonly lastError: string;
  readonly responseBody: Buffer | undefined;
  readonly failedAt: Date;
}

/** Builds the envelope for a message that could not be delivered. Pure. */
export function deadLetterEnvelope(message: Message, facts: DeadLetterFacts): DeadLetterEnvelope {
  const response = facts.responseBody;
  return {
    kind: 'kurier.dev/dead-letter',
    id: message.id,
    trigger: facts.trigger,
    source: { type: facts.source, topic: message.topic, coordinates: message.coordinates },
    message: {
      body: message.body.toString('base64'),
      bodyEncoding: 'base64',
      contentType: message.contentType,
      headers: message.headers,
      key: message.key,
      time: isoTime(message.time),
    },
    delivery: {
      functionUrl: redactUrl(facts.functionUrl),
      ...(facts.target === undefined ? {} : { target: facts.target }),
      attempts: facts.attempts,
      lastStatus: facts.lastStatus,
      lastError: facts.lastError,
      lastResponseBody: response?.subarray(0, DEAD_LETTER_RESPONSE_LIMIT).toString('utf8'),
      responseBodyTruncated: response !== undefined && response.length > DEAD_LETTER_RESPONSE_LIMIT,
      failedAt: facts.failedAt.toISOString(),
    },
  };
}
