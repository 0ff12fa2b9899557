import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeliveryConfig } from '../../../dispatchers/core/config.js';
import type { FanOutSetup } from '../../../dispatchers/core/fan-out-setup.js';
import { setUpFanOut } from '../../../dispatchers/core/fan-out-setup.js';
import { combineSettlements } from '../../../dispatchers/core/fan-out.js';
import { createMetrics } from '../../../dispatchers/core/metrics.js';
import type { DispatcherMetrics } from '../../../dispatchers/core/metrics.js';
import type { Target } from '../../../dispatchers/core/targets-file.js';
import type { Admission, Logger, Settlement } from '../../../dispatchers/core/types.js';
import { ReleasedError } from '../../../dispatchers/core/types.js';
import { useCleanup } from '../../support/cleanup.js';
import { writeConfigMapMount } from '../../support/configmap-mount.js';
import { waitUntil as until } from '../../support/wait-until.js';
import { FunctionServer } from '../../support/function-server.js';
import { counterValue, deliveryConfig, message, RecordingPublisher } from './helpers.js';

const cleanup = useCleanup();

interface LogEntry { readonly level: string; readonly fields: Record<string, unknown>; readonly msg: string | undefined }

interface Rig {
  readonly setup: FanOutSetup;
  readonly metrics: DispatcherMetrics;
  readonly publisher: RecordingPublisher;
  readonly logs: LogEntry[];
  readonly dir: string;
  readonly path: string;
}

function recordingLogger(logs: LogEntry[]): Logger {
  const at = (level: string) => (fields: object, msg?: string): void => { logs.push({ level, fields: fields as Record<string, unknown>, msg }); };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function functions(count: number): Promise<FunctionServer[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => FunctionServer.start()));
  for (const server of servers) cleanup.push(() => server.close());
  return servers;
}

const targetsOf = (servers: readonly FunctionServer[], names = ['alpha', 'beta', 'gamma']): Target[] =>
  servers.map((server, index) => ({ name: names[index] ?? `t${String(index)}`, url: server.url }));

async function rig(targets: Target[], delivery: DeliveryConfig): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'kurier-targets-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  await writeConfigMapMount(dir, { 'targets.json': JSON.stringify({ targets }) });
  const metrics = createMetrics({ fanOut: true });
  const publisher = new RecordingPublisher();
  const logs: LogEntry[] = [];
  const setup = setUpFanOut({
    source: 'nats',
    trigger: { kind: 'NATSTrigger', name: 'orders', namespace: 'shop', uid: 'u-1' },
    delivery,
    targetsFile: { path: join(dir, 'targets.json'), pollIntervalMs: 50 },
    initial: targets,
    publisher,
    metrics,
    logger: recordingLogger(logs),
    tracer: undefined,
  });
  cleanup.push(async () => {
    setup.stopWatching();
    await setup.fanOut.drain(0);
    setup.fanOut.close();
  });
  return { setup, metrics, publisher, logs, dir, path: join(dir, 'targets.json') };
}

const fast = (overrides: Parameters<typeof deliveryConfig>[0] = {}): DeliveryConfig =>
  deliveryConfig({ ordering: 'unordered', maxInFlight: 4, ...overrides, retry: { initialDelayMs: 10, maxDelayMs: 50, ...overrides.retry } });

/** Resolves with true when `promise` settled within `ms`, false when it was still pending. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void promise.then(() => { done = true; }, () => { done = true; });
  await new Promise((resolve) => setTimeout(resolve, ms));
  return done;
}

describe('fan-out delivery', () => {
  it('delivers every message to every target and settles it once all of them have it', async () => {
    const servers = await functions(3);
    const { setup, metrics } = await rig(targetsOf(servers), fast());
    const settlements: Promise<Settlement>[] = [];
    for (let i = 0; i < 20; i += 1) settlements.push((await setup.fanOut.admit(message({ body: Buffer.from(`{"n":${String(i)}}`) }))).settled);
    expect((await Promise.all(settlements)).every((settlement) => settlement.outcome === 'delivered')).toBe(true);
    for (const server of servers) expect(server.delivered.map((request) => request.text).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `{"n":${String(i)}}`).sort());
    expect(await counterValue(metrics, 'kurier_dispatcher_messages_received_total')).toBe(20);
    for (const target of ['alpha', 'beta', 'gamma']) {
      expect(await counterValue(metrics, 'kurier_dispatcher_deliveries_total', { outcome: 'delivered', target })).toBe(20);
    }
  });

  it('holds the acknowledgement until the slowest target has the message; each target retries on its own', async () => {
    const [ok, flaky] = await functions(2);
    if (ok === undefined || flaky === undefined) throw new Error('two functions expected');
    flaky.answer({ status: 503 }, { status: 503 }, { status: 503 });
    const { setup, metrics } = await rig(targetsOf([ok, flaky]), fast({ maxInFlight: 1 }));
    const admission = await setup.fanOut.admit(message());
    const settlement = await admission.settled;
    expect(settlement).toEqual({ outcome: 'delivered', status: 200, attempts: 4 });
    expect(ok.requests).toHaveLength(1);
    expect(flaky.requests.map((request) => request.status)).toEqual([503, 503, 503, 200]);
    expect(await counterValue(metrics, 'kurier_dispatcher_retries_total', { target: 'beta' })).toBe(3);
    expect(await counterValue(metrics, 'kurier_dispatcher_retries_total', { target: 'alpha' })).toBe(0);
  });

  it('lets a fast target run at most maxInFlight (+ the message on offer) ahead of a target that is down', async () => {
    const [up, down] = await functions(2);
    if (up === undefined || down === undefined) throw new Error('two functions expected');
    await down.goDown();
    const { setup } = await rig(targetsOf([up, down]), fast({ maxInFlight: 3 }));
    const admitted: Admission[] = [];
    let blocked: Promise<Admission> | undefined;
    for (let i = 0; i < 10; i += 1) {
      const next = setup.fanOut.admit(message());
      if (!(await settlesWithin(next, 100))) {
        blocked = next;
        break;
      }
      admitted.push(await next);
    }
    expect(admitted).toHaveLength(3);
    expect(blocked).toBeDefined();
    await until(() => up.delivered.length === 4, 2_000, 'the fast target to take the message on offer');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(up.delivered).toHaveLength(4);
    await down.comeBack();
    await Promise.all(admitted.map((admission) => admission.settled));
    await (await blocked)?.settled;
    expect(down.delivered).toHaveLength(4);
  });

  it('keeps order per target when one target retries (ordered)', async () => {
    const [steady, flaky] = await functions(2);
    if (steady === undefined || flaky === undefined) throw new Error('two functions expected');
    flaky.failFraction(0.4);
    const { setup } = await rig(targetsOf([steady, flaky]), fast({ ordering: 'ordered', maxInFlight: 8 }));
    const settlements: Promise<Settlement>[] = [];
    for (let i = 0; i < 40; i += 1) settlements.push((await setup.fanOut.admit(message({ body: Buffer.from(String(i)) }))).settled);
    await Promise.all(settlements);
    for (const server of [steady, flaky]) expect(server.delivered.map((request) => Number(request.text))).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});

describe('targets changing', () => {
  it('abandons the pending deliveries of a target that left, logs how many, and settles them for the others', async () => {
    const [stays, leaves] = await functions(2);
    if (stays === undefined || leaves === undefined) throw new Error('two functions expected');
    await leaves.goDown();
    const { setup, logs, dir } = await rig(targetsOf([stays, leaves]), fast({ maxInFlight: 4 }));
    const admissions: Admission[] = [];
    for (let i = 0; i < 4; i += 1) admissions.push(await setup.fanOut.admit(message()));
    const offered = setup.fanOut.admit(message());
    expect(await settlesWithin(Promise.all(admissions.map((admission) => admission.settled)), 150)).toBe(false);
    await writeConfigMapMount(dir, { 'targets.json': JSON.stringify({ targets: [{ name: 'alpha', url: stays.url }] }) });
    const settlements = await Promise.all([...admissions, await offered].map((admission) => admission.settled));
    expect(settlements.map((settlement) => settlement.outcome)).toEqual(['delivered', 'delivered', 'delivered', 'delivered', 'delivered']);
    expect(stays.delivered).toHaveLength(5);
    const left = logs.find((entry) => entry.fields.target === 'beta' && entry.level === 'warn' && entry.msg?.includes('abandoned') === true);
    expect(left?.fields.abandoned).toBe(5);
    expect(setup.fanOut.targets.map((target) => target.name)).toEqual(['alpha']);
  });

  it('gives a target that appears only the messages admitted after the change', async () => {
    const [first, second] = await functions(2);
    if (first === undefined || second === undefined) throw new Error('two functions expected');
    const { setup } = await rig(targetsOf([first]), fast());
    await (await setup.fanOut.admit(message({ body: Buffer.from('before') }))).settled;
    setup.fanOut.setTargets(targetsOf([first, second]));
    await (await setup.fanOut.admit(message({ body: Buffer.from('after') }))).settled;
    expect(first.delivered.map((request) => request.text)).toEqual(['before', 'after']);
    expect(second.delivered.map((request) => request.text)).toEqual(['after']);
  });

  it('with zero targets admits nothing; the waiting messages go, in order, to the first target that appears', async () => {
    const [late] = await functions(1);
    if (late === undefined) throw new Error('a function expected');
    const { setup } = await rig([], fast({ ordering: 'ordered' }));
    let appeared = false;
    void setup.fanOut.whenTargets().then(() => { appeared = true; });
    const waiting = [setup.fanOut.admit(message({ body: Buffer.from('1') })), setup.fanOut.admit(message({ body: Buffer.from('2') }))];
    expect(await settlesWithin(Promise.race(waiting), 100)).toBe(false);
    expect(appeared).toBe(false);
    expect(setup.fanOut.pending).toBe(0);
    setup.fanOut.setTargets([{ name: 'late', url: late.url }]);
    await Promise.all((await Promise.all(waiting)).map((admission) => admission.settled));
    expect(appeared).toBe(true);
    expect(late.delivered.map((request) => request.text)).toEqual(['1', '2']);
  });

  it('releases a message waiting for targets when the source takes it back, and every one on shutdown', async () => {
    const { setup } = await rig([], fast());
    const taken = new AbortController();
    const first = setup.fanOut.admit(message(), { release: taken.signal });
    const second = setup.fanOut.admit(message());
    taken.abort();
    await expect(first).rejects.toBeInstanceOf(ReleasedError);
    await setup.fanOut.drain(100);
    await expect(second).rejects.toBeInstanceOf(ReleasedError);
  });

  it('treats a target whose URL changed as one that left and one that appeared', async () => {
    const [old, moved] = await functions(2);
    if (old === undefined || moved === undefined) throw new Error('two functions expected');
    const { setup, logs } = await rig([{ name: 'alpha', url: old.url }], fast());
    await (await setup.fanOut.admit(message())).settled;
    setup.fanOut.setTargets([{ name: 'alpha', url: moved.url }]);
    await (await setup.fanOut.admit(message())).settled;
    expect([old.delivered.length, moved.delivered.length]).toEqual([1, 1]);
    expect(logs.some((entry) => entry.msg?.startsWith('target changed its URL') === true)).toBe(true);
  });
});

describe('dead letters, drops and releases per target', () => {
  it('dead-letters for the failing target only, and the envelope names it', async () => {
    const [ok, broken] = await functions(2);
    if (ok === undefined || broken === undefined) throw new Error('two functions expected');
    broken.setDefault({ status: 400, body: 'bad input' });
    const { setup, publisher, metrics } = await rig(targetsOf([ok, broken]), fast({ deadLetterTopic: 'dlq' }));
    const settlement = await (await setup.fanOut.admit(message())).settled;
    expect(settlement.outcome).toBe('dead-lettered');
    expect(publisher.published).toHaveLength(1);
    const envelope = JSON.parse(publisher.published[0]?.body.toString() ?? '{}') as { delivery: { target?: string; functionUrl: string; lastStatus: number } };
    expect(envelope.delivery).toMatchObject({ target: 'beta', functionUrl: broken.url, lastStatus: 400 });
    expect(await counterValue(metrics, 'kurier_dispatcher_deliveries_total', { outcome: 'dead_lettered', target: 'beta' })).toBe(1);
    expect(await counterValue(metrics, 'kurier_dispatcher_deliveries_total', { outcome: 'delivered', target: 'alpha' })).toBe(1);
  });

  it('releases the message on shutdown when a target still had it (the source delivers it again)', async () => {
    const [ok, down] = await functions(2);
    if (ok === undefined || down === undefined) throw new Error('two functions expected');
    await down.goDown();
    const { setup } = await rig(targetsOf([ok, down]), fast());
    const admission = await setup.fanOut.admit(message());
    await until(() => ok.delivered.length === 1, 2_000, 'the healthy target');
    await setup.fanOut.drain(50);
    await expect(admission.settled).rejects.toBeInstanceOf(ReleasedError);
  });

  it('combines settlements: released wins, then dropped, then dead-lettered; all targets gone is a drop', () => {
    const delivered = { kind: 'settled', target: 'a', settlement: { outcome: 'delivered', status: 200, attempts: 1 } } as const;
    const dead = { kind: 'settled', target: 'b', settlement: { outcome: 'dead-lettered', status: 400, attempts: 3 } } as const;
    const dropped = { kind: 'settled', target: 'c', settlement: { outcome: 'dropped', status: 500, attempts: 2, reason: 'attempts exhausted' } } as const;
    expect(combineSettlements([delivered, dead])).toEqual({ outcome: 'dead-lettered', status: 400, attempts: 3 });
    expect(combineSettlements([delivered, dead, dropped])).toEqual({ outcome: 'dropped', status: 500, attempts: 3, reason: 'c: attempts exhausted' });
    expect(combineSettlements([delivered, { kind: 'abandoned' }])).toEqual({ outcome: 'delivered', status: 200, attempts: 1 });
    expect(combineSettlements([{ kind: 'abandoned' }]).outcome).toBe('dropped');
    expect(() => combineSettlements([delivered, { kind: 'released', error: new ReleasedError() }])).toThrow(ReleasedError);
  });
});
