import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCleanup } from '../../support/cleanup.js';
import { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';
import { numberOf, tally } from '../../support/stream-tally.js';
import { waitUntil } from '../../support/wait-until.js';

const run = promisify(execFile);
const RABBITMQ = process.env.RABBITMQ_TEST_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

let connection: ChannelModel;
let channel: Channel;
const cleanup = useCleanup();

beforeAll(async () => {
  connection = await amqp.connect(RABBITMQ);
  channel = await connection.createChannel();
});
afterAll(async () => {
  await connection.close();
});

async function fixture(extra: Record<string, string> = {}): Promise<{ fn: FunctionServer; queue: string; name: string; env: Record<string, string> }> {
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const queue = `kurier.test.${suffix}`;
  const name = `rt-${suffix}`;
  await channel.assertQueue(queue, { durable: true });
  cleanup.push(() => channel.deleteQueue(queue));
  const fn = await FunctionServer.start();
  cleanup.push(() => fn.close());
  return {
    fn,
    queue,
    name,
    env: {
      FUNCTION_URL: fn.url,
      TRIGGER_KIND: 'RabbitMQTrigger',
      TRIGGER_NAME: name,
      TRIGGER_NAMESPACE: 'shop',
      RABBITMQ_URL: RABBITMQ,
      RABBITMQ_QUEUE: queue,
      DELIVERY_RETRY_INITIAL_DELAY: '20ms',
      DELIVERY_RETRY_MAX_DELAY: '200ms',
      DELIVERY_TIMEOUT: '2s',
      SHUTDOWN_GRACE_PERIOD: '10s',
      ...extra,
    },
  };
}

const start = (env: Record<string, string>): Promise<DispatcherProcess> => cleanup.dispatcher('rabbitmq', env);

async function publishNumbered(queue: string, from: number, to: number): Promise<void> {
  const confirm = await connection.createConfirmChannel();
  for (let i = from; i < to; i += 1) {
    confirm.sendToQueue(queue, Buffer.from(JSON.stringify({ n: i })), { persistent: true, messageId: `m-${i}`, contentType: 'application/json' });
  }
  await confirm.waitForConfirms();
  await confirm.close();
}

/** The queue's ready and unacknowledged message counts, as the broker holds them now. */
async function queueCounts(queue: string): Promise<{ ready: number; unacked: number }> {
  const { stdout } = await run('rabbitmqctl', ['-q', '--no-table-headers', 'list_queues', 'name', 'messages_ready', 'messages_unacknowledged']);
  const row = stdout.split('\n').map((line) => line.split('\t')).find(([name]) => name === queue);
  if (row === undefined) throw new Error(`rabbitmqctl does not list queue ${queue}`);
  return { ready: Number(row[1]), unacked: Number(row[2]) };
}

/** Closes this dispatcher's connection from the broker side (never the whole server: it is shared). */
async function dropConnection(connectionName: string): Promise<void> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties']);
  const pids = stdout.split('\n').filter((line) => line.includes(connectionName)).map((line) => line.split('\t')[0]!);
  expect(pids.length).toBeGreaterThan(0);
  for (const pid of pids) await run('rabbitmqctl', ['close_connection', pid, 'kurier test: broker drops the connection']);
}

describe('RabbitMQ dispatcher (real RabbitMQ)', () => {
  it('delivers a numbered queue through a flaky function that is down for a while: zero missing', async () => {
    const total = 600;
    const { fn, queue, env } = await fixture({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '8' });
    fn.failFraction(0.2);
    await start(env);
    await publishNumbered(queue, 0, total);
    await fn.waitFor((f) => f.delivered.length >= 150, 20_000);
    await fn.goDown(1_500);
    await fn.waitForDistinctDelivered(total, 40_000, numberOf);
    const result = tally(fn.delivered, total);
    console.log(`[rabbitmq flaky+down] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates, ${fn.requests.length} requests`);
    expect(result.missing).toEqual([]);
  }, 60_000);

  it('loses nothing when the dispatcher is SIGKILLed mid-stream and restarted', async () => {
    const total = 600;
    const { fn, queue, env } = await fixture({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    fn.setDelay(5);
    const first = await start(env);
    await publishNumbered(queue, 0, total);
    await fn.waitFor((f) => f.delivered.length >= 200, 20_000);
    await first.kill();
    const second = await first.restart();
    cleanup.push(() => second.stop());
    await fn.waitForDistinctDelivered(total, 40_000, numberOf);
    const result = tally(fn.delivered, total);
    console.log(`[rabbitmq SIGKILL] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates`);
    expect(result.missing).toEqual([]);
  }, 60_000);

  it('acks what settled while an earlier delivery is still in an attempt, never that one: after SIGKILL only it comes back', async () => {
    const total = 20;
    const { fn, queue, env } = await fixture({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '8', DELIVERY_TIMEOUT: '60s' });
    // Message 0 (delivery tag 1) stays in its attempt; the 19 after it settle around it.
    let holdZero = true;
    fn.behave((request) => (request.text === '{"n":0}' && holdZero ? { status: 200, delayMs: 30_000 } : undefined));
    const first = await start(env);
    await publishNumbered(queue, 0, total);
    await fn.waitFor((f) => new Set(f.delivered.map(numberOf)).size >= total - 1 && f.requests.some((r) => r.text === '{"n":0}'), 20_000, 'messages 1–19 delivered while 0 is held');
    // Time for the acks of the last turn to be written (they go at the end of a loop turn).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await first.kill();
    holdZero = false;
    const second = await first.restart();
    cleanup.push(() => second.stop());
    await fn.waitForDistinctDelivered(total, 20_000, numberOf);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const result = tally(fn.delivered, total);
    console.log(`[rabbitmq multiple ack, held head] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates; requests ${fn.requests.map((r) => numberOf(r)).join(' ')}`);
    // A multiple ack covering tag 1 would have lost message 0; one not written would bring others back.
    expect(result.missing).toEqual([]);
    expect(fn.requests.filter((r) => r.text === '{"n":0}').length).toBe(2);
    expect(result.duplicates).toBe(0);
  }, 60_000);

  it('holds a window of 2 × maxInFlight outside ordered mode (maxInFlight in ordered mode), with only maxInFlight at the function', async () => {
    const total = 20;
    for (const [ordering, window] of [['unordered', 8], ['ordered', 4]] as const) {
      const { fn, queue, env } = await fixture({ DELIVERY_ORDERING: ordering, DELIVERY_MAX_IN_FLIGHT: '4', DELIVERY_TIMEOUT: '30s' });
      let holding = true;
      // Long enough for rabbitmqctl (about a second per call) to see the window before anything settles.
      fn.behave(() => (holding ? { status: 200, delayMs: 8_000 } : undefined));
      await start(env);
      await publishNumbered(queue, 0, total);
      await fn.waitFor((f) => f.requests.length >= (ordering === 'ordered' ? 1 : 4), 20_000, 'the first attempts');
      let counts = { ready: -1, unacked: -1 };
      await waitUntil(async () => (counts = await queueCounts(queue)).unacked === window, 10_000, `${window} unacknowledged (${ordering})`, 100);
      expect(counts).toEqual({ ready: total - window, unacked: window });
      expect(fn.requests).toHaveLength(ordering === 'ordered' ? 1 : 4);
      holding = false;
      await fn.waitForDistinctDelivered(total, 30_000, numberOf);
      await waitUntil(async () => (await queueCounts(queue)).unacked === 0, 10_000, `every message acked (${ordering})`, 100);
      expect(fn.maxConcurrency).toBe(ordering === 'ordered' ? 1 : 4);
      expect(tally(fn.delivered, total)).toMatchObject({ missing: [], duplicates: 0 });
    }
  }, 120_000);

  it('on SIGTERM finishes what is in flight, acks it and exits 0: zero missing and zero duplicates after restart', async () => {
    const total = 600;
    const { fn, queue, env } = await fixture({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    fn.setDelay(20);
    const first = await start(env);
    await publishNumbered(queue, 0, total);
    await fn.waitFor((f) => f.delivered.length >= 150, 20_000);
    expect((await first.terminate()).code).toBe(0);
    const second = await first.restart();
    cleanup.push(() => second.stop());
    await fn.waitForDistinctDelivered(total, 40_000, numberOf);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const result = tally(fn.delivered, total);
    console.log(`[rabbitmq SIGTERM] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates`);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
  }, 60_000);

  it('reconnects after the broker drops its connection and continues: zero missing', async () => {
    const { fn, queue, name, env } = await fixture({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    fn.setDelay(5);
    const dispatcher = await start(env);
    await publishNumbered(queue, 0, 300);
    await fn.waitFor((f) => f.delivered.length >= 100, 20_000);
    await dropConnection(`kurier-shop-${name}`);
    await dispatcher.waitForLog((l) => l.msg === 'reconnected to RabbitMQ', 20_000);
    await publishNumbered(queue, 300, 400);
    await fn.waitForDistinctDelivered(400, 40_000, numberOf);
    const result = tally(fn.delivered, 400);
    console.log(`[rabbitmq connection dropped] 400 published, ${result.missing.length} missing, ${result.duplicates} duplicates`);
    expect(result.missing).toEqual([]);
    expect(await dispatcher.get('/readyz')).toBe(200);
  }, 60_000);

  it('starts over when the broker cancels its consumer (queue deleted), redeclaring the queue', async () => {
    const { fn, queue, env } = await fixture();
    const dispatcher = await start(env);
    await publishNumbered(queue, 0, 10);
    await fn.waitForDistinctDelivered(10, 10_000, numberOf);
    await channel.deleteQueue(queue);
    await dispatcher.waitForLog((l) => l.msg === 'reconnected to RabbitMQ', 20_000);
    await publishNumbered(queue, 10, 20);
    await fn.waitForDistinctDelivered(20, 10_000, numberOf);
    expect(tally(fn.delivered, 20).missing).toEqual([]);
  }, 40_000);

  it('keeps queue order in ordered mode, retries included', async () => {
    const total = 200;
    const { fn, queue, env } = await fixture({ DELIVERY_ORDERING: 'ordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    fn.failFraction(0.25);
    await start(env);
    await publishNumbered(queue, 0, total);
    await fn.waitForDistinctDelivered(total, 30_000, numberOf);
    expect(fn.maxConcurrency).toBe(1);
    expect(fn.delivered.map((r) => Number(numberOf(r)))).toEqual([...Array(total).keys()]);
  }, 40_000);

  it('declares and binds the queue to an exchange, and passes message id, headers and content type', async () => {
    const { fn, queue, env } = await fixture();
    const exchange = `${queue}.x`;
    cleanup.push(() => channel.deleteExchange(exchange));
    await start({ ...env, RABBITMQ_QUEUE: `${queue}.bound`, RABBITMQ_EXCHANGE: exchange, RABBITMQ_ROUTING_KEY: 'orders.*' });
    cleanup.push(() => channel.deleteQueue(`${queue}.bound`));
    channel.publish(exchange, 'orders.created', Buffer.from('{"n":1}'), { messageId: 'order-1', contentType: 'application/json', headers: { 'X-Tenant': 'acme', attempt: 3 } });
    channel.publish(exchange, 'invoices.created', Buffer.from('{"n":2}'));
    await fn.waitFor((s) => s.delivered.length >= 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fn.delivered).toHaveLength(1);
    expect(fn.delivered[0]?.headers).toMatchObject({
      'ce-id': 'order-1',
      'x-tenant': 'acme',
      attempt: '3',
      'content-type': 'application/json',
      'event-namespace': 'rabbitmqtriggers.kubeless.io',
      'event-topic': `${queue}.bound`,
    });
  });

  it('dead-letters a refused message to a queue on the same broker and acks it', async () => {
    const { fn, queue, env } = await fixture({ DELIVERY_DEAD_LETTER_TOPIC: '' });
    const dlq = `${queue}.dlq`;
    await channel.assertQueue(dlq, { durable: true });
    cleanup.push(() => channel.deleteQueue(dlq));
    fn.behave((request) => (request.text === '{"n":1}' ? { status: 422, body: 'unprocessable' } : undefined));
    await start({ ...env, DELIVERY_DEAD_LETTER_TOPIC: dlq });
    await publishNumbered(queue, 0, 3);
    await fn.waitForDistinctDelivered(2, 10_000, numberOf);
    let dead: amqp.GetMessage | false = false;
    for (let i = 0; i < 50 && dead === false; i += 1) {
      dead = await channel.get(dlq, { noAck: true });
      if (dead === false) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(dead).not.toBe(false);
    const envelope = JSON.parse((dead as amqp.GetMessage).content.toString());
    expect(Buffer.from(envelope.message.body, 'base64').toString()).toBe('{"n":1}');
    expect(envelope).toMatchObject({ id: 'm-1', delivery: { lastStatus: 422, attempts: 1, lastResponseBody: 'unprocessable' }, source: { type: 'rabbitmq', topic: queue } });
    const state = await channel.checkQueue(queue);
    expect(state.messageCount).toBe(0);
  });

  it('publishes the function response to the reply queue', async () => {
    const { fn, queue, env } = await fixture();
    const replies = `${queue}.replies`;
    await channel.assertQueue(replies, { durable: true });
    cleanup.push(() => channel.deleteQueue(replies));
    fn.setDefault({ status: 200, body: '{"ok":true}', headers: { 'content-type': 'application/json' } });
    await start({ ...env, DELIVERY_REPLY_TOPIC: replies });
    await publishNumbered(queue, 0, 1);
    let reply: amqp.GetMessage | false = false;
    for (let i = 0; i < 50 && reply === false; i += 1) {
      reply = await channel.get(replies, { noAck: true });
      if (reply === false) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(reply).not.toBe(false);
    const got = reply as amqp.GetMessage;
    expect(got.content.toString()).toBe('{"ok":true}');
    expect(got.properties.contentType).toBe('application/json');
    expect(got.properties.headers).toMatchObject({ 'kurier-reply-to': 'm-0' });
  });

  it('reports every bad RabbitMQ variable by name', async () => {
    const dispatcher = DispatcherProcess.spawn('rabbitmq', { FUNCTION_URL: 'http://127.0.0.1:1/', RABBITMQ_URL: 'http://x', RABBITMQ_PREFETCH: 'lots', RABBITMQ_ROUTING_KEY: 'a.b' });
    const exit = await dispatcher.waitExit(20_000);
    expect(exit.code).toBe(1);
    expect(dispatcher.stderr.trim().split('\n')).toEqual([
      'kurier dispatch rabbitmq: RABBITMQ_URL="http://x" must use amqp or amqps',
      'kurier dispatch rabbitmq: RABBITMQ_QUEUE is required (the queue to consume)',
      'kurier dispatch rabbitmq: RABBITMQ_ROUTING_KEY needs RABBITMQ_EXCHANGE (it configures the binding)',
      'kurier dispatch rabbitmq: RABBITMQ_PREFETCH="lots" is not an integer in [1, 65535]',
    ]);
  });
});
