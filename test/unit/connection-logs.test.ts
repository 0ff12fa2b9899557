import { describe, expect, it } from 'vitest';
import { useCleanup } from '../support/cleanup.js';
import { DispatcherProcess } from '../support/dispatcher-process.js';
import { freePort } from '../support/free-port.js';

// Nothing listens on a fresh free port: every connection attempt is refused at once.
const SOURCES: readonly { source: string; env: (port: number) => Record<string, string>; connecting: string; failed: (line: Record<string, unknown>) => boolean }[] = [
  {
    source: 'nats', env: (port) => ({ NATS_URL: `nats://127.0.0.1:${port}`, NATS_SUBJECT: 'a' }), connecting: 'connecting to NATS',
    failed: (line) => line['msg'] === 'could not connect to NATS; retrying' && typeof line['err'] === 'string',
  },
  {
    source: 'rabbitmq', env: (port) => ({ RABBITMQ_URL: `amqp://guest:secret@127.0.0.1:${port}`, RABBITMQ_QUEUE: 'q' }), connecting: 'connecting to RabbitMQ',
    failed: (line) => line['msg'] === 'could not connect to RabbitMQ; retrying' && String(line['err']).includes('ECONNREFUSED'),
  },
  {
    source: 'kafka', env: (port) => ({ KAFKA_BROKERS: `127.0.0.1:${port}`, KAFKA_TOPIC: 't' }), connecting: 'connecting to Kafka',
    failed: (line) => line['level'] === 'error' && line['kafkajs'] === 'BrokerPool' && String(line['msg']).includes('ECONNREFUSED'),
  },
];

describe('a dispatcher pointed at a dead broker logs its connection attempts and failures as they happen', () => {
  const cleanup = useCleanup();

  it.each(SOURCES)('$source', async ({ source, env, connecting, failed }) => {
    const dispatcher = DispatcherProcess.spawn(source, { FUNCTION_URL: 'http://127.0.0.1:9/', ...env(await freePort()) });
    cleanup.push(() => dispatcher.stop());
    const attempt = await dispatcher.waitForLog((line) => line.msg === connecting, 15_000, connecting);
    expect(JSON.stringify(attempt)).not.toContain('secret');
    await dispatcher.waitForLog(failed, 15_000, 'a logged connection failure');
    // Still trying, not given up.
    expect(dispatcher.running).toBe(true);
  });
});
