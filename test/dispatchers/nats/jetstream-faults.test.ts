import { describe, expect, it } from 'vitest';
import { useCleanup } from '../../support/cleanup.js';
import type { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';
import { numberOf, orderViolations, tally } from '../../support/stream-tally.js';
import { SHARED_NATS, createStream, deleteStream, publishNumbered, uniqueName, useSharedNats } from './helpers.js';

const shared = useSharedNats();
const cleanup = useCleanup();

interface Setup {
  fn: FunctionServer;
  stream: string;
  subject: string;
  env: Record<string, string>;
}

async function setup(extra: Record<string, string> = {}): Promise<Setup> {
  const stream = uniqueName('KURIER_JSF');
  const prefix = stream.toLowerCase();
  await createStream(shared.nc, stream, [`${prefix}.>`]);
  cleanup.push(() => deleteStream(shared.nc, stream));
  const fn = await FunctionServer.start();
  cleanup.push(() => fn.close());
  return {
    fn,
    stream,
    subject: `${prefix}.orders`,
    env: {
      FUNCTION_URL: fn.url,
      TRIGGER_KIND: 'NATSTrigger',
      TRIGGER_NAME: 'orders',
      TRIGGER_NAMESPACE: 'shop',
      NATS_URL: SHARED_NATS,
      NATS_SUBJECT: `${prefix}.orders`,
      NATS_JETSTREAM_STREAM: stream,
      NATS_JETSTREAM_CONSUMER: `${stream}-c`,
      NATS_JETSTREAM_ACK_WAIT: '30s',
      DELIVERY_TIMEOUT: '10s',
      SHUTDOWN_GRACE_PERIOD: '10s',
      ...extra,
    },
  };
}

const start = (env: Record<string, string>): Promise<DispatcherProcess> => cleanup.dispatcher('nats', env);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('NATS JetStream under faults (real nats-server)', () => {
  it('SIGTERM while the head of an ordered lane waits out a long retry: after a restart 0 missing, 0 duplicates, 0 out of order', async () => {
    const total = 40;
    const s = await setup({ DELIVERY_ORDERING: 'ordered', DELIVERY_MAX_IN_FLIGHT: '8', DELIVERY_RETRY_INITIAL_DELAY: '6s', DELIVERY_RETRY_MAX_DELAY: '6s' });
    let failedFive = false;
    s.fn.behave((request) => {
      if (request.text !== '{"n":5}' || failedFive) return undefined;
      failedFive = true;
      return { status: 503 };
    });
    const first = await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, total);
    await s.fn.waitFor(() => failedFive, 15_000, 'message 5 to fail once');
    // Let the dispatcher fill its slots behind the retrying head.
    await sleep(500);
    expect((await first.terminate()).code).toBe(0);
    const second = await first.restart();
    cleanup.push(() => second.stop());
    await s.fn.waitForDistinctDelivered(total, 30_000, numberOf);
    await sleep(1_500);
    const result = tally(s.fn.delivered, total);
    const outOfOrder = orderViolations(s.fn.delivered);
    console.log(`[jetstream SIGTERM ordered, retrying head] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates, ${outOfOrder} out of order; arrival ${s.fn.delivered.map(numberOf).join(' ')}`);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
    expect(outOfOrder).toBe(0);
  }, 60_000);

  it('SIGTERM during a slow (3 s) successful attempt in ordered mode: the attempt is acked, the rest follows in order with 0 duplicates', async () => {
    const total = 40;
    const s = await setup({ DELIVERY_ORDERING: 'ordered', DELIVERY_MAX_IN_FLIGHT: '8' });
    s.fn.behave((request) => (request.text === '{"n":5}' ? { status: 200, delayMs: 3_000 } : undefined));
    const first = await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, total);
    await s.fn.waitFor((f) => f.requests.some((r) => r.text === '{"n":5}'), 15_000, 'message 5 to arrive');
    await sleep(500);
    expect((await first.terminate()).code).toBe(0);
    expect(s.fn.delivered.map(numberOf)).toContain('5');
    const second = await first.restart();
    cleanup.push(() => second.stop());
    await s.fn.waitForDistinctDelivered(total, 30_000, numberOf);
    await sleep(1_500);
    const result = tally(s.fn.delivered, total);
    const outOfOrder = orderViolations(s.fn.delivered);
    console.log(`[jetstream SIGTERM ordered, slow attempt] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates, ${outOfOrder} out of order; arrival ${s.fn.delivered.map(numberOf).join(' ')}`);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
    expect(outOfOrder).toBe(0);
  }, 60_000);
});
