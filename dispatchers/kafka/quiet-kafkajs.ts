/**
 * kafkajs 2.2.4 (its last release) arms a timer with `throttledUntil - Date.now()` while
 * `throttledUntil` is still -1 (RequestQueue.scheduleCheckPendingRequests), which Node reports as
 * a TimeoutNegativeWarning on stderr at every start. Node runs such a timer after 1 ms, which is
 * what kafkajs means, so the warning carries no information for a user.
 */
const KAFKAJS_FRAME = 'scheduleCheckPendingRequests';

let installed = false;

/**
 * Drops exactly that warning (a TimeoutNegativeWarning raised from kafkajs' request queue); every
 * other warning, including a negative timeout anywhere else, is emitted as before. Idempotent.
 */
export function ignoreKafkaJsNegativeTimeoutWarning(): void {
  if (installed) return;
  installed = true;
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = function filtered(warning: string | Error, ...rest: unknown[]): void {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'TimeoutNegativeWarning' && new Error().stack?.includes(KAFKAJS_FRAME) === true) return;
    (emitWarning as (warning: string | Error, ...args: unknown[]) => void)(warning, ...rest);
  };
}
