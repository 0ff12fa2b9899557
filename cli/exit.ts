import { stderr, stdout } from 'node:process';
import type { Writable } from 'node:stream';

/** Resolves once everything written to `stream` so far has been handed to the OS (a pipe may be slow to drain). */
function drained(stream: Writable): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  // Writes complete in order, so this empty write's callback runs after every earlier chunk is flushed.
  return new Promise((resolve) => stream.write('', () => { resolve(); }));
}

/**
 * Exits with `code` only after stdout and stderr are flushed: `process.exit` with a piped stdout
 * would drop what the pipe had not taken yet (`kurier render … | kubectl apply -f -`).
 */
export async function exitAfterOutput(code: number): Promise<never> {
  await Promise.all([drained(stdout), drained(stderr)]);
  process.exit(code);
}
