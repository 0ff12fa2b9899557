/** JSON logs for the controller (pino), one object a line with stable keys such as `trigger`. */
import { pino } from 'pino';
import type { Logger } from '../dispatchers/core/types.js';

export type { Logger } from '../dispatchers/core/types.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino logger writing to stdout. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { component: 'kurier-controller' } });
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
