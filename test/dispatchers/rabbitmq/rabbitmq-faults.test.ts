import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCleanup } from '../../support/cleanup.js';
import type { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';
import { numberOf, orderViolations, tally } from '../../support/stream-tally.js';

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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function fixture(extra: Record<string, string> = {}): Promise<{ fn: FunctionServer; queue: string; name: string; env: Record<string, string> }> {
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const queue = `kurier.faults.${suffix}`;
  const name = `rf-${suffix}`;
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

async function publishNumbered(queue: string, from: number, to: number, properties: amqp.Options.Publish = {}): Promise<void> {
  const confirm = await connection.createConfirmChannel();
  for (let i = from; i < to; i += 1) {
    confirm.sendToQueue(queue, Buffer.from(JSON.stringify({ n: i })), { persistent: true, messageId: `m-${i}`, contentType: 'application/json', ...properties });
  }
  await confirm.waitForConfirms();
  await confirm.close();
}

/** Closes this dispatcher's connection from the broker side (never the whole server: it is shared). */
async function dropConnection(connectionName: string): Promise<void> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_connections', 'pid', 'client_properties']);
  const pids = stdout.split('\n').filter((line) => line.includes(connectionName)).map((line) => line.split('\t')[0]!);
  expect(pids.length).toBeGreaterThan(0);
  for (const pid of pids) await run('rabbitmqctl', ['close_connection', pid, 'kurier test: broker drops the connection']);
}

async function unacknowledged(queue: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['-q', 'list_queues', 'name', 'messages_unacknowledged']);
  const line = stdout.split('\n').find((l) => l.split('\t')[0] === queue);
  return Number(line?.split('\t')[1]);
}

/** Takes one message from `queue`, waiting for the queue and the message to appear. */
async function getOne(queue: string, timeoutMs: number): Promise<amqp.GetMessage | false> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Its own channel: a get on a missing queue is a channel error that closes the channel.
    const probe = await connection.createChannel();
    probe.on('error', () => undefined);
    try {
      const got = await probe.get(queue, { noAck: true });
      await probe.close();
      if (got !== false) return got;
    } catch {
      // 404: the queue does not exist (yet); the broker closed the probe channel.
    }
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

describe('RabbitMQ dispatcher under faults (real RabbitMQ)', () => {
  it('releases everything a lost connection had delivered: with the function down through 4 connection drops, each message reaches it once', async () => {
    const total = 8;
    const { fn, queue, name, env } = await fixture({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    const dispatcher = await start(env);
    await fn.goDown();
    await publishNumbered(queue, 0, total);
    await dispatcher.waitForLog((l) => l.msg === 'delivery failed; retrying', 10_000);
    for (let drop = 1; drop <= 4; drop += 1) {
      const reconnects = dispatcher.logs.filter((l) => l.msg === 'reconnected to RabbitMQ').length;
      await dropConnection(`kurier-shop-${name}`);
      await dispatcher.waitForLog((l) => l.msg === 'reconnected to RabbitMQ' && dispatcher.logs.filter((x) => x.msg === 'reconnected to RabbitMQ').length > reconnects, 20_000);
      await sleep(300);
    }
    // What the pipeline holds now belongs to the live connection only.
    expect(await dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'released' })).toBeGreaterThanOrEqual(4);
    await fn.comeBack();
    await fn.waitForDistinctDelivered(total, 20_000, numberOf);
    await sleep(1_500);
    const result = tally(fn.delivered, total);
    console.log(`[rabbitmq function down, 4 drops] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates`);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
  }, 90_000);

  it('delivers a message whose AMQP timestamp is outside the Date range (microseconds) and the ones behind it, each once', async () => {
    const { fn, queue, env } = await fixture({ DELIVERY_ORDERING: 'ordered' });
    const dispatcher = await start(env);
    await publishNumbered(queue, 0, 1, { timestamp: Date.now() * 1000 });
    await publishNumbered(queue, 1, 6);
    await fn.waitForDistinctDelivered(6, 10_000, numberOf);
    await sleep(500);
    expect(fn.requests).toHaveLength(6);
    expect(orderViolations(fn.delivered)).toBe(0);
    // The bad timestamp is dropped from the headers: the event time falls back to when it was received.
    expect(Number.isNaN(Date.parse(String(fn.delivered[0]?.headers['ce-time'])))).toBe(false);
    expect(dispatcher.logs.filter((l) => l.msg === 'message property dropped from the headers')).toHaveLength(1);
  }, 30_000);

  it('holds a message whose dead-letter queue does not exist (RABBITMQ_DECLARE=false): not acked, counted, the rest flows; written once the queue appears', async () => {
    const { fn, queue, env } = await fixture({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    const dlq = `${queue}.dlq`;
    cleanup.push(() => channel.deleteQueue(dlq));
    fn.behave((request) => (request.text === '{"n":1}' ? { status: 400, body: 'bad order' } : undefined));
    const dispatcher = await start({ ...env, RABBITMQ_DECLARE: 'false', DELIVERY_DEAD_LETTER_TOPIC: dlq, DELIVERY_RETRY_MAX_DELAY: '500ms' });
    await publishNumbered(queue, 0, 20);
    await fn.waitForDistinctDelivered(19, 15_000, numberOf);
    await dispatcher.waitForLog((l) => l.msg === 'dead-letter publish failed; retrying', 10_000);
    expect(await dispatcher.metric('kurier_dispatcher_publish_failures_total', { purpose: 'dead_letter' })).toBeGreaterThan(0);
    expect(await dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'dead_lettered' })).toBe(0);
    // Held, not acked: the broker still counts it as unacknowledged.
    expect(await unacknowledged(queue)).toBe(1);
    expect(dispatcher.logs.some((l) => l.msg === 'lost RabbitMQ; reconnecting (unacked messages will be redelivered)')).toBe(false);
    await channel.assertQueue(dlq, { durable: true });
    const dead = await getOne(dlq, 10_000);
    expect(dead).not.toBe(false);
    const envelope = JSON.parse((dead as amqp.GetMessage).content.toString()) as { id: string };
    expect(envelope.id).toBe('m-1');
    expect(tally(fn.delivered, 20).duplicates).toBe(0);
  }, 40_000);

  it('re-declares a dead-letter queue deleted while it runs instead of losing envelopes to an unroutable publish', async () => {
    const { fn, queue, env } = await fixture();
    const dlq = `${queue}.dlq`;
    cleanup.push(() => channel.deleteQueue(dlq));
    fn.behave((request) => (request.text === '{"n":0}' || request.text === '{"n":2}' ? { status: 400 } : undefined));
    await start({ ...env, DELIVERY_DEAD_LETTER_TOPIC: dlq });
    await publishNumbered(queue, 0, 2);
    expect(await getOne(dlq, 10_000)).not.toBe(false);
    await channel.deleteQueue(dlq);
    await publishNumbered(queue, 2, 3);
    const dead = await getOne(dlq, 10_000);
    expect(dead).not.toBe(false);
    expect((JSON.parse((dead as amqp.GetMessage).content.toString()) as { id: string }).id).toBe('m-2');
  }, 30_000);

  it('keeps consuming when the dead-letter queue was declared with other arguments (non-durable): no reconnect loop, no duplicates', async () => {
    const total = 20;
    const { fn, queue, env } = await fixture({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    const dlq = `${queue}.dlq`;
    await channel.assertQueue(dlq, { durable: false });
    cleanup.push(() => channel.deleteQueue(dlq));
    fn.behave((request) => (request.text === '{"n":3}' ? { status: 400 } : undefined));
    const dispatcher = await start({ ...env, DELIVERY_DEAD_LETTER_TOPIC: dlq });
    await publishNumbered(queue, 0, total);
    await fn.waitForDistinctDelivered(total - 1, 15_000, numberOf);
    const dead = await getOne(dlq, 10_000);
    expect(dead).not.toBe(false);
    await sleep(1_000);
    expect(dispatcher.logs.filter((l) => l.msg === 'lost RabbitMQ; reconnecting (unacked messages will be redelivered)')).toEqual([]);
    expect(tally(fn.delivered, total).duplicates).toBe(0);
    expect((await channel.checkQueue(queue)).messageCount).toBe(0);
  }, 40_000);

  it('re-declares a reply queue deleted while it runs: every reply arrives, none is confirmed into nowhere', async () => {
    const { fn, queue, env } = await fixture();
    const replies = `${queue}.replies`;
    cleanup.push(() => channel.deleteQueue(replies));
    fn.setDefault({ status: 200, body: 'done', headers: { 'content-type': 'text/plain' } });
    const dispatcher = await start({ ...env, DELIVERY_REPLY_TOPIC: replies });
    await publishNumbered(queue, 0, 5);
    await fn.waitFor((f) => f.delivered.length >= 5, 10_000);
    for (let i = 0; i < 5; i += 1) expect(await getOne(replies, 10_000)).not.toBe(false);
    await channel.deleteQueue(replies);
    await publishNumbered(queue, 5, 10);
    await fn.waitFor((f) => f.delivered.length >= 10, 10_000);
    const received: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const reply = await getOne(replies, 10_000);
      if (reply !== false) received.push(String(reply.properties.headers?.['kurier-reply-to']));
    }
    expect(received.sort()).toEqual(['m-5', 'm-6', 'm-7', 'm-8', 'm-9']);
    expect(await dispatcher.metric('kurier_dispatcher_publish_failures_total', { purpose: 'reply' })).toBe(0);
  }, 40_000);

  it('SIGTERM while the head of an ordered queue waits out a long retry: after a restart 0 missing, 0 duplicates, 0 out of order', async () => {
    const total = 40;
    const { fn, queue, env } = await fixture({ DELIVERY_ORDERING: 'ordered', DELIVERY_MAX_IN_FLIGHT: '8', DELIVERY_RETRY_INITIAL_DELAY: '6s', DELIVERY_RETRY_MAX_DELAY: '6s' });
    let failedFive = false;
    fn.behave((request) => {
      if (request.text !== '{"n":5}' || failedFive) return undefined;
      failedFive = true;
      return { status: 503 };
    });
    const first = await start(env);
    await publishNumbered(queue, 0, total);
    await fn.waitFor(() => failedFive, 15_000, 'message 5 to fail once');
    await sleep(500);
    expect((await first.terminate()).code).toBe(0);
    const second = await first.restart();
    cleanup.push(() => second.stop());
    await fn.waitForDistinctDelivered(total, 30_000, numberOf);
    await sleep(1_500);
    const result = tally(fn.delivered, total);
    const outOfOrder = orderViolations(fn.delivered);
    console.log(`[rabbitmq SIGTERM ordered, retrying head] ${total} published, ${result.missing.length} missing, ${result.duplicates} duplicates, ${outOfOrder} out of order; arrival ${fn.delivered.map(numberOf).join(' ')}`);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
    expect(outOfOrder).toBe(0);
  }, 60_000);

  /*
   * RabbitMQ 3.10 (this machine's) knows consumer_timeout only broker-wide, so this runs against a
   * broker of its own, e.g. a private node next to the shared one:
   *   printf 'consumer_timeout = 3000\nlisteners.tcp.default = 127.0.0.1:PORT\nloopback_users.guest = false\n' > DIR/rabbitmq.conf
   *   echo '[].' > DIR/enabled_plugins; chown -R rabbitmq DIR
   *   RABBITMQ_NODENAME=kurierct@localhost RABBITMQ_DIST_PORT=PORT2 RABBITMQ_CONFIG_FILE=DIR/rabbitmq \
   *     RABBITMQ_MNESIA_BASE=DIR/mnesia RABBITMQ_LOG_BASE=DIR/log RABBITMQ_ENABLED_PLUGINS_FILE=DIR/enabled_plugins rabbitmq-server
   *   RABBITMQ_CONSUMER_TIMEOUT_URL=amqp://guest:guest@127.0.0.1:PORT npx vitest run test/dispatchers/rabbitmq/rabbitmq-faults.test.ts
   */
  const consumerTimeoutUrl = process.env.RABBITMQ_CONSUMER_TIMEOUT_URL;
  it.skipIf(consumerTimeoutUrl === undefined)('releases what a channel closed by consumer_timeout held: the function down past the timeout, each message reaches it once (needs RABBITMQ_CONSUMER_TIMEOUT_URL, a broker with consumer_timeout of a few seconds)', async () => {
    const url = consumerTimeoutUrl ?? '';
    const own = await amqp.connect(url);
    cleanup.push(() => own.close());
    const ownChannel = await own.createChannel();
    const queue = `kurier.ct.${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    await ownChannel.assertQueue(queue, { durable: true });
    cleanup.push(() => ownChannel.deleteQueue(queue));
    const { fn, env } = await fixture({ DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    await fn.goDown();
    const dispatcher = await start({ ...env, RABBITMQ_URL: url, RABBITMQ_QUEUE: queue });
    for (let i = 0; i < 4; i += 1) ownChannel.sendToQueue(queue, Buffer.from(JSON.stringify({ n: i })), { persistent: true, messageId: `m-${i}` });
    const timedOut = (): number => dispatcher.logs.filter((l) => l.msg === 'lost RabbitMQ; reconnecting (unacked messages will be redelivered)').length;
    // RabbitMQ 3.10 checks the timeout about once a minute.
    const deadline = Date.now() + 100_000;
    while (timedOut() < 1 && Date.now() < deadline) await sleep(500);
    expect(timedOut()).toBeGreaterThanOrEqual(1);
    expect(String(dispatcher.logs.find((l) => l.msg === 'RabbitMQ channel error')?.err)).toContain('timed out');
    await dispatcher.waitForLog((l) => l.msg === 'reconnected to RabbitMQ', 20_000);
    await sleep(1_000);
    await fn.comeBack();
    await fn.waitForDistinctDelivered(4, 20_000, numberOf);
    await sleep(1_500);
    const result = tally(fn.delivered, 4);
    console.log(`[rabbitmq consumer_timeout] ${timedOut()} channel closures, ${result.missing.length} missing, ${result.duplicates} duplicates`);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
  }, 180_000);
});
