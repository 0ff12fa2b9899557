import { pino } from 'pino';
import type { DestinationStream } from 'pino';
import type { Logger } from './types.js';

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
