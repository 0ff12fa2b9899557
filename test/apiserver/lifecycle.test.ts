/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread, @typescript-eslint/no-explicit-any --
   client-node models are classes; tests write them as plain object literals and read responses untyped */
import { fileURLToPath } from 'node:url';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1OwnerReference } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deployment, eventually, failure, raw, useApiServer } from './helpers.js';

const CRD_FILE = fileURLToPath(new URL('./fixtures/widgets-crd.yaml', import.meta.url));
const G = 'example.test';

const api = useApiServer({ crds: [CRD_FILE] });

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function owner(ns: string, name = 'owner'): Promise<{ uid: string; ref: V1OwnerReference }> {
  const w = (await api.custom.createNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', body: { apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name }, spec: { size: 1 } } }));
  return { uid: w.metadata.uid, ref: { apiVersion: `${G}/v1`, kind: 'Widget', name, uid: w.metadata.uid, controller: true, blockOwnerDeletion: true } };
}

const exists = (ns: string, name: string) => api.server.store.get('apps/v1', 'Deployment', ns, name) !== undefined;

describe('finalizers', () => {
  it('delete sets deletionTimestamp and grace 0 and keeps the object until the last finalizer goes', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c', finalizers: ['kurier.dev/a', 'kurier.dev/b'] } } });
    const del = await raw(api.server.url, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/c`);
    expect(del.status).toBe(200);
    expect(del.json.kind).toBe('ConfigMap');
    const c = await api.core.readNamespacedConfigMap({ name: 'c', namespace: ns });
    expect(c.metadata?.deletionTimestamp).toBeTruthy();
    expect(c.metadata?.deletionGracePeriodSeconds).toBe(0);
    await api.core.patchNamespacedConfigMap({ name: 'c', namespace: ns, body: { metadata: { finalizers: ['kurier.dev/b'] } } }, merge);
    expect((await api.core.readNamespacedConfigMap({ name: 'c', namespace: ns })).metadata?.finalizers).toEqual(['kurier.dev/b']);
    await api.core.patchNamespacedConfigMap({ name: 'c', namespace: ns, body: { metadata: { finalizers: null } } }, merge);
    await failure(api.core.readNamespacedConfigMap({ name: 'c', namespace: ns }), 404);
  });

  it('refuses new finalizers once deletion started', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c', finalizers: ['kurier.dev/a'] } } });
    await api.core.deleteNamespacedConfigMap({ name: 'c', namespace: ns });
    const st = await failure(api.core.patchNamespacedConfigMap({ name: 'c', namespace: ns, body: { metadata: { finalizers: ['kurier.dev/a', 'kurier.dev/new'] } } }, merge), 422);
    expect(st.details?.causes?.[0]?.field).toBe('metadata.finalizers');
  });

  it('bumps a custom resource generation when its deletion starts (so controllers notice)', async () => {
    const ns = await api.namespace();
    await api.custom.createNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', body: { apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name: 'w', finalizers: ['kurier.dev/cleanup'] }, spec: { size: 1 } } });
    await api.custom.deleteNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'w' });
    const w = (await api.custom.getNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'w' }));
    expect(w.metadata.generation).toBe(2);
    expect(w.metadata.deletionTimestamp).toBeTruthy();
  });

  it('checks delete preconditions (uid, resourceVersion)', async () => {
    const ns = await api.namespace();
    const c = await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' } } });
    await failure(api.core.deleteNamespacedConfigMap({ name: 'c', namespace: ns, body: { preconditions: { uid: 'not-it' } } }), 409);
    await failure(api.core.deleteNamespacedConfigMap({ name: 'c', namespace: ns, body: { preconditions: { resourceVersion: '1' } } }), 409);
    await api.core.deleteNamespacedConfigMap({ name: 'c', namespace: ns, body: { preconditions: { uid: c.metadata!.uid! } } });
    await failure(api.core.readNamespacedConfigMap({ name: 'c', namespace: ns }), 404);
  });
});

describe('garbage collection by owner references', () => {
  it('deletes dependents in the background once their owner is gone (matched by uid)', async () => {
    const ns = await api.namespace();
    const o = await owner(ns);
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('dep', { metadata: { name: 'dep', labels: { app: 'dep' }, ownerReferences: [o.ref] } }) });
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('free') });
    await api.custom.deleteNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'owner' });
    await eventually(() => {
      expect(exists(ns, 'dep')).toBe(false);
    });
    expect(exists(ns, 'free')).toBe(true);
  });

  it('collects a dependent whose owner was replaced by a new object of the same name (owners match by uid)', async () => {
    const ns = await api.namespace();
    const o = await owner(ns);
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('dep', { metadata: { name: 'dep', labels: { app: 'dep' }, ownerReferences: [o.ref] } }) });
    await api.custom.deleteNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'owner' });
    await owner(ns);
    await eventually(() => {
      expect(exists(ns, 'dep')).toBe(false);
    });
  });

  it('collects a dependent created with an owner uid that does not exist', async () => {
    const ns = await api.namespace();
    const ref = { apiVersion: `${G}/v1`, kind: 'Widget', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' };
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('dep', { metadata: { name: 'dep', labels: { app: 'dep' }, ownerReferences: [ref] } }) });
    await eventually(() => {
      expect(exists(ns, 'dep')).toBe(false);
    });
  });

  it('drops only the dangling reference when another owner still exists', async () => {
    const ns = await api.namespace();
    const a = await owner(ns, 'a');
    const b = await owner(ns, 'b');
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('dep', { metadata: { name: 'dep', labels: { app: 'dep' }, ownerReferences: [a.ref, { ...b.ref, controller: false }] } }) });
    await api.custom.deleteNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'a' });
    await eventually(async () => {
      const d = await api.apps.readNamespacedDeployment({ name: 'dep', namespace: ns });
      expect(d.metadata?.ownerReferences?.map((r) => r.name)).toEqual(['b']);
    });
  });

  it('Foreground: the owner waits (foregroundDeletion finalizer) until its dependents are gone', async () => {
    const ns = await api.namespace();
    const o = await owner(ns);
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('dep', { metadata: { name: 'dep', labels: { app: 'dep' }, ownerReferences: [o.ref], finalizers: ['kurier.dev/hold'] } }) });
    await api.custom.deleteNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'owner', propagationPolicy: 'Foreground' });
    const w = api.server.store.get(`${G}/v1`, 'Widget', ns, 'owner') as any;
    expect(w.metadata.finalizers).toContain('foregroundDeletion');
    await eventually(async () => {
      const d = await api.apps.readNamespacedDeployment({ name: 'dep', namespace: ns });
      expect(d.metadata?.deletionTimestamp).toBeTruthy();
    });
    expect(api.server.store.get(`${G}/v1`, 'Widget', ns, 'owner')).toBeTruthy();
    await api.apps.patchNamespacedDeployment({ name: 'dep', namespace: ns, body: { metadata: { finalizers: null } } }, merge);
    await eventually(() => {
      expect(api.server.store.get(`${G}/v1`, 'Widget', ns, 'owner')).toBeUndefined();
    });
  });

  it('Orphan: removes the owner and leaves dependents without the reference', async () => {
    const ns = await api.namespace();
    const o = await owner(ns);
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('dep', { metadata: { name: 'dep', labels: { app: 'dep' }, ownerReferences: [o.ref] } }) });
    await api.custom.deleteNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'owner', propagationPolicy: 'Orphan' });
    await eventually(() => {
      expect(api.server.store.get(`${G}/v1`, 'Widget', ns, 'owner')).toBeUndefined();
    });
    const d = await api.apps.readNamespacedDeployment({ name: 'dep', namespace: ns });
    expect(d.metadata?.ownerReferences).toBeUndefined();
  });

  it('does not treat an owner in another namespace as present', async () => {
    const ns = await api.namespace();
    const other = await api.namespace();
    const o = await owner(other);
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('dep', { metadata: { name: 'dep', labels: { app: 'dep' }, ownerReferences: [o.ref] } }) });
    await eventually(() => {
      expect(exists(ns, 'dep')).toBe(false);
    });
  });
});

describe('namespaces', () => {
  it('deleting a namespace marks it Terminating, removes its contents, then itself; new content is refused meanwhile', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'held', finalizers: ['kurier.dev/hold'] } } });
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web') });
    await api.core.deleteNamespace({ name: ns });
    expect((await api.core.readNamespace({ name: ns })).status?.phase).toBe('Terminating');
    await eventually(() => {
      expect(exists(ns, 'web')).toBe(false);
    });
    const st = await failure(api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'late' } } }), 403);
    expect(st.message).toContain('because it is being terminated');
    await api.core.patchNamespacedConfigMap({ name: 'held', namespace: ns, body: { metadata: { finalizers: null } } }, merge);
    await eventually(async () => {
      await failure(api.core.readNamespace({ name: ns }), 404);
    });
  });

  it('deletecollection removes what the selector matches', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a', labels: { x: '1' } } } });
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'b', labels: { x: '2' } } } });
    await api.core.deleteCollectionNamespacedConfigMap({ namespace: ns, labelSelector: 'x=1' });
    expect((await api.core.listNamespacedConfigMap({ namespace: ns })).items.map((i) => i.metadata?.name)).toEqual(['b']);
  });
});
