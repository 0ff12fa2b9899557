import { pino } from 'pino';
import type { DestinationStream } from 'pino';

/** Structured logger (pino-compatible): one JSON object a line. */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

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
