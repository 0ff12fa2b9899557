/** Deleted triggers: no create/garbage-collection loop from a stale cache, and nothing remembered afterwards. */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, getDeployment, getTrigger, kafkaTrigger, sleepMs, startEnv, TRIGGERS, type Env } from './harness.js';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('deleted triggers', () => {
  it('does not re-create the Deployment of a trigger deleted while its informer was behind (no create/GC loop)', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders'));
    await eventually(() => getTrigger(server, ns, 'orders')?.status?.deployment !== undefined, 'the trigger converged');
    // the trigger informer falls behind (its lists and watches fail) while the Deployment informer stays current
    server.faults.failNext(100_000, 500, (r) => r.method === 'GET' && r.path.endsWith('/kafkatriggers'));
    server.faults.closeWatches();
    await api.delete(TRIGGERS, ns, 'orders');
    await eventually(() => getDeployment(server, ns, 'orders-kafka') === undefined, 'the garbage collector deleting the Deployment');
    server.resetRequests();
    await sleepMs(1500);
    const creates = server.requests.filter((r) => r.resource === 'deployments' && ['create', 'patch'].includes(r.verb) && !r.query.includes('dryRun'));
    expect(creates.map((r) => `${r.verb} ${r.path} ${String(r.status)}`)).toEqual([]);
    expect(getDeployment(server, ns, 'orders-kafka')).toBeUndefined();
  });

  it('forgets everything it remembered about triggers once they are deleted', async () => {
    env = await startEnv();
    const { server, api, ns, controller } = env;
    const names = ['a', 'b', 'c', 'd', 'e'];
    for (const name of names) await api.create(TRIGGERS, ns, kafkaTrigger(ns, name, `topic-${name}`));
    for (const name of names) await eventually(() => getTrigger(server, ns, name)?.status?.deployment !== undefined, `${name} converged`);
    expect(controller.remembered).toBeGreaterThan(0);
    for (const name of names) await api.delete(TRIGGERS, ns, name);
    await eventually(() => server.store.list('apps/v1', 'Deployment', ns).length === 0, 'the Deployments collected');
    await eventually(() => controller.remembered === 0 && controller.queue.length === 0, 'nothing remembered', 5000);
  });
});
