/** JSON logs for the controller: the dispatchers' logger, so every component logs the same shape. */
import { createLogger as createJsonLogger } from '../common/logger.js';
import type { Logger } from '../common/logger.js';

export { silentLogger } from '../common/logger.js';
export type { Logger } from '../common/logger.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A logger writing one JSON object a line to stdout. */
export function createLogger(level: LogLevel): Logger {
  return createJsonLogger({ component: 'kurier-controller' }, undefined, level);
}
