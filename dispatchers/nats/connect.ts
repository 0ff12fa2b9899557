import { connect } from 'nats';
import type { ConnectionOptions, NatsConnection } from 'nats';
import type { Logger } from '../../common/logger.js';
import { unrefDelay } from '../core/clock.js';

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Connects to NATS, logging the attempt and every failure as it happens, and retries until
 * connected or `stopped()` (nats.js' own waitOnFirstConnect retries silently: a dispatcher pointed
 * at a dead server said nothing). Later reconnects stay with nats.js.
 */
export async function connectLogged(options: ConnectionOptions, logger: Logger, stopped: () => boolean): Promise<NatsConnection> {
  const servers = options.servers;
  logger.info({ servers }, 'connecting to NATS');
  for (let attempt = 1; ; attempt++) {
    try {
      const nc = await connect({ ...options, waitOnFirstConnect: false });
      logger.info({ server: nc.getServer(), attempt }, 'connected to NATS');
      return nc;
    } catch (error) {
      if (stopped()) throw error;
      const retryInMs = Math.min(500 * attempt, 5_000);
      logger.warn({ servers, err: errorText(error), attempt, retryInMs }, 'could not connect to NATS; retrying');
      await unrefDelay(retryInMs);
    }
  }
}
