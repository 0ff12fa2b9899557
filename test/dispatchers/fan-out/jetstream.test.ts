/**
 * `kurier dispatch nats` (JetStream) with FUNCTION_TARGETS_FILE, as a real process against the real
 * nats-server: every message at every target, counted per target.
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../../support/cleanup.js';
import { DispatcherProcess } from '../../support/dispatcher-process.js';
import { numberOf } from '../../support/stream-tally.js';
import { createStream, deleteStream, publishNumbered, SHARED_NATS, uniqueName, useSharedNats } from '../nats/helpers.js';
import { fanOutEnv, numbersDelivered, report, startFunctions, TargetsMount, targetsApplied } from './helpers.js';

const shared = useSharedNats();
const cleanup = useCleanup();

async function stream(): Promise<{ stream: string; subject: string; env: Record<string, string> }> {
  const name = uniqueName('KURIER_FAN');
  const prefix = name.toLowerCase();
  await createStream(shared.nc, name, [`${prefix}.>`]);
  cleanup.push(() => deleteStream(shared.nc, name));
  return {
    stream: name,
    subject: `${prefix}.orders`,
    env: {
      TRIGGER_KIND: 'NATSTrigger',
      TRIGGER_NAME: 'orders',
      TRIGGER_NAMESPACE: 'shop',
      NATS_URL: SHARED_NATS,
      NATS_SUBJECT: `${prefix}.orders`,
      NATS_JETSTREAM_STREAM: name,
      NATS_JETSTREAM_CONSUMER: `${name}-c`,
      NATS_JETSTREAM_ACK_WAIT: '30s',
    },
  };
}

describe('fan-out from NATS JetStream (real nats-server, real local functions)', () => {
  it('three targets, one flaky (503s) and one down for a while: nothing missing at any of them', async () => {
    const total = 600;
    const s = await stream();
    const fns = await startFunctions(cleanup, ['steady', 'flaky', 'sometimes-down']);
    fns.flaky.failFraction(0.2);
    const mount = await TargetsMount.create(cleanup);
    await mount.write(fns);
    const dispatcher = await cleanup.dispatcher('nats', { ...s.env, ...fanOutEnv(mount), DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '8' });
    await publishNumbered(shared.nc, s.subject, 0, total);
    await fns['sometimes-down'].waitFor((f) => f.delivered.length >= 150, 20_000);
    await fns['sometimes-down'].goDown(1_500);
    await Promise.all(Object.values(fns).map((fn) => fn.waitForDistinctDelivered(total, 60_000, numberOf)));
    const result = report('jetstream fan-out flaky+down', total, fns);
    for (const counted of Object.values(result)) expect(counted.missing).toEqual([]);
    expect(await dispatcher.metric('kurier_dispatcher_messages_received_total')).toBeGreaterThanOrEqual(total);
    for (const name of Object.keys(fns)) {
      expect(await dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered', target: name })).toBeGreaterThanOrEqual(total);
    }
    expect(await dispatcher.metric('kurier_dispatcher_retries_total', { target: 'flaky' })).toBeGreaterThan(0);
    expect(await dispatcher.metric('kurier_dispatcher_retries_total', { target: 'steady' })).toBe(0);
  }, 90_000);

  it('a target added and one removed mid-stream through the mounted file: the others lose and duplicate nothing, ordered per target', async () => {
    const s = await stream();
    const fns = await startFunctions(cleanup, ['stays', 'leaves', 'joins']);
    fns.leaves.setDelay(40);
    const mount = await TargetsMount.create(cleanup);
    await mount.write({ stays: fns.stays, leaves: fns.leaves });
    const dispatcher = await cleanup.dispatcher('nats', { ...s.env, ...fanOutEnv(mount), DELIVERY_ORDERING: 'ordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    await publishNumbered(shared.nc, s.subject, 0, 300);
    await fns.leaves.waitFor((f) => f.delivered.length >= 50, 20_000);
    await mount.write({ stays: fns.stays, joins: fns.joins });
    await targetsApplied(dispatcher, ['stays', 'joins']);
    const leftAt = fns.leaves.requests.length;
    await publishNumbered(shared.nc, s.subject, 300, 600);
    await fns.stays.waitForDistinctDelivered(600, 60_000, numberOf);
    await fns.joins.waitFor((f) => numbersDelivered(f).has(599), 60_000, 'the last message at the new target');
    const result = report('jetstream fan-out add+remove', 600, fns);
    expect(result.stays).toMatchObject({ missing: [], duplicates: 0 });
    const joined = [...numbersDelivered(fns.joins)].sort((a, b) => a - b);
    // The new target gets what the dispatcher received after the change: a suffix of the stream, every message from 300 on.
    const first = joined[0] ?? -1;
    expect(joined).toEqual(Array.from({ length: 600 - first }, (_, i) => first + i));
    expect(first).toBeLessThanOrEqual(300);
    expect(result.joins?.duplicates).toBe(0);
    for (const fn of [fns.stays, fns.joins]) {
      const order = fn.delivered.map((request) => Number(numberOf(request)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    const abandoned = dispatcher.logs.find((line) => line.target === 'leaves' && typeof line.abandoned === 'number');
    expect(abandoned?.msg).toMatch(/^target left: its \d+ pending deliveries are abandoned/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fns.leaves.requests.length - leftAt, 'requests to the removed target after the change (at most the attempts in progress)').toBeLessThanOrEqual(4);
  }, 90_000);

  it('SIGTERM mid-stream with a slow target and a restart: nothing missing at either target, duplicates counted', async () => {
    const total = 300;
    const s = await stream();
    const fns = await startFunctions(cleanup, ['quick', 'slow']);
    fns.slow.setDelay(30);
    const mount = await TargetsMount.create(cleanup);
    await mount.write(fns);
    const first = await cleanup.dispatcher('nats', { ...s.env, ...fanOutEnv(mount), DELIVERY_ORDERING: 'unordered', DELIVERY_MAX_IN_FLIGHT: '4' });
    await publishNumbered(shared.nc, s.subject, 0, total);
    await fns.slow.waitFor((f) => f.delivered.length >= 60, 20_000);
    expect((await first.terminate()).code).toBe(0);
    const second = await first.restart();
    cleanup.push(() => second.stop());
    await Promise.all(Object.values(fns).map((fn) => fn.waitForDistinctDelivered(total, 60_000, numberOf)));
    const result = report('jetstream fan-out SIGTERM+restart', total, fns);
    for (const counted of Object.values(result)) expect(counted.missing).toEqual([]);
  }, 90_000);

  it('with zero targets consumes nothing (no consumer is even created); a target appearing gets everything', async () => {
    const total = 200;
    const s = await stream();
    const fns = await startFunctions(cleanup, ['late']);
    const mount = await TargetsMount.create(cleanup);
    await mount.write({});
    await publishNumbered(shared.nc, s.subject, 0, total);
    const dispatcher = DispatcherProcess.spawn('nats', { ...s.env, ...fanOutEnv(mount) });
    cleanup.push(() => dispatcher.stop());
    await dispatcher.waitForLog((line) => line.msg === 'no targets: waiting for the targets file to list one before subscribing');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const jsm = await shared.nc.jetstreamManager();
    await expect(jsm.consumers.info(s.stream, s.env.NATS_JETSTREAM_CONSUMER ?? '')).rejects.toThrow(/consumer not found/i);
    expect((await jsm.streams.info(s.stream)).state.messages).toBe(total);
    expect(await dispatcher.get('/readyz')).toBe(503);
    await mount.write(fns);
    await fns.late.waitForDistinctDelivered(total, 30_000, numberOf);
    await dispatcher.ready(10_000);
    const result = report('jetstream fan-out zero targets', total, fns);
    expect(result.late?.missing).toEqual([]);
  }, 60_000);
});
