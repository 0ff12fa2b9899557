import type { RetryWhen } from './config.js';

/** What one HTTP attempt came to. */
export type AttemptOutcome =
  | { readonly kind: 'response'; readonly status: number }
  | { readonly kind: 'network'; readonly error: Error }
  /** The function's TLS certificate was refused: permanent unless `DELIVERY_RETRY_WHEN` lists `tls`. */
  | { readonly kind: 'tls'; readonly error: Error }
  | { readonly kind: 'timeout' };

/** Failed attempt, with what the function answered (if anything). */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly outcome: AttemptOutcome;
  readonly status: number | undefined;
  readonly responseBody: Buffer | undefined;
  readonly retryAfter: string | undefined;
  constructor(
    outcome: AttemptOutcome,
    details: { responseBody?: Buffer | undefined; retryAfter?: string | undefined; location?: string | undefined } = {},
    options?: ErrorOptions,
  ) {
    super(describeOutcome(outcome, details.location), options);
    this.outcome = outcome;
    this.status = outcome.kind === 'response' ? outcome.status : undefined;
    this.responseBody = details.responseBody;
    this.retryAfter = details.retryAfter;
  }
}

/** One line saying what an attempt came to; a redirect names where it pointed. */
export function describeOutcome(outcome: AttemptOutcome, location?: string): string {
  switch (outcome.kind) {
    case 'response':
      if (outcome.status >= 300 && outcome.status < 400) {
        return `function answered ${outcome.status} redirecting to ${location ?? '(no Location)'}; redirects are not followed: point FUNCTION_URL at the final address`;
      }
      return `function answered ${outcome.status}`;
    case 'network':
      return `network error: ${outcome.error.message}`;
    case 'tls':
      return `TLS certificate of the function refused: ${outcome.error.message} (trust its CA with NODE_EXTRA_CA_CERTS, see docs/dispatchers.md)`;
    case 'timeout':
      return 'attempt timed out';
  }
}

/** True when a later attempt may succeed, under the user's `DELIVERY_RETRY_WHEN`. */
export function isRetryable(outcome: AttemptOutcome, when: RetryWhen): boolean {
  switch (outcome.kind) {
    case 'network':
      return when.network;
    case 'timeout':
      return when.timeout;
    case 'tls':
      return when.tls;
    case 'response': {
      const { status } = outcome;
      if (status >= 200 && status < 300) return false;
      if (when.statuses.has(status)) return true;
      if (status >= 400 && status < 500) return when.classes.has('4xx');
      if (status >= 500) return when.classes.has('5xx');
      // 1xx/3xx reaching us are protocol surprises: a later attempt will not change them.
      return false;
    }
  }
}
