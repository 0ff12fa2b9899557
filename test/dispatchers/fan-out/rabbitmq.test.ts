/**
 * `kurier dispatch rabbitmq` with FUNCTION_TARGETS_FILE, as a real process against the real
 * RabbitMQ: every message at every target, dead letters per target, nothing taken without targets.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RABBITMQ_WINDOW_FACTOR } from '../../../dispatchers/rabbitmq/index.js';
import { useCleanup } from '../../support/cleanup.js';
import { DispatcherProcess } from '../../support/dispatcher-process.js';
import { numberOf } from '../../support/stream-tally.js';
import { publishNumbered as publishTo, RABBITMQ, useRabbitMQ } from '../rabbitmq/helpers.js';
import { fanOutEnv, report, startFunctions, TargetsMount, targetsApplied } from './helpers.js';

const broker = useRabbitMQ();
const cleanup = useCleanup();

async function queueFixture(): Promise<{ queue: string; env: Record<string, string> }> {
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const queue = `kurier.fanout.${suffix}`;
  await broker.channel.assertQueue(queue, { durable: true });
  cleanup.push(() => broker.channel.deleteQueue(queue));
  return { queue, env: { TRIGGER_KIND: 'RabbitMQTrigger', TRIGGER_NAME: `fan-${suffix}`, TRIGGER_NAMESPACE: 'shop', RABBITMQ_URL: RABBITMQ, RABBITMQ_QUEUE: queue } };
}

const publishNumbered = (queue: string, from: number, to: number): Promise<void> => publishTo(broker.connection, queue, from, to);

describe('fan-out from RabbitMQ (real RabbitMQ, real local functions)', () => {
  it('two targets, one flaky (503s) and one down for a while: nothing missing at either', async () => {
    const total = 600;
    const { queue, env } = await queueFixture();
    const fns = await startFunctions(cleanup, ['flaky', 'sometimes-down']);
    fns.flaky.failFraction(0.2);
    const mount = await TargetsMount.create(cleanup);
    await mount.write(fns);
    await cleanup.dispatcher('rabbitmq', { ...env, ...fanOutEnv(mount), DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '8' });
    await publishNumbered(queue, 0, total);
    await fns['sometimes-down'].waitFor((f) => f.delivered.length >= 150, 20_000);
    await fns['sometimes-down'].goDown(1_500);
    await Promise.all(Object.values(fns).map((fn) => fn.waitForDistinctDelivered(total, 60_000, numberOf)));
    const result = report('rabbitmq fan-out flaky+down', total, fns);
    for (const counted of Object.values(result)) expect(counted.missing).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await broker.channel.checkQueue(queue)).messageCount, 'everything acknowledged').toBe(0);
  }, 90_000);

  it('four targets: the dead letters of the one answering 400 name it, the one that hangs stops holding acks once removed, the other two have everything', async () => {
    const total = 300;
    const { queue, env } = await queueFixture();
    const dlq = `${queue}.dlq`;
    await broker.channel.assertQueue(dlq, { durable: true });
    cleanup.push(() => broker.channel.deleteQueue(dlq));
    const fns = await startFunctions(cleanup, ['one', 'two', 'refuses', 'hangs']);
    fns.refuses.setDefault({ status: 400, body: 'no thanks' });
    await fns.hangs.goDown();
    const mount = await TargetsMount.create(cleanup);
    await mount.write({ one: fns.one, two: fns.two, refuses: fns.refuses, hangs: fns.hangs });
    const dispatcher = await cleanup.dispatcher('rabbitmq', { ...env, ...fanOutEnv(mount), DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4', DELIVERY_DEAD_LETTER_TOPIC: dlq });
    await publishNumbered(queue, 0, total);
    // `hangs` refuses connections: its four slots fill and nothing is acknowledged until it leaves,
    // so the others get no more than the source's window (the prefetch) — then nothing new arrives.
    const window = RABBITMQ_WINDOW_FACTOR * 4;
    await fns.one.waitFor((f) => f.delivered.length >= 4, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fns.one.delivered.length).toBeLessThanOrEqual(window);
    await mount.write({ one: fns.one, two: fns.two, refuses: fns.refuses });
    await targetsApplied(dispatcher, ['one', 'two', 'refuses']);
    await Promise.all([fns.one, fns.two].map((fn) => fn.waitForDistinctDelivered(total, 60_000, numberOf)));
    const result = report('rabbitmq fan-out dead-letter+remove', total, { one: fns.one, two: fns.two });
    for (const counted of Object.values(result)) expect(counted).toMatchObject({ missing: [], duplicates: 0 });
    const targets = new Set<string>();
    const numbers = new Set<number>();
    for (let i = 0; i < 10 * total && numbers.size < total; i += 1) {
      const dead = await broker.channel.get(dlq, { noAck: true });
      if (dead === false) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const envelope = JSON.parse(dead.content.toString()) as { message: { body: string }; delivery: { target?: string; lastStatus: number } };
      targets.add(`${envelope.delivery.target ?? '(none)'} ${String(envelope.delivery.lastStatus)}`);
      numbers.add((JSON.parse(Buffer.from(envelope.message.body, 'base64').toString()) as { n: number }).n);
    }
    expect([...targets]).toEqual(['refuses 400']);
    expect(numbers.size).toBe(total);
    expect(await dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'dead_lettered', target: 'refuses' })).toBe(total);
    expect(dispatcher.logs.find((line) => line.target === 'hangs' && typeof line.abandoned === 'number')?.abandoned).toBeGreaterThanOrEqual(4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await broker.channel.checkQueue(queue)).messageCount).toBe(0);
  }, 90_000);

  it('with zero targets does not consume the queue (no consumer); a target appearing gets everything', async () => {
    const total = 200;
    const { queue, env } = await queueFixture();
    const fns = await startFunctions(cleanup, ['late']);
    const mount = await TargetsMount.create(cleanup);
    await mount.write({});
    await publishNumbered(queue, 0, total);
    const dispatcher = DispatcherProcess.spawn('rabbitmq', { ...env, ...fanOutEnv(mount) });
    cleanup.push(() => dispatcher.stop());
    await dispatcher.waitForLog((line) => line.msg === 'no targets: waiting for the targets file to list one before subscribing');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await broker.channel.checkQueue(queue)).toMatchObject({ messageCount: total, consumerCount: 0 });
    await mount.write(fns);
    await fns.late.waitForDistinctDelivered(total, 30_000, numberOf);
    await dispatcher.ready(10_000);
    expect(report('rabbitmq fan-out zero targets', total, fns).late?.missing).toEqual([]);
  }, 60_000);
});
