import { AbortError } from 'p-retry';
import { DeliveryError } from './classify.js';
import type { FunctionResponse } from './http-client.js';
import type { AttemptResult, DeliveryTracer } from './tracing.js';
import type { Message } from './types.js';

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How a failed attempt ends: a retryable DeliveryError, a permanent one (wrapped in AbortError), or a release. */
export function failedAttempt(error: unknown): AttemptResult {
  if (error instanceof DeliveryError) return { outcome: 'failed', status: error.status, retryable: true, error: error.message };
  const original = error instanceof AbortError ? error.originalError : error;
  if (original instanceof DeliveryError) return { outcome: 'failed', status: original.status, retryable: false, error: original.message };
  return { outcome: 'released', error: errorText(original) };
}

/**
 * Wraps one attempt so that each attempt that reached the HTTP client is recorded as a span.
 * `attemptNumber` reads the pipeline's counter: when it did not move the attempt never ran
 * (shutdown began) and nothing is recorded.
 */
export function traceAttempt(
  tracer: DeliveryTracer,
  message: Message,
  attempt: () => Promise<FunctionResponse>,
  attemptNumber: () => number,
): () => Promise<FunctionResponse> {
  return async () => {
    const before = attemptNumber();
    const startedAt = performance.timeOrigin + performance.now();
    try {
      const response = await attempt();
      tracer.recordAttempt(message, attemptNumber(), startedAt, { outcome: 'delivered', status: response.status });
      return response;
    } catch (error) {
      if (attemptNumber() !== before) tracer.recordAttempt(message, attemptNumber(), startedAt, failedAttempt(error));
      throw error;
    }
  };
}
