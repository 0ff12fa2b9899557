/**
 * Requests the API server refuses (403 from RBAC, a namespace outside the controller's scope):
 * reported on the trigger and as Events, and never wedging a trigger's deletion.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestRecord } from '../support/apiserver/index.js';
import { eventsIn, eventually, getDeployment, getTrigger, kafkaTrigger, makeController, readyOf, sleepMs, startEnv, TRIGGERS, type Env } from './harness.js';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const inNamespace =
  (namespace: string) =>
  (r: RequestRecord): boolean =>
    r.namespace === namespace && r.resource === 'deployments';

const elsewhere = (name = 'notify'): string => `${name}-${randomBytes(3).toString('hex')}`;
const movedTo = (namespace: string): Record<string, unknown> => ({ deployment: { metadata: { namespace } } });

describe('refused requests', () => {
  it('puts a 403 on the target namespace into the status (verb, resource, namespace) and an Event, and recovers once allowed', async () => {
    const notify = elsewhere();
    env = await startEnv({ allowCrossNamespace: true, extraNamespaces: [notify] });
    const { server, api, ns } = env;
    const allow = server.faults.forbid(inNamespace(notify));
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders', 'orders', movedTo(notify)));
    const ready = await eventually(() => {
      const r = readyOf(getTrigger(server, ns, 'orders'));
      return r?.reason === 'Forbidden' ? r : undefined;
    }, 'a Forbidden status');
    expect(ready.status).toBe('False');
    // the first request there is the apply (the caches tell that the name is free)
    expect(ready.message).toContain(`cannot patch deployments.apps "${ns}-orders-kafka" in namespace "${notify}"`);
    expect(ready.message).toContain('cannot patch resource "deployments"');
    const event = await eventually(() => eventsIn(server, ns).find((e) => e.reason === 'Forbidden'), 'a Forbidden Event');
    expect(event).toMatchObject({ type: 'Warning', involvedObject: { name: 'orders' } });
    allow();
    await eventually(() => server.store.list('apps/v1', 'Deployment', notify).length === 1, 'the Deployment once allowed', 15_000);
    await eventually(() => readyOf(getTrigger(server, ns, 'orders'))?.reason === 'DeploymentNotReady', 'the status recovered');
  });

  it('deletes at once a trigger whose Deployment was never created because it was refused', async () => {
    const notify = elsewhere();
    env = await startEnv({ allowCrossNamespace: true, extraNamespaces: [notify] });
    const { server, api, ns } = env;
    server.faults.forbid(inNamespace(notify));
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders', 'orders', movedTo(notify)));
    await eventually(() => readyOf(getTrigger(server, ns, 'orders'))?.reason === 'Forbidden', 'a Forbidden status');
    expect(getTrigger(server, ns, 'orders')?.metadata.finalizers).toContain('kurier.dev/cleanup');
    await api.delete(TRIGGERS, ns, 'orders');
    await eventually(() => getTrigger(server, ns, 'orders') === undefined, 'the trigger gone', 5_000);
  });

  it('reports a refused cleanup on the deleted trigger and finishes it once allowed', async () => {
    const notify = elsewhere();
    env = await startEnv({ allowCrossNamespace: true, extraNamespaces: [notify] });
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders', 'orders', movedTo(notify)));
    await eventually(() => getTrigger(server, ns, 'orders')?.status?.deployment?.namespace === notify, 'the Deployment elsewhere');
    const allow = server.faults.forbid((r) => inNamespace(notify)(r) && r.verb === 'delete');
    await api.delete(TRIGGERS, ns, 'orders');
    const ready = await eventually(() => {
      const r = readyOf(getTrigger(server, ns, 'orders'));
      return r?.reason === 'CleanupRefused' ? r : undefined;
    }, 'a CleanupRefused status');
    expect(ready.message).toContain(`cannot delete deployments.apps "${ns}-orders-kafka" in namespace "${notify}"`);
    expect(ready.message).toContain('remove the finalizer kurier.dev/cleanup');
    expect(eventsIn(server, ns).find((e) => e.reason === 'CleanupRefused')).toMatchObject({ type: 'Warning' });
    expect(getDeployment(server, notify, `${ns}-orders-kafka`)).toBeDefined();
    allow();
    await eventually(() => getTrigger(server, ns, 'orders') === undefined, 'the trigger gone once allowed', 15_000);
    expect(getDeployment(server, notify, `${ns}-orders-kafka`)).toBeUndefined();
  });

  it('refuses up front a Deployment namespace outside --namespaces, without a request there', async () => {
    const outside = elsewhere('outside');
    env = await startEnv({ extraNamespaces: [outside] });
    await env.controller.stop();
    env.controller = await makeController(env.server, { namespaces: [env.ns], allowCrossNamespace: true });
    await env.controller.start();
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders', 'orders', movedTo(outside)));
    const ready = await eventually(() => {
      const r = readyOf(getTrigger(server, ns, 'orders'));
      return r?.reason === 'NamespaceNotWatched' ? r : undefined;
    }, 'a NamespaceNotWatched status');
    expect(ready.message).toContain(`namespace "${outside}"`);
    expect(ready.message).toContain('--namespaces');
    await sleepMs(300);
    expect(server.requests.filter((r) => r.namespace === outside)).toEqual([]);
    expect(getTrigger(server, ns, 'orders')?.metadata.finalizers ?? []).toEqual([]);
  });
});
