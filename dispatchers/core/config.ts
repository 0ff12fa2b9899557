import type { EnvReader } from './env-reader.js';
import type { Source, TriggerIdentity } from './types.js';

export const Ordering = { Ordered: 'ordered', Key: 'key', Unordered: 'unordered' } as const;
export type Ordering = (typeof Ordering)[keyof typeof Ordering];

/** Outcome classes a user can list in `DELIVERY_RETRY_WHEN`, besides exact status codes. */
export interface RetryWhen {
  readonly network: boolean;
  readonly timeout: boolean;
  /** A refused TLS certificate; not retried by default (it will not fix itself). */
  readonly tls: boolean;
  readonly classes: ReadonlySet<'4xx' | '5xx'>;
  readonly statuses: ReadonlySet<number>;
}

export interface RetryConfig {
  /** 0 = until delivered. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Cap on total retry time; undefined = no cap. */
  readonly maxElapsedMs: number | undefined;
  readonly when: RetryWhen;
}

export interface DeliveryConfig {
  readonly ordering: Ordering;
  readonly maxInFlight: number;
  readonly timeoutMs: number;
  readonly retry: RetryConfig;
  readonly deadLetterTopic: string | undefined;
  readonly replyTopic: string | undefined;
}

/** The source-independent part of a dispatcher's configuration. */
export interface DispatcherConfig {
  /** The one function's URL; empty when {@link targetsFile} is set. */
  readonly functionUrl: string;
  /** Set for a fan-out: the file listing the targets (FUNCTION_TARGETS_FILE). */
  readonly targetsFile: TargetsFileConfig | undefined;
  readonly trigger: TriggerIdentity;
  readonly delivery: DeliveryConfig;
  readonly metricsPort: number;
  readonly shutdownGraceMs: number;
}

export const DEFAULT_RETRY_WHEN = 'network,timeout,408,429,5xx';

/** Parses `DELIVERY_RETRY_WHEN`-style lists; unknown items are reported through `problem`. */
export function parseRetryWhen(items: readonly string[], problem: (item: string) => void): RetryWhen {
  let network = false;
  let timeout = false;
  let tls = false;
  const classes = new Set<'4xx' | '5xx'>();
  const statuses = new Set<number>();
  for (const raw of items) {
    const item = raw.toLowerCase();
    if (item === 'network') network = true;
    else if (item === 'timeout') timeout = true;
    else if (item === 'tls') tls = true;
    else if (item === '4xx' || item === '5xx') classes.add(item);
    else if (/^\d{3}$/.test(item) && Number(item) >= 100 && Number(item) <= 599) statuses.add(Number(item));
    else problem(raw);
  }
  return { network, timeout, tls, classes, statuses };
}

function triggerIdentity(reader: EnvReader, source: Source): TriggerIdentity {
  return {
    kind: reader.string('TRIGGER_KIND', defaultKind(source)),
    name: reader.string('TRIGGER_NAME', `${source}-dispatcher`),
    namespace: reader.string('TRIGGER_NAMESPACE', 'default'),
    uid: reader.string('TRIGGER_UID', ''),
  };
}

function defaultKind(source: Source): string {
  const kinds: Readonly<Record<Source, string>> = {
    kafka: 'KafkaTrigger',
    pulsar: 'PulsarTrigger',
    nats: 'NATSTrigger',
    rabbitmq: 'RabbitMQTrigger',
    cron: 'CronTrigger',
  };
  return kinds[source];
}

/** Where a fan-out dispatcher reads its targets (FUNCTION_TARGETS_FILE), and how often. */
export interface TargetsFileConfig {
  readonly path: string;
  readonly pollIntervalMs: number;
}

const MISSING_FUNCTION = 'FUNCTION_URL is required (the function\'s http:// or https:// URL), or FUNCTION_TARGETS_FILE (a file listing several functions)';

/** FUNCTION_URL (or KUBELESS_FUNCTION), or FUNCTION_TARGETS_FILE: exactly one way to name where messages go. */
function functionTarget(reader: EnvReader): { functionUrl: string; targetsFile: TargetsFileConfig | undefined } {
  // kubeless-pulsar-trigger images only ever set KUBELESS_FUNCTION.
  const name = reader.string('FUNCTION_URL') === undefined && reader.string('KUBELESS_FUNCTION') !== undefined
    ? 'KUBELESS_FUNCTION'
    : 'FUNCTION_URL';
  const path = reader.string('FUNCTION_TARGETS_FILE');
  const pollIntervalMs = reader.duration('FUNCTION_TARGETS_POLL_INTERVAL', 5_000);
  if (pollIntervalMs <= 0) reader.problems.push('FUNCTION_TARGETS_POLL_INTERVAL must be longer than 0');
  if (path !== undefined) {
    if (reader.string(name) !== undefined) {
      reader.problems.push(`${name} and FUNCTION_TARGETS_FILE are both set: set one (one function's URL, or a file listing several)`);
    }
    return { functionUrl: '', targetsFile: { path, pollIntervalMs: pollIntervalMs > 0 ? pollIntervalMs : 5_000 } };
  }
  if (reader.string(name) === undefined) {
    reader.problems.push(MISSING_FUNCTION);
    return { functionUrl: '', targetsFile: undefined };
  }
  return { functionUrl: reader.url(name, ['http', 'https']) ?? '', targetsFile: undefined };
}

function retryConfig(reader: EnvReader): RetryConfig {
  const initialDelayMs = reader.duration('DELIVERY_RETRY_INITIAL_DELAY', 500);
  const maxDelayMs = reader.duration('DELIVERY_RETRY_MAX_DELAY', 90_000);
  if (maxDelayMs < initialDelayMs) {
    reader.problems.push(
      `DELIVERY_RETRY_MAX_DELAY (${maxDelayMs}ms) must not be shorter than DELIVERY_RETRY_INITIAL_DELAY (${initialDelayMs}ms)`,
    );
  }
  const maxElapsed = reader.string('DELIVERY_RETRY_MAX_ELAPSED');
  const maxElapsedMs = maxElapsed === undefined ? undefined : reader.duration('DELIVERY_RETRY_MAX_ELAPSED', 0);
  const listed = reader.list('DELIVERY_RETRY_WHEN');
  const when = parseRetryWhen(listed.length > 0 ? listed : DEFAULT_RETRY_WHEN.split(','), (item) => {
    reader.problems.push(
      `DELIVERY_RETRY_WHEN item ${JSON.stringify(item)} is not one of network, timeout, tls, 4xx, 5xx or a status code like 408`,
    );
  });
  return {
    maxAttempts: reader.integer('DELIVERY_RETRY_MAX_ATTEMPTS', 0, { min: 0 }),
    initialDelayMs,
    maxDelayMs,
    maxElapsedMs,
    when,
  };
}

/**
 * Reads the source-independent variables (FUNCTION_URL or FUNCTION_TARGETS_FILE, TRIGGER_*, DELIVERY_*, METRICS_PORT,
 * SHUTDOWN_GRACE_PERIOD). Problems are collected on `reader`; call `reader.check()` afterwards
 * (after the source module read its own variables) so every problem is reported at once.
 */
export function parseConfig(reader: EnvReader, source: Source): DispatcherConfig {
  const { functionUrl, targetsFile } = functionTarget(reader);
  const timeoutMs = reader.duration('DELIVERY_TIMEOUT', 30_000);
  if (reader.string('DELIVERY_TIMEOUT') !== undefined && timeoutMs <= 0) {
    reader.problems.push('DELIVERY_TIMEOUT must be longer than 0');
  }
  const config: DispatcherConfig = {
    functionUrl,
    targetsFile,
    trigger: triggerIdentity(reader, source),
    delivery: {
      ordering: reader.oneOf('DELIVERY_ORDERING', Object.values(Ordering), Ordering.Ordered),
      maxInFlight: reader.integer('DELIVERY_MAX_IN_FLIGHT', 1, { min: 1, max: 10_000 }),
      timeoutMs: timeoutMs > 0 ? timeoutMs : 30_000,
      retry: retryConfig(reader),
      deadLetterTopic: reader.string('DELIVERY_DEAD_LETTER_TOPIC'),
      replyTopic: reader.string('DELIVERY_REPLY_TOPIC'),
    },
    metricsPort: reader.integer('METRICS_PORT', 9090, { min: 0, max: 65_535 }),
    shutdownGraceMs: reader.duration('SHUTDOWN_GRACE_PERIOD', 25_000),
  };
  return Object.freeze(config);
}
