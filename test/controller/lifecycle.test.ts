/** Deletion, API faults and leader election, each against its own API server double. */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Controller } from '../../controller/controller.js';
import { kubeApi } from '../../controller/kube.js';
import { startApiServer, type ApiServerDouble } from '../support/apiserver/index.js';
import {
  CRD,
  envOf,
  eventually,
  getDeployment,
  getTrigger,
  kafkaTrigger,
  makeController,
  sleepMs,
  startEnv,
  TRIGGERS,
  type Env,
} from './harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function env(setup: Parameters<typeof startEnv>[0] = {}): Promise<Env> {
  const e = await startEnv(setup);
  cleanups.push(() => e.close());
  return e;
}

async function changeTopic(e: Env, name: string, topic: string): Promise<void> {
  for (;;) {
    const live = getTrigger(e.server, e.ns, name);
    try {
      await e.api.replace(TRIGGERS, e.ns, name, {
        ...(live as never as Record<string, unknown>),
        metadata: live?.metadata,
        spec: { ...live?.spec, kafka: { brokers: ['kafka.kafka:9092'], topic } },
      } as never);
      return;
    } catch (err) {
      // the double injects 500s on purpose in some tests
      if ((err as { code?: number }).code !== 500 && (err as { code?: number }).code !== 409) throw err;
    }
  }
}

const topicOf = (e: Env, name: string): string | undefined => envOf(getDeployment(e.server, e.ns, `${name}-kafka`))['KAFKA_TOPIC'];

describe('controller lifecycle', () => {
  it('cleans up on delete: the same-namespace Deployment by garbage collection', async () => {
    const e = await env();
    await e.api.create(TRIGGERS, e.ns, kafkaTrigger(e.ns, 'orders'));
    await eventually(() => getDeployment(e.server, e.ns, 'orders-kafka'), 'the Deployment');
    expect(getTrigger(e.server, e.ns, 'orders')?.metadata.finalizers ?? []).toEqual([]);
    await e.api.delete(TRIGGERS, e.ns, 'orders');
    await eventually(() => getDeployment(e.server, e.ns, 'orders-kafka') === undefined, 'the Deployment to be collected');
  });

  it('cleans up on delete: a Deployment in another namespace through the kurier.dev/cleanup finalizer', async () => {
    const other = `o-${randomBytes(3).toString('hex')}`;
    const e = await env({ allowCrossNamespace: true, extraNamespaces: [other] });
    await e.api.create(TRIGGERS, e.ns, kafkaTrigger(e.ns, 'orders', 'orders', { deployment: { metadata: { namespace: other } } }));
    const name = await eventually(() => e.server.store.list('apps/v1', 'Deployment', other)[0] as { metadata: { name: string; ownerReferences?: unknown } } | undefined, 'the Deployment elsewhere');
    expect(name.metadata.ownerReferences).toBeUndefined();
    expect(getTrigger(e.server, e.ns, 'orders')?.metadata.finalizers).toContain('kurier.dev/cleanup');
    await eventually(() => getTrigger(e.server, e.ns, 'orders')?.status?.deployment?.namespace === other, 'status naming the other namespace');
    await e.api.delete(TRIGGERS, e.ns, 'orders');
    await eventually(() => e.server.store.list('apps/v1', 'Deployment', other).length === 0, 'the Deployment elsewhere to be deleted');
    await eventually(() => getTrigger(e.server, e.ns, 'orders') === undefined, 'the trigger to go once the finalizer is removed');
  });

  it('moves a Deployment back into the trigger namespace, deleting the old one and the finalizer', async () => {
    const other = `o-${randomBytes(3).toString('hex')}`;
    const e = await env({ allowCrossNamespace: true, extraNamespaces: [other] });
    await e.api.create(TRIGGERS, e.ns, kafkaTrigger(e.ns, 'orders', 'orders', { deployment: { metadata: { namespace: other } } }));
    await eventually(() => e.server.store.list('apps/v1', 'Deployment', other).length === 1, 'the Deployment elsewhere');
    await eventually(() => getTrigger(e.server, e.ns, 'orders')?.status?.deployment?.namespace === other, 'status naming the other namespace');
    // as kubectl edit does: read, change, write; again if the controller's status write came first (409)
    await eventually(async () => {
      const live = getTrigger(e.server, e.ns, 'orders');
      return e.api.replace(TRIGGERS, e.ns, 'orders', { ...(live as never as Record<string, unknown>), metadata: live?.metadata, spec: { ...live?.spec, deployment: {} } } as never);
    }, 'the trigger edited');
    await eventually(() => getDeployment(e.server, e.ns, 'orders-kafka'), 'the Deployment in the trigger namespace');
    await eventually(() => e.server.store.list('apps/v1', 'Deployment', other).length === 0, 'the old Deployment to be deleted');
    await eventually(() => (getTrigger(e.server, e.ns, 'orders')?.metadata.finalizers ?? []).length === 0, 'the finalizer to be removed');
  });

  it('refuses to move a Deployment to another namespace without --allow-cross-namespace', async () => {
    const other = `o-${randomBytes(3).toString('hex')}`;
    const e = await env({ extraNamespaces: [other] });
    await e.api.create(TRIGGERS, e.ns, kafkaTrigger(e.ns, 'orders', 'orders', { deployment: { metadata: { namespace: other } } }));
    const ready = await eventually(() => getTrigger(e.server, e.ns, 'orders')?.status?.conditions?.find((c) => c.type === 'Ready'), 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'RenderRefused' });
    expect(ready.message).toContain('spec.deployment.metadata.namespace');
    expect(e.server.store.list('apps/v1', 'Deployment', other)).toEqual([]);
    expect(getTrigger(e.server, e.ns, 'orders')?.metadata.finalizers ?? []).toEqual([]);
  });

  it('survives a dropped watch without losing an update', async () => {
    const e = await env();
    await e.api.create(TRIGGERS, e.ns, kafkaTrigger(e.ns, 'orders', 'v1'));
    await eventually(() => topicOf(e, 'orders') === 'v1', 'v1');
    e.server.faults.closeWatches();
    await changeTopic(e, 'orders', 'v2');
    await eventually(() => topicOf(e, 'orders') === 'v2', 'v2 after the dropped watch');
    e.server.faults.closeWatches();
    await sleepMs(50);
    await changeTopic(e, 'orders', 'v3');
    await eventually(() => topicOf(e, 'orders') === 'v3', 'v3 after a second drop');
  });

  it('survives a 410 Gone (expired resourceVersions) by relisting, without losing an update', async () => {
    const e = await env();
    await e.api.create(TRIGGERS, e.ns, kafkaTrigger(e.ns, 'orders', 'v1'));
    await eventually(() => topicOf(e, 'orders') === 'v1', 'v1');
    const listsBefore = e.server.requests.filter((r) => r.verb === 'list' && r.resource === 'kafkatriggers').length;
    e.server.faults.expireResourceVersions();
    e.server.faults.closeWatches();
    await changeTopic(e, 'orders', 'v2');
    await eventually(() => topicOf(e, 'orders') === 'v2', 'v2 after the 410');
    await eventually(
      () => e.server.requests.filter((r) => r.verb === 'list' && r.resource === 'kafkatriggers').length > listsBefore,
      'a relist',
    );
  });

  it('survives a burst of 500s on watches, lists and writes without losing an update', async () => {
    const e = await env();
    await e.api.create(TRIGGERS, e.ns, kafkaTrigger(e.ns, 'orders', 'v1'));
    await eventually(() => topicOf(e, 'orders') === 'v1', 'v1');
    e.server.faults.failNext(12, 500, (r) => !r.path.includes('/kafkatriggers/orders') || r.method === 'GET');
    e.server.faults.closeWatches();
    await changeTopic(e, 'orders', 'v2');
    await eventually(() => topicOf(e, 'orders') === 'v2', 'v2 after the 500s', 15_000);
    await eventually(() => getTrigger(e.server, e.ns, 'orders')?.status?.observedGeneration === 2, 'status caught up');
    await eventually(() => e.server.requests.filter((r) => r.status === 500).length === 12, 'all 12 injected 500s to be served');
  });

  it('becomes ready after the API server refused its first lists with 500s and 429s', async () => {
    const server: ApiServerDouble = await startApiServer({ crds: [CRD] });
    cleanups.push(() => server.close());
    const ns = `t-${randomBytes(3).toString('hex')}`;
    server.ensureNamespace(ns);
    await kubeApi(server.kubeConfig()).create(TRIGGERS, ns, kafkaTrigger(ns, 'early'));
    server.faults.failNext(6, 500, (r) => r.method === 'GET');
    server.faults.failNext(6, 429, (r) => r.method === 'GET');
    const c = await makeController(server);
    cleanups.push(() => c.stop());
    await c.start();
    expect(c.synced).toBe(false);
    await eventually(() => c.synced, 'caches synced', 15_000);
    await eventually(() => getDeployment(server, ns, 'early-kafka'), 'the Deployment');
    expect(server.requests.filter((r) => r.status === 500 || r.status === 429)).toHaveLength(12);
  });

  it('leader election hands over: one of two instances reconciles, the other takes over when it dies', async () => {
    const server: ApiServerDouble = await startApiServer({ crds: [CRD] });
    cleanups.push(() => server.close());
    const ns = `t-${randomBytes(3).toString('hex')}`;
    server.ensureNamespace(ns);
    const api = kubeApi(server.kubeConfig());
    const election = (identity: string) => ({
      namespace: 'default',
      name: 'kurier-controller',
      identity,
      leaseDurationMs: 1500,
      renewDeadlineMs: 1000,
      retryPeriodMs: 200,
    });
    const a = await makeController(server, { leaderElection: election('a'), identity: 'a' });
    const b = await makeController(server, { leaderElection: election('b'), identity: 'b' });
    const running: Controller[] = [a, b];
    cleanups.push(async () => {
      for (const c of running) await c.stop();
    });
    await a.start();
    await eventually(() => a.reconciling, 'a to lead');
    await b.start();
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'first'));
    await eventually(() => getDeployment(server, ns, 'first-kafka'), 'the first Deployment');
    await sleepMs(600);
    expect([a.reconciling, b.reconciling]).toEqual([true, false]);
    const total = async (c: Controller): Promise<number> => (await c.metrics.reconciles.get()).values.reduce((s, v) => s + v.value, 0);
    expect(await total(b)).toBe(0);

    const died = Date.now();
    await a.crash();
    running.splice(running.indexOf(a), 1);
    await eventually(() => b.reconciling, 'b to take over', 5000);
    const tookMs = Date.now() - died;
    expect(tookMs).toBeLessThan(1500 + 1000);
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'second'));
    await eventually(() => getDeployment(server, ns, 'second-kafka'), 'the second Deployment, made by b');
    const lease = server.store.get('coordination.k8s.io/v1', 'Lease', 'default', 'kurier-controller') as { spec: { holderIdentity: string; leaseTransitions: number } };
    expect(lease.spec.holderIdentity).toBe('b');
    expect(lease.spec.leaseTransitions).toBe(1);
  });

  it('a standby replica (not leading) stops promptly with keys queued', async () => {
    const server: ApiServerDouble = await startApiServer({ crds: [CRD] });
    cleanups.push(() => server.close());
    const ns = `t-${randomBytes(3).toString('hex')}`;
    server.ensureNamespace(ns);
    const api = kubeApi(server.kubeConfig());
    const lease = { namespace: 'default', name: 'kurier-controller', leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };
    const leader = await makeController(server, { leaderElection: { ...lease, identity: 'leader' } });
    cleanups.push(() => leader.stop());
    await leader.start();
    await eventually(() => leader.reconciling, 'leading');
    const standby = await makeController(server, { leaderElection: { ...lease, identity: 'standby' } });
    await standby.start();
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'queued'));
    await eventually(() => standby.queue.length > 0, 'a key queued on the standby');
    const started = Date.now();
    await standby.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await standby.done).toBe('stopped');
  });

  it('stops reconciling when the lease is taken away', async () => {
    const server: ApiServerDouble = await startApiServer({ crds: [CRD] });
    cleanups.push(() => server.close());
    const api = kubeApi(server.kubeConfig());
    const c = await makeController(server, {
      leaderElection: { namespace: 'default', name: 'kurier-controller', identity: 'a', leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 },
    });
    cleanups.push(() => c.stop());
    await c.start();
    await eventually(() => c.reconciling, 'leading');
    const lease = await api.get({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases' }, 'default', 'kurier-controller');
    const spec = lease?.['spec'] as Record<string, unknown>;
    await api.replace({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases' }, 'default', 'kurier-controller', {
      ...(lease as never as Record<string, unknown>),
      metadata: lease?.metadata,
      spec: { ...spec, holderIdentity: 'usurper', renewTime: new Date().toISOString().replace('Z', '000Z') },
    } as never);
    expect(await c.done).toBe('lost-leadership');
    expect(c.reconciling).toBe(false);
  });
});
