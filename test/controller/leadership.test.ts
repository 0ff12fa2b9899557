/**
 * Leadership under faults, with the real client against the double: a leader whose lease requests
 * hang, a leader frozen while another took its lease, and what liveness says meanwhile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LEASES } from '../../controller/kube.js';
import type { LeaderElectionConfig } from '../../controller/leader-election.js';
import { microTime } from '../../controller/leader-election.js';
import { editLive, eventually, FreezableClock, recordingLogger, getDeployment, getTrigger, kafkaTrigger, makeController, startEnv, TEST_LEASE_NAMESPACE, TRIGGERS, writes, type Env } from './harness.js';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const election = (identity: string, timing: Partial<LeaderElectionConfig> = {}): LeaderElectionConfig => ({
  namespace: TEST_LEASE_NAMESPACE,
  name: 'kurier-controller',
  identity,
  leaseDurationMs: 3000,
  renewDeadlineMs: 2000,
  retryPeriodMs: 500,
  ...timing,
});

async function leaderEnv(clock: FreezableClock, timing: Partial<LeaderElectionConfig> = {}): Promise<Env> {
  const e = await startEnv();
  await e.controller.stop();
  e.controller = await makeController(e.server, { leaderElection: election('a', timing), clock });
  await e.controller.start();
  await eventually(() => e.controller.reconciling, 'a leading');
  return e;
}

describe('leadership', () => {
  it('stops leading within the renew deadline while its lease requests hang', async () => {
    const clock = new FreezableClock();
    env = await leaderEnv(clock);
    const lifted = env.server.faults.hang((r) => r.resource === 'leases');
    const started = Date.now();
    const reason = await Promise.race([env.controller.done, new Promise((resolve) => setTimeout(() => { resolve('still leading'); }, 8000))]);
    lifted();
    expect(reason).toBe('lost-leadership');
    // renew deadline 2 s after the last renew, which was at most a retry period (0.5 s) before the hang
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('writes nothing once frozen past its renew deadline while another replica took the lease', async () => {
    const clock = new FreezableClock();
    // a long retry period: the elector looks at the lease again only a second later, the workers at once
    env = await leaderEnv(clock, { leaseDurationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1500 });
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders'));
    await eventually(() => getTrigger(server, ns, 'orders')?.status?.deployment !== undefined, 'the trigger converged');

    // while "a" was frozen its lease expired and "b" took it
    const lease = await api.get(LEASES, TEST_LEASE_NAMESPACE, 'kurier-controller');
    const spec = lease?.['spec'] as Record<string, unknown>;
    await api.replace(LEASES, TEST_LEASE_NAMESPACE, 'kurier-controller', { ...lease!, spec: { ...spec, holderIdentity: 'b', renewTime: microTime(Date.now()), acquireTime: microTime(Date.now()) } });
    clock.skip(8000); // SIGCONT: 8 s passed by a's own clock
    server.resetRequests();
    const live = env.controller.live;
    // work arrives at once: the trigger changed during the partition
    await editLive(() => getTrigger(server, ns, 'orders'), (trigger) => api.replace(TRIGGERS, ns, 'orders', { ...(trigger as never as Record<string, unknown>), metadata: trigger.metadata, spec: { ...trigger.spec, kafka: { brokers: ['kafka.kafka:9092'], topic: 'changed' } } }), 'the trigger');
    const reason = await Promise.race([env.controller.done, new Promise((resolve) => setTimeout(() => { resolve('still leading'); }, 10_000))]);
    expect(reason).toBe('lost-leadership');
    const byA = writes(server.requests).filter((r) => !['leases', 'kafkatriggers'].includes(r.resource) || r.subresource !== undefined);
    expect(byA.map((r) => `${r.verb} ${r.resource}${r.subresource === undefined ? '' : `/${r.subresource}`}`)).toEqual([]);
    expect(getDeployment(server, ns, 'orders-kafka')).toBeDefined();
    // liveness said so at once, before the elector looked
    expect(live).toBe(false);
  });

  it('logs an API server that stops answering, and when it answers again', async () => {
    env = await startEnv();
    await env.controller.stop();
    const log = recordingLogger();
    env.controller = await makeController(env.server, { apiProbeIntervalMs: 200, log });
    await env.controller.start();
    const lift = env.server.faults.hang(() => true); // a black hole: nothing answers, nothing errors
    const down = await eventually(() => log.lines.find((l) => l.message === 'API server unreachable'), 'the outage logged', 10_000);
    expect(down.level).toBe('error');
    expect(env.controller.apiReachable).toBe(false);
    lift();
    const up = await eventually(() => log.lines.find((l) => l.message === 'API server reachable again'), 'the recovery logged', 10_000);
    expect((up.fields as { outageMs: number }).outageMs).toBeGreaterThan(0);
    expect(env.controller.apiReachable).toBe(true);
  });
});
