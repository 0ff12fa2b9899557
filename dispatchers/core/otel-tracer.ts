/**
 * The OpenTelemetry SDK side of {@link DeliveryTracer}. Only `tracing.ts` imports this module, and
 * only dynamically when tracing is enabled: everything it pulls in stays unloaded otherwise.
 */
import { diag, DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, Link, TextMapGetter, Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Message } from './types.js';
import type { AttemptResult, DeliveryTracer, TracingContext } from './tracing.js';

const headerGetter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key.toLowerCase()],
};

/** Spans through the SDK's BasicTracerProvider, a BatchSpanProcessor and the OTLP/HTTP exporter. */
export class OtelDeliveryTracer implements DeliveryTracer {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();
  private readonly context: TracingContext;

  constructor(context: TracingContext) {
    this.context = context;
    const { trigger, logger } = context;
    if (logger !== undefined) {
      // The SDK reports failed exports and dropped spans only through its diagnostic logger.
      const text = (message: string, args: unknown[]): string => [message, ...args.map((arg) => (arg instanceof Error ? arg.message : String(arg)))].join(' ');
      diag.setLogger(
        {
          error: (message, ...args) => { logger.error({ err: text(message, args) }, 'tracing'); },
          warn: (message, ...args) => { logger.warn({ err: text(message, args) }, 'tracing'); },
          info: () => undefined,
          debug: () => undefined,
          verbose: () => undefined,
        },
        { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
      );
    }
    // Ours first, then what OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES say: the user's word wins.
    const resource = resourceFromAttributes({
      'service.name': 'kurier-dispatcher',
      'k8s.namespace.name': trigger.namespace,
      'kurier.trigger.kind': trigger.kind,
      'kurier.trigger.name': trigger.name,
    }).merge(detectResources({ detectors: [envDetector] }));
    this.provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
    });
    this.tracer = this.provider.getTracer('kurier-dispatcher');
  }

  /** The message's own trace context (W3C traceparent/tracestate), or the root context; no global context manager is involved. */
  private messageContext(message: Message): Context {
    if (message.headers['traceparent'] === undefined) return ROOT_CONTEXT;
    return this.propagator.extract(ROOT_CONTEXT, message.headers, headerGetter);
  }

  recordAttempt(message: Message, attempt: number, startedAt: number, result: AttemptResult): void {
    const { source, trigger } = this.context;
    const parent = this.messageContext(message);
    const parentSpan = trace.getSpanContext(parent);
    const links: Link[] = parentSpan === undefined ? [] : [{ context: parentSpan }];
    const span = this.tracer.startSpan(
      `deliver ${message.topic}`,
      {
        kind: SpanKind.CONSUMER,
        startTime: startedAt,
        links,
        attributes: {
          'messaging.system': source,
          'messaging.destination.name': message.topic,
          'messaging.message.id': message.id,
          'kurier.source': source,
          'kurier.trigger.kind': trigger.kind,
          'kurier.trigger.namespace': trigger.namespace,
          'kurier.trigger.name': trigger.name,
          'kurier.delivery.attempt': attempt,
          'kurier.delivery.outcome': result.outcome,
        },
      },
      parent,
    );
    if (result.outcome !== 'released' && result.status !== undefined) span.setAttribute('http.response.status_code', result.status);
    if (result.outcome === 'failed') {
      span.setAttribute('kurier.delivery.retryable', result.retryable);
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.error });
    } else if (result.outcome === 'released') {
      span.setAttribute('kurier.delivery.released_reason', result.error);
    }
    span.end();
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}
