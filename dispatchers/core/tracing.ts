/**
 * Opt-in OpenTelemetry spans, one per delivery attempt. Off unless an OTLP endpoint is configured;
 * when off nothing of the SDK is loaded and the pipeline takes no tracing path at all.
 */
import type { Env } from './env-reader.js';
import type { Logger, Message, Source, TriggerIdentity } from './types.js';

/** How one HTTP attempt ended, as a span records it. */
export type AttemptResult =
  | { readonly outcome: 'delivered'; readonly status: number }
  | { readonly outcome: 'failed'; readonly status: number | undefined; readonly retryable: boolean; readonly error: string }
  | { readonly outcome: 'released'; readonly error: string };

/** Records delivery attempts; created by {@link createDeliveryTracer} only when tracing is enabled. */
export interface DeliveryTracer {
  /** Records one finished attempt of `message` that started at `startedAt` (ms since the epoch, fractional). */
  recordAttempt(message: Message, attempt: number, startedAt: number, result: AttemptResult): void;
  /** Exports what is buffered and stops; the runtime calls it on shutdown. */
  shutdown(): Promise<void>;
}

export interface TracingContext {
  readonly source: Source;
  readonly trigger: TriggerIdentity;
  /** Where the SDK's own warnings and errors go (an unreachable collector, dropped spans). */
  readonly logger?: Logger | undefined;
}

/** The W3C trace-context headers a message may carry; they reach the function unchanged. */
export const TRACE_CONTEXT_HEADERS = ['traceparent', 'tracestate'] as const;

/** The message's trace-context headers, for what the dispatcher publishes about it (dead letters). */
export function traceContextOf(message: Message): Record<string, string> {
  const carried: Record<string, string> = {};
  for (const name of TRACE_CONTEXT_HEADERS) {
    const value = message.headers[name];
    if (value !== undefined) carried[name] = value;
  }
  return carried;
}

/**
 * True when the usual OpenTelemetry variables ask for trace export: an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), unless
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
 */
export function tracingEnabled(env: Env): boolean {
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (endpoint === undefined || endpoint.trim() === '') return false;
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? 'otlp').split(',').map((name) => name.trim().toLowerCase());
  return !exporters.includes('none');
}

/**
 * The tracer when {@link tracingEnabled}, else `undefined`. The SDK module is imported here, on
 * demand, so a dispatcher without tracing never loads it. The exporter reads the standard
 * `OTEL_EXPORTER_OTLP_*`, `OTEL_BSP_*`, `OTEL_TRACES_SAMPLER*`, `OTEL_SERVICE_NAME` and
 * `OTEL_RESOURCE_ATTRIBUTES` variables from the process environment itself.
 */
export async function createDeliveryTracer(env: Env, context: TracingContext): Promise<DeliveryTracer | undefined> {
  if (!tracingEnabled(env)) return undefined;
  const { OtelDeliveryTracer } = await import('./otel-tracer.js');
  return new OtelDeliveryTracer(context);
}
