import { describe, expect, it } from 'vitest';
import { AckPolicy } from 'nats';
import type { JetStreamManager } from 'nats';
import { useCleanup } from '../../support/cleanup.js';
import type { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';
import { numberOf, orderViolations, tally } from '../../support/stream-tally.js';
import { PrivateNatsServer, SHARED_NATS, connectNats, createStream, deleteStream, publishNumbered, uniqueName, useSharedNats } from './helpers.js';

const shared = useSharedNats();
const cleanup = useCleanup();

interface Setup {
  fn: FunctionServer;
  stream: string;
  subject: string;
  env: Record<string, string>;
}

async function setup(extra: Record<string, string> = {}, maxConsumers?: number): Promise<Setup> {
  const stream = uniqueName('KURIER_JSF');
  const prefix = stream.toLowerCase();
  if (maxConsumers === undefined) await createStream(shared.nc, stream, [`${prefix}.>`]);
  else await (await shared.nc.jetstreamManager()).streams.add({ name: stream, subjects: [`${prefix}.>`], max_consumers: maxConsumers });
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

/**
 * Deletes `consumer` and adds a durable "blocker" in the stream's only consumer slot. nats-server can
 * refuse a delete racing its own ack-state flush ("directory not empty"), and the dispatcher may win
 * the slot back first: both are tried again.
 */
async function takeOnlyConsumerSlot(jsm: JetStreamManager, stream: string, consumer: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await jsm.consumers.delete(stream, consumer).catch((error: unknown) => {
        if (!/consumer not found/i.test(String(error))) throw error;
        return false;
      });
      await jsm.consumers.add(stream, { durable_name: 'blocker', ack_policy: AckPolicy.Explicit });
      return;
    } catch (error) {
      if (attempt >= 10 || !/directory not empty|maximum consumers/i.test(String(error))) throw error;
      await sleep(200);
    }
  }
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

  it('does not settle a message whose dead-letter subject no stream captures: held, counted, dead-lettered once a stream captures it', async () => {
    const s = await setup({ DELIVERY_RETRY_INITIAL_DELAY: '20ms', DELIVERY_RETRY_MAX_DELAY: '300ms' });
    const dlqStream = uniqueName('KURIER_JSF_DLQ');
    const dlq = `${dlqStream.toLowerCase()}.dead`;
    s.fn.behave((request) => (request.text === '{"n":1}' ? { status: 400, body: 'no' } : undefined));
    const dispatcher = await start({ ...s.env, DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '2', DELIVERY_DEAD_LETTER_TOPIC: dlq });
    await publishNumbered(shared.nc, s.subject, 0, 5);
    await s.fn.waitForDistinctDelivered(4, 10_000, numberOf);
    await dispatcher.waitForLog((l) => l.msg === 'dead-letter publish failed; retrying', 10_000);
    expect(await dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'dead_lettered' })).toBe(0);
    expect(await dispatcher.metric('kurier_dispatcher_publish_failures_total', { purpose: 'dead_letter' })).toBeGreaterThan(0);
    await createStream(shared.nc, dlqStream, [dlq]);
    cleanup.push(() => deleteStream(shared.nc, dlqStream));
    await dispatcher.waitForLog((l) => l.msg === 'message dead-lettered', 10_000);
    const jsm = await shared.nc.jetstreamManager();
    expect((await jsm.streams.info(dlqStream)).state.messages).toBe(1);
    const consumer = await jsm.consumers.info(s.stream, s.env.NATS_JETSTREAM_CONSUMER!);
    expect(consumer.num_ack_pending).toBe(0);
    expect(tally(s.fn.delivered, 5).duplicates).toBe(0);
  }, 40_000);

  it('recreates a deleted consumer with backoff while recreation is refused (max_consumers), and fails /healthz only while consumption stays dead', async () => {
    const s = await setup({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4', NATS_JETSTREAM_ACK_WAIT: '1s' }, 1);
    const dispatcher = await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, 20);
    await s.fn.waitForDistinctDelivered(20, 10_000, numberOf);
    const jsm = await shared.nc.jetstreamManager();
    // Delete the dispatcher's consumer and take the only consumer slot before it can recreate it.
    await takeOnlyConsumerSlot(jsm, s.stream, s.env.NATS_JETSTREAM_CONSUMER!);
    await dispatcher.waitForLog((l) => l.msg === 'could not recreate the JetStream consumer; will try again', 10_000);
    await publishNumbered(shared.nc, s.subject, 20, 40);
    // Consumption dead for longer than max(10 s, 5 ack waits): the liveness probe may restart it.
    const deadline = Date.now() + 20_000;
    while ((await dispatcher.get('/healthz')) === 200 && Date.now() < deadline) await sleep(250);
    expect(await dispatcher.get('/healthz')).toBe(503);
    await jsm.consumers.delete(s.stream, 'blocker');
    await dispatcher.waitForLog((l) => l.msg === 'JetStream consumer recreated', 20_000);
    await s.fn.waitForDistinctDelivered(40, 20_000, numberOf);
    const failures = dispatcher.logs.filter((l) => l.msg === 'could not recreate the JetStream consumer; will try again').length;
    const result = tally(s.fn.delivered, 40);
    console.log(`[jetstream consumer deleted, recreation refused] ${failures} refused attempts, ${result.missing.length} missing, ${result.duplicates} duplicates`);
    expect(result.missing).toEqual([]);
    expect(await dispatcher.get('/healthz')).toBe(200);
    expect(await dispatcher.get('/readyz')).toBe(200);
  }, 60_000);

  it('counts and logs replies no stream stores instead of publishing them to nobody with core NATS', async () => {
    const s = await setup({ DELIVERY_RETRY_INITIAL_DELAY: '20ms', DELIVERY_RETRY_MAX_DELAY: '50ms' });
    const replies = `${uniqueName('kurier_jsf_noreplies').toLowerCase()}.out`;
    s.fn.setDefault({ status: 200, body: 'done' });
    const dispatcher = await start({ ...s.env, DELIVERY_REPLY_TOPIC: replies });
    await publishNumbered(shared.nc, s.subject, 0, 3);
    await dispatcher.waitForLog((l) => l.msg === 'reply given up; the message counts as delivered' && dispatcher.logs.filter((x) => x.msg === 'reply given up; the message counts as delivered').length === 3, 20_000);
    expect(await dispatcher.metric('kurier_dispatcher_publish_failures_total', { purpose: 'reply' })).toBe(15);
    expect(String(dispatcher.logs.find((l) => l.msg === 'reply publish failed')?.err)).toContain(`no JetStream stream captures subject "${replies}"`);
    expect(tally(s.fn.delivered, 3).duplicates).toBe(0);
  }, 40_000);

  it('loses nothing when its private nats-server is killed -9 mid-stream and restarted', async () => {
    const total = 400;
    const server = await PrivateNatsServer.start();
    cleanup.push(() => server.destroy());
    const own = await connectNats(server.url);
    const stream = uniqueName('KURIER_JSF_K9');
    const prefix = stream.toLowerCase();
    await createStream(own, stream, [`${prefix}.>`]);
    await publishNumbered(own, `${prefix}.orders`, 0, total);
    await own.close();
    const fn = await FunctionServer.start();
    cleanup.push(() => fn.close());
    fn.setDelay(5);
    const dispatcher = await start({
      FUNCTION_URL: fn.url,
      TRIGGER_NAME: 'orders',
      TRIGGER_NAMESPACE: 'shop',
      NATS_URL: server.url,
      NATS_SUBJECT: `${prefix}.orders`,
      NATS_JETSTREAM_STREAM: stream,
      NATS_JETSTREAM_ACK_WAIT: '3s',
      DELIVERY_ORDERING: 'unordered',
      DELIVERY_MAX_IN_FLIGHT: '4',
      DELIVERY_RETRY_INITIAL_DELAY: '20ms',
      DELIVERY_RETRY_MAX_DELAY: '200ms',
    });
    await fn.waitFor((f) => f.delivered.length >= 100, 20_000);
    await server.down('SIGKILL');
    await sleep(1_000);
    await server.up();
    await dispatcher.waitForLog((l) => l.msg === 'reconnected to NATS', 20_000);
    await fn.waitForDistinctDelivered(total, 40_000, numberOf);
    await sleep(4_000);
    const result = tally(fn.delivered, total);
    console.log(`[jetstream server kill -9] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates, ${fn.requests.length} requests`);
    expect(result.missing).toEqual([]);
    expect(await dispatcher.get('/readyz')).toBe(200);
  }, 90_000);
});
