/** Leader election on a fake clock against an in-memory Lease store that enforces resourceVersions. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../controller/clock.js';
import type { KubeApi, KubeObject } from '../../controller/kube.js';
import { leaderElectionProblems, LeaderElector, microTime } from '../../controller/leader-election.js';
import { silentLogger } from '../../controller/logger.js';

class Conflict extends Error {
  readonly code = 409;
}

/** Just enough of KubeApi for Leases: get, create (409 if present), replace (409 on a stale resourceVersion). */
function leaseStore(): { api: KubeApi; lease(): KubeObject | undefined; down: { value: boolean }; hang: { value: boolean } } {
  let stored: KubeObject | undefined;
  let rv = 0;
  const down = { value: false };
  const hang = { value: false };
  const check = (): void => {
    if (down.value) throw Object.assign(new Error('unavailable'), { code: 503 });
  };
  const never = new Promise<never>(() => undefined);
  const api = {
    get: (): Promise<KubeObject | undefined> => {
      if (hang.value) return never;
      check();
      return Promise.resolve(stored === undefined ? undefined : structuredClone(stored));
    },
    create: (_r: unknown, _ns: string, body: KubeObject): Promise<KubeObject> => {
      check();
      if (stored !== undefined) return Promise.reject(new Conflict('exists'));
      stored = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      return Promise.resolve(structuredClone(stored));
    },
    replace: (_r: unknown, _ns: string, _name: string, body: KubeObject): Promise<KubeObject> => {
      check();
      if (stored?.metadata.resourceVersion !== body.metadata.resourceVersion) return Promise.reject(new Conflict('stale'));
      stored = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      return Promise.resolve(structuredClone(stored));
    },
  } as unknown as KubeApi;
  return { api, lease: () => stored, down, hang };
}

const config = (identity: string) => ({
  namespace: 'kurier',
  name: 'kurier-controller',
  identity,
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2000,
});

/** Lets pending promise chains run (the fake API resolves at once). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

async function advance(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

describe('leader election', () => {
  it('elects exactly one of two candidates and keeps it while it renews', async () => {
    const clock = new FakeClock(1_000_000);
    const store = leaseStore();
    const leading: string[] = [];
    const abort = new AbortController();
    for (const id of ['a', 'b']) {
      const elector = new LeaderElector(store.api, config(id), { clock, log: silentLogger });
      void elector.run({ onStartedLeading: () => leading.push(id), onStoppedLeading: () => leading.push(`-${id}`) }, abort.signal);
    }
    await advance(clock, 60_000);
    expect(leading).toHaveLength(1);
    expect(store.lease()?.['spec']).toMatchObject({ holderIdentity: leading[0], leaseDurationSeconds: 15 });
    abort.abort();
    await flush();
  });

  it('takes over an abandoned lease only after the lease duration, counting the transition', async () => {
    const clock = new FakeClock(1_000_000);
    const store = leaseStore();
    const crashed = new AbortController();
    const a = new LeaderElector(store.api, config('a'), { clock, log: silentLogger });
    a.keepLeaseOnCancel();
    void a.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined }, crashed.signal);
    await flush();
    expect(a.leading).toBe(true);
    const b = new LeaderElector(store.api, config('b'), { clock, log: silentLogger });
    let bLeadsAt: number | undefined;
    const stop = new AbortController();
    void b.run({ onStartedLeading: () => (bLeadsAt = clock.now()), onStoppedLeading: () => undefined }, stop.signal);
    await advance(clock, 5000);
    crashed.abort();
    const diedAt = clock.now();
    await advance(clock, 30_000);
    expect(bLeadsAt).toBeDefined();
    const took = (bLeadsAt ?? 0) - diedAt;
    expect(took).toBeGreaterThanOrEqual(15_000 - 2000);
    expect(took).toBeLessThanOrEqual(15_000 + 2 * 2400);
    expect(store.lease()?.['spec']).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    stop.abort();
    await flush();
  });

  it('stops leading when it cannot renew within the renew deadline', async () => {
    const clock = new FakeClock(1_000_000);
    const store = leaseStore();
    const a = new LeaderElector(store.api, config('a'), { clock, log: silentLogger });
    let stoppedAt: number | undefined;
    void a.run({ onStartedLeading: () => undefined, onStoppedLeading: () => (stoppedAt = clock.now()) }, new AbortController().signal);
    await flush();
    expect(a.leading).toBe(true);
    store.down.value = true;
    const outage = clock.now();
    await advance(clock, 20_000);
    expect(stoppedAt).toBeDefined();
    expect((stoppedAt ?? 0) - outage).toBeGreaterThanOrEqual(10_000);
    expect((stoppedAt ?? 0) - outage).toBeLessThanOrEqual(12_100);
    expect(a.leading).toBe(false);
  });

  it('stops leading at the renew deadline even when the renew request never answers', async () => {
    const clock = new FakeClock(1_000_000);
    const store = leaseStore();
    const a = new LeaderElector(store.api, config('a'), { clock, log: silentLogger });
    let stoppedAt: number | undefined;
    void a.run({ onStartedLeading: () => undefined, onStoppedLeading: () => (stoppedAt = clock.now()) }, new AbortController().signal);
    await flush();
    expect(a.leading).toBe(true);
    store.hang.value = true; // a partition: the request is sent and nothing ever comes back
    const outage = clock.now();
    await advance(clock, 20_000);
    expect(stoppedAt).toBeDefined();
    expect((stoppedAt ?? 0) - outage).toBeLessThanOrEqual(10_000);
    expect(a.leading).toBe(false);
  });

  it('knows by its own clock that its lease may be gone, before the elector notices (a frozen process)', async () => {
    const clock = new FakeClock(1_000_000);
    const store = leaseStore();
    const a = new LeaderElector(store.api, config('a'), { clock, log: silentLogger });
    void a.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined }, new AbortController().signal);
    await flush();
    expect(a.holdsLease()).toBe(true);
    await advance(clock, 9000);
    expect(a.holdsLease()).toBe(true); // renewed every retry period
    // SIGSTOP for 20 s, then SIGCONT: time jumped, and no promise has run yet
    clock.advance(20_000);
    expect(a.leading).toBe(true);
    expect(a.holdsLease()).toBe(false);
  });

  it('releases the lease on a clean stop so the next candidate need not wait', async () => {
    const clock = new FakeClock(1_000_000);
    const store = leaseStore();
    const stop = new AbortController();
    const a = new LeaderElector(store.api, config('a'), { clock, log: silentLogger });
    const done = a.run({ onStartedLeading: () => undefined, onStoppedLeading: () => undefined }, stop.signal);
    await flush();
    stop.abort();
    await done;
    expect(store.lease()?.['spec']).toMatchObject({ holderIdentity: '' });
  });

  it('writes lease times as RFC 3339 with microseconds and rejects inconsistent timings', () => {
    expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05.678000Z');
    expect(leaderElectionProblems({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 })).toEqual([]);
    expect(leaderElectionProblems({ leaseDurationMs: 5000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 })).toHaveLength(1);
  });
});
