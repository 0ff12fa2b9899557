import { pino } from 'pino';
import type { DestinationStream } from 'pino';
import type { Logger } from './types.js';

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** One JSON object a line with stable keys (`time`, `level`, `msg`, `trigger`, `source`, …). */
export function createLogger(base: Record<string, string>, destination?: DestinationStream, level = 'info'): Logger {
  return pino(
    {
      base,
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: 'msg',
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
