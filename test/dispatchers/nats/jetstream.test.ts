import { describe, expect, it } from 'vitest';
import { AckPolicy } from 'nats';
import { useCleanup } from '../../support/cleanup.js';
import type { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';
import { numberOf, tally } from '../../support/stream-tally.js';
import { waitUntil } from '../../support/wait-until.js';
import { PrivateNatsServer, SHARED_NATS, connectNats, createStream, deleteStream, publishNumbered, uniqueName, useSharedNats } from './helpers.js';

const shared = useSharedNats();
const cleanup = useCleanup();

interface Setup {
  fn: FunctionServer;
  stream: string;
  subject: string;
  env: Record<string, string>;
}

async function setup(extra: Record<string, string> = {}, url = SHARED_NATS, connection = shared.nc): Promise<Setup> {
  const stream = uniqueName('KURIER_JS');
  const prefix = stream.toLowerCase();
  await createStream(connection, stream, [`${prefix}.>`]);
  cleanup.push(() => deleteStream(connection, stream));
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
      NATS_URL: url,
      NATS_SUBJECT: `${prefix}.orders`,
      NATS_JETSTREAM_STREAM: stream,
      NATS_JETSTREAM_CONSUMER: `${stream}-c`,
      // Long enough that a process stalled on this shared machine never misses its keepalive; tests
      // that need a quick redelivery (after SIGKILL) shorten it.
      NATS_JETSTREAM_ACK_WAIT: '30s',
      DELIVERY_RETRY_INITIAL_DELAY: '20ms',
      DELIVERY_RETRY_MAX_DELAY: '200ms',
      DELIVERY_TIMEOUT: '2s',
      SHUTDOWN_GRACE_PERIOD: '10s',
      ...extra,
    },
  };
}

const start = (env: Record<string, string>): Promise<DispatcherProcess> => cleanup.dispatcher('nats', env);

describe('NATS JetStream dispatcher (real nats-server)', () => {
  it('delivers a numbered stream through a flaky function that is down for a while: zero missing', async () => {
    const total = 600;
    const s = await setup({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '8' });
    s.fn.failFraction(0.2);
    await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, total);
    await s.fn.waitFor((f) => f.delivered.length >= 150, 20_000);
    await s.fn.goDown(1_500);
    await s.fn.waitForDistinctDelivered(total, 40_000, numberOf);
    const result = tally(s.fn.delivered, total);
    console.log(`[jetstream flaky+down] ${total} published, ${result.distinct} delivered, ${result.missing.length} missing, ${result.duplicates} duplicates, ${s.fn.requests.length} requests`);
    expect(result.missing).toEqual([]);
  }, 60_000);

  it('loses nothing when the dispatcher is SIGKILLed mid-stream and restarted', async () => {
    const total = 600;
    const s = await setup({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4', NATS_JETSTREAM_ACK_WAIT: '3s' });
    s.fn.setDelay(5);
    const first = await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, total);
    await s.fn.waitFor((f) => f.delivered.length >= 200, 20_000);
    await first.kill();
    const second = await first.restart();
    cleanup.push(() => second.stop());
    await s.fn.waitForDistinctDelivered(total, 40_000, numberOf);
    const result = tally(s.fn.delivered, total);
    console.log(`[jetstream SIGKILL] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates (redelivered after ack-wait)`);
    expect(result.missing).toEqual([]);
  }, 60_000);

  it('on SIGTERM finishes what is in flight, acks it and exits 0: zero missing and zero duplicates after restart', async () => {
    const total = 600;
    const s = await setup({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    s.fn.setDelay(20);
    const first = await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, total);
    await s.fn.waitFor((f) => f.delivered.length >= 150, 20_000);
    const exit = await first.terminate();
    expect(exit.code).toBe(0);
    const second = await first.restart();
    cleanup.push(() => second.stop());
    await s.fn.waitForDistinctDelivered(total, 40_000, numberOf);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const result = tally(s.fn.delivered, total);
    console.log(`[jetstream SIGTERM] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates`);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
  }, 60_000);

  it('holds a window of 2 × maxInFlight and acks each message only once delivered, not one still in its attempt', async () => {
    const total = 12;
    const s = await setup({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4', DELIVERY_TIMEOUT: '30s' });
    s.fn.behave((request) => (request.text === '{"n":0}' ? { status: 200, delayMs: 8_000 } : undefined));
    await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, total);
    await s.fn.waitFor((f) => new Set(f.delivered.map(numberOf)).size >= total - 1, 20_000, 'messages 1–11 delivered while 0 is in its attempt');
    const jsm = await shared.nc.jetstreamManager();
    const consumer = `${s.stream}-c`;
    // The acks of the last loop turn are written at its end and confirmed by the server.
    await waitUntil(async () => (await jsm.consumers.info(s.stream, consumer)).num_ack_pending === 1, 5_000, 'the acks of messages 1–11', 50);
    const during = await jsm.consumers.info(s.stream, consumer);
    expect(during.config.max_ack_pending).toBe(8);
    expect(s.fn.delivered.map(numberOf)).not.toContain('0');
    // Message 0 (stream sequence 1) is still in its attempt: not acked, so the ack floor stays below it.
    expect(during.ack_floor.stream_seq).toBe(0);
    await s.fn.waitForDistinctDelivered(total, 20_000, numberOf);
    await waitUntil(async () => (await jsm.consumers.info(s.stream, consumer)).ack_floor.stream_seq === total, 5_000, 'message 0 acked once delivered', 50);
    expect(tally(s.fn.delivered, total).duplicates).toBe(0);
  }, 60_000);

  it('keeps the ack-wait alive while a delivery is retried for longer than it, so JetStream does not redeliver', async () => {
    const s = await setup({ NATS_JETSTREAM_ACK_WAIT: '2s' });
    s.fn.setDefault({ status: 503 });
    await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, 3);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    s.fn.heal();
    await s.fn.waitForDistinctDelivered(3, 10_000, numberOf);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const result = tally(s.fn.delivered, 3);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
  }, 30_000);

  it('hands a message released during its backoff back with the remaining delay (nak with delay)', async () => {
    const s = await setup({ DELIVERY_RETRY_INITIAL_DELAY: '10s', DELIVERY_RETRY_MAX_DELAY: '10s' });
    s.fn.answer({ status: 503 });
    const first = await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, 1);
    await s.fn.waitFor((f) => f.requests.length === 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stoppedAt = Date.now();
    expect((await first.terminate()).code).toBe(0);
    const second = await first.restart();
    cleanup.push(() => second.stop());
    await s.fn.waitFor((f) => f.delivered.length === 1, 15_000);
    // The first backoff was 5–10 s; about 0.2 s of it had passed when the dispatcher stopped.
    expect(s.fn.delivered[0]!.receivedAt - stoppedAt).toBeGreaterThanOrEqual(4_000);
    expect(s.fn.requests).toHaveLength(2);
  }, 30_000);

  it('keeps stream order in ordered mode, retries included', async () => {
    const total = 200;
    const s = await setup({ DELIVERY_ORDERING: 'ordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    s.fn.failFraction(0.25);
    await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, total);
    await s.fn.waitForDistinctDelivered(total, 30_000, numberOf);
    expect(s.fn.maxConcurrency).toBe(1);
    expect(s.fn.delivered.map((r) => Number(numberOf(r)))).toEqual([...Array(total).keys()]);
  }, 40_000);

  it('sends the dispatcher contract headers with ce-id = stream:sequence', async () => {
    const s = await setup();
    await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, 1);
    await s.fn.waitFor((f) => f.delivered.length >= 1, 10_000);
    const [request] = s.fn.delivered;
    expect(request?.headers).toMatchObject({
      'ce-id': `${s.stream}:1`,
      'event-id': `${s.stream}:1`,
      'ce-specversion': '1.0',
      'ce-subject': s.subject,
      'event-topic': s.subject,
      'event-namespace': 'natstriggers.kubeless.io',
      'content-type': 'application/json',
    });
  });

  it('dead-letters a refused message to a subject on the same broker and does not redeliver it', async () => {
    const s = await setup({ NATS_JETSTREAM_ACK_WAIT: '3s' });
    const dlq = s.subject.replace(/\.orders$/, '.dlq');
    s.env.DELIVERY_DEAD_LETTER_TOPIC = dlq;
    s.fn.behave((request) => (request.text === '{"n":2}' ? { status: 400, body: 'no such order' } : undefined));
    await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, 5);
    await s.fn.waitForDistinctDelivered(4, 10_000, numberOf);
    const jsm = await shared.nc.jetstreamManager();
    const info = await jsm.consumers.add(s.stream, { filter_subject: dlq, ack_policy: AckPolicy.None });
    const consumer = await shared.nc.jetstream().consumers.get(s.stream, info.name);
    const dead = await consumer.next({ expires: 5_000 });
    expect(dead).not.toBeNull();
    const envelope = JSON.parse(new TextDecoder().decode(dead!.data));
    expect(Buffer.from(envelope.message.body, 'base64').toString()).toBe('{"n":2}');
    expect(envelope.delivery).toMatchObject({ attempts: 1, lastStatus: 400, lastResponseBody: 'no such order' });
    expect(envelope.source.coordinates).toMatchObject({ stream: s.stream, sequence: 3 });
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    // Not redelivered: it was terminated, not merely left unacknowledged (the ack wait here is 3 s).
    expect(s.fn.requests.filter((r) => r.text === '{"n":2}')).toHaveLength(1);
  }, 20_000);

  it('recreates its durable consumer when someone deletes it, resuming after what it already delivered', async () => {
    const s = await setup();
    const dispatcher = await start(s.env);
    await publishNumbered(shared.nc, s.subject, 0, 50);
    await s.fn.waitForDistinctDelivered(50, 10_000, numberOf);
    const jsm = await shared.nc.jetstreamManager();
    const consumer = s.env.NATS_JETSTREAM_CONSUMER!;
    // The function has answered, but the dispatcher's acks may still be on their way: a delete racing
    // them leaves the consumer's ack state half-written (nats-server then refuses the delete with
    // "unlinkat …: directory not empty", and a consumer recreated under the same name can inherit
    // the unacknowledged 1..50 and deliver them again). Delete only once the server holds every ack.
    await waitUntil(async () => {
      const info = await jsm.consumers.info(s.stream, consumer);
      return info.ack_floor.stream_seq >= 50 && info.num_ack_pending === 0;
    }, 15_000, 'the server to record all 50 acks', 50);
    const original = (await jsm.consumers.info(s.stream, consumer)).created;
    for (let attempt = 1; ; attempt++) {
      try {
        await jsm.consumers.delete(s.stream, consumer);
        break;
      } catch (err) {
        if (attempt >= 5 || !String(err).includes('directory not empty')) throw err;
        // The server may have dropped the consumer before it failed to unlink its directory, and the
        // dispatcher may have recreated it already: retrying blindly would delete the new one.
        const now = await jsm.consumers.info(s.stream, consumer).catch(() => undefined);
        if (now === undefined || now.created !== original) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await dispatcher.waitForLog((l) => l.msg === 'JetStream consumer recreated', 45_000);
    const recreated = await jsm.consumers.info(s.stream, consumer);
    expect(recreated.created).not.toBe(original);
    expect(recreated.config.opt_start_seq).toBe(51);
    expect([recreated.num_pending, recreated.num_ack_pending]).toEqual([0, 0]);
    await publishNumbered(shared.nc, s.subject, 50, 100);
    await s.fn.waitForDistinctDelivered(100, 20_000, numberOf);
    const result = tally(s.fn.delivered, 100);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
  }, 70_000);

  it('reconnects after its NATS server restarts and continues the stream', async () => {
    const server = await PrivateNatsServer.start();
    cleanup.push(() => server.destroy());
    const own = await connectNats(server.url);
    cleanup.push(() => own.close());
    const s = await setup({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4', NATS_JETSTREAM_ACK_WAIT: '3s' }, server.url, own);
    s.fn.setDelay(5);
    const dispatcher = await start(s.env);
    await publishNumbered(own, s.subject, 0, 200);
    await s.fn.waitFor((f) => f.delivered.length >= 50, 20_000);
    await server.down();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await server.up();
    await dispatcher.waitForLog((l) => l.msg === 'reconnected to NATS', 20_000);
    const again = await connectNats(server.url);
    cleanup.push(() => again.close());
    await publishNumbered(again, s.subject, 200, 400);
    await s.fn.waitForDistinctDelivered(400, 40_000, numberOf);
    const result = tally(s.fn.delivered, 400);
    console.log(`[jetstream server restart] 400 published, ${result.missing.length} missing, ${result.duplicates} duplicates`);
    expect(result.missing).toEqual([]);
    expect(await dispatcher.get('/readyz')).toBe(200);
  }, 60_000);
});
