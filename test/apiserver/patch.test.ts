/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-explicit-any --
   client-node models are classes; tests write them as plain object literals and read responses untyped */
import { fileURLToPath } from 'node:url';
import { KubernetesObjectApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { deployment, failure, raw, useApiServer } from './helpers.js';

const CRD_FILE = fileURLToPath(new URL('./fixtures/widgets-crd.yaml', import.meta.url));
const G = 'example.test';

const api = useApiServer({ crds: [CRD_FILE] });

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** Server-side apply over raw HTTP, as kubectl apply --server-side sends it. */
function apply(path: string, obj: object, manager: string, force = false) {
  return raw(api.server.url, 'PATCH', `${path}?fieldManager=${manager}${force ? '&force=true' : ''}`, stringify(obj), 'application/apply-patch+yaml');
}

describe('merge patch and JSON patch', () => {
  it('merge patch sets and removes (null) fields', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' }, data: { a: '1', b: '2' } } });
    const p = await api.core.patchNamespacedConfigMap({ name: 'c', namespace: ns, body: { data: { a: null, c: '3' } } }, merge);
    expect(p.data).toEqual({ b: '2', c: '3' });
  });

  it('JSON patch applies add/replace/remove and answers 422 when a test op fails', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' }, data: { a: '1' } } });
    const p = await api.core.patchNamespacedConfigMap(
      {
        name: 'c',
        namespace: ns,
        body: [
          { op: 'test', path: '/data/a', value: '1' },
          { op: 'add', path: '/data/b', value: '2' },
          { op: 'replace', path: '/data/a', value: '9' },
          { op: 'add', path: '/metadata/labels', value: { x: 'y' } },
        ],
      },
      jsonPatch,
    );
    expect(p.data).toEqual({ a: '9', b: '2' });
    expect(p.metadata?.labels).toEqual({ x: 'y' });
    const st = await failure(api.core.patchNamespacedConfigMap({ name: 'c', namespace: ns, body: [{ op: 'test', path: '/data/a', value: 'nope' }] }, jsonPatch), 422);
    expect(st.message).toContain('test failed');
  });

  it('a patch that carries a stale resourceVersion is refused with 409', async () => {
    const ns = await api.namespace();
    const c = await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' }, data: { a: '1' } } });
    await api.core.patchNamespacedConfigMap({ name: 'c', namespace: ns, body: { data: { a: '2' } } }, merge);
    await failure(api.core.patchNamespacedConfigMap({ name: 'c', namespace: ns, body: { metadata: { resourceVersion: c.metadata?.resourceVersion }, data: { a: '3' } } }, merge), 409);
  });

  it('patching a missing object answers 404', async () => {
    const ns = await api.namespace();
    await failure(api.core.patchNamespacedConfigMap({ name: 'none', namespace: ns, body: { data: {} } }, merge), 404);
  });

  it('merge patch of a custom resource is validated against its schema', async () => {
    const ns = await api.namespace();
    await api.custom.createNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', body: { apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 } } });
    const st = await failure(api.custom.patchNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'w', body: { spec: { size: 0 } } }, merge), 422);
    expect(st.details?.causes?.[0]?.field).toBe('spec.size');
  });
});

describe('strategic merge patch (built-in kinds)', () => {
  it('merges containers and env by name and keeps the rest', async () => {
    const ns = await api.namespace();
    const d = deployment('web');
    d.spec!.template.spec!.containers = [
      { name: 'main', image: 'app:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'side', image: 'side:1' },
    ];
    await api.apps.createNamespacedDeployment({ namespace: ns, body: d });
    const p = await api.apps.patchNamespacedDeployment(
      { name: 'web', namespace: ns, body: { spec: { template: { spec: { containers: [{ name: 'main', image: 'app:2', env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }] }] } } } } },
      strategic,
    );
    const cs = p.spec?.template.spec?.containers ?? [];
    expect(cs.map((c) => `${c.name}=${c.image}`)).toEqual(['main=app:2', 'side=side:1']);
    expect(cs[0]?.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }]);
  });

  it('deletes a list item with $patch: delete', async () => {
    const ns = await api.namespace();
    const d = deployment('web');
    d.spec!.template.spec!.containers = [{ name: 'main', image: 'app:1' }, { name: 'side', image: 'side:1' }];
    await api.apps.createNamespacedDeployment({ namespace: ns, body: d });
    const p = await api.apps.patchNamespacedDeployment({ name: 'web', namespace: ns, body: { spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } } } }, strategic);
    expect(p.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['main']);
  });

  it('is what KubernetesObjectApi.patch sends by default', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c', labels: { a: '1' } }, data: { x: '1' } } });
    const objs = KubernetesObjectApi.makeApiClient(api.server.kubeConfig());
    api.server.resetRequests();
    const p = await objs.patch<any>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: ns, labels: { b: '2' } } } as any);
    expect(p.metadata.labels).toEqual({ a: '1', b: '2' });
    expect(p.data).toEqual({ x: '1' });
    expect(api.server.requests.find((r) => r.verb === 'patch')?.contentType).toBe('application/strategic-merge-patch+json');
  });
});

describe('server-side apply', () => {
  it('creates on first apply, then removes the fields the same manager no longer applies', async () => {
    const ns = await api.namespace();
    const path = `/api/v1/namespaces/${ns}/configmaps/c`;
    const first = await apply(path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: '1', b: '2' } }, data: { x: '1', y: '2' } }, 'kurier-controller');
    expect(first.status).toBe(201);
    expect(first.json.metadata.managedFields[0]).toMatchObject({ manager: 'kurier-controller', operation: 'Apply', fieldsType: 'FieldsV1' });
    const second = await apply(path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: '1' } }, data: { x: '1' } }, 'kurier-controller');
    expect(second.status).toBe(200);
    expect(second.json.data).toEqual({ x: '1' });
    expect(second.json.metadata.labels).toEqual({ a: '1' });
  });

  it('keeps fields another manager set, and applying the same thing again changes nothing', async () => {
    const ns = await api.namespace();
    const path = `/api/v1/namespaces/${ns}/configmaps/c`;
    await apply(path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { mine: '1' } }, 'kurier-controller');
    await api.core.patchNamespacedConfigMap({ name: 'c', namespace: ns, body: { data: { theirs: '1' } }, fieldManager: 'someone-else' }, merge);
    const again = await apply(path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { mine: '1' } }, 'kurier-controller');
    expect(again.json.data).toEqual({ mine: '1', theirs: '1' });
    const third = await apply(path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { mine: '1' } }, 'kurier-controller');
    expect(third.json.metadata.resourceVersion).toBe(again.json.metadata.resourceVersion);
  });

  it('answers 409 with FieldManagerConflict causes when another manager owns a changed field; force takes it over', async () => {
    const ns = await api.namespace();
    const path = `/api/v1/namespaces/${ns}/configmaps/c`;
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' }, data: { k: 'theirs' } }, fieldManager: 'kubectl-edit' });
    const res = await apply(path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'mine' } }, 'kurier-controller');
    expect(res.status).toBe(409);
    expect(res.json.reason).toBe('Conflict');
    expect(res.json.details.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" using v1', field: '.data.k' }]);
    const forced = await apply(path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'mine' } }, 'kurier-controller', true);
    expect(forced.status).toBe(200);
    expect(forced.json.data.k).toBe('mine');
    const owners = forced.json.metadata.managedFields.map((m: any) => m.manager);
    expect(owners).toEqual(['kurier-controller']);
  });

  it('merges Deployment containers by name and removes a container the manager stopped applying', async () => {
    const ns = await api.namespace();
    const path = `/apis/apps/v1/namespaces/${ns}/deployments/web`;
    const d = deployment('web');
    d.spec!.template.spec!.containers = [{ name: 'main', image: 'app:1' }, { name: 'side', image: 'side:1' }];
    const created = await apply(path, d, 'kurier-controller');
    expect(created.status).toBe(201);
    expect(created.json.metadata.generation).toBe(1);
    // the applier owns what it sent, not the defaults (strategy, revisionHistoryLimit, …)
    const owned = JSON.stringify(created.json.metadata.managedFields[0].fieldsV1);
    expect(owned).toContain('"f:replicas"');
    expect(owned).not.toContain('f:revisionHistoryLimit');
    expect(created.json.spec.revisionHistoryLimit).toBe(10);
    d.spec!.template.spec!.containers = [{ name: 'main', image: 'app:2' }];
    const res = await apply(path, d, 'kurier-controller');
    expect(res.json.spec.template.spec.containers.map((c: any) => `${c.name}=${c.image}`)).toEqual(['main=app:2']);
    expect(res.json.metadata.generation).toBe(2);
  });

  it('follows x-kubernetes-list-type map for custom resources and ignores status on the main resource', async () => {
    const ns = await api.namespace();
    const path = `/apis/${G}/v1/namespaces/${ns}/widgets/w`;
    const w = (ports: object[]) => ({ apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1, ports }, status: { observedGeneration: 5 } });
    await apply(path, w([{ name: 'a', port: 1 }, { name: 'b', port: 2 }]), 'kurier-controller');
    await api.custom.patchNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'w', body: [{ op: 'add', path: '/spec/ports/-', value: { name: 'c', port: 3 } }], fieldManager: 'other' }, jsonPatch);
    const res = await apply(path, w([{ name: 'a', port: 10 }]), 'kurier-controller');
    expect(res.json.spec.ports).toEqual([{ name: 'a', port: 10 }, { name: 'c', port: 3 }]);
    expect(res.json.status).toBeUndefined();
  });

  it('applies to /status with its own managed fields entry (subresource: status), leaving spec alone', async () => {
    const ns = await api.namespace();
    const path = `/apis/${G}/v1/namespaces/${ns}/widgets/w`;
    await apply(path, { apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 } }, 'kurier-controller');
    const st = await apply(`${path}/status`, { apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name: 'w' }, spec: { size: 9 }, status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] } }, 'kurier-controller');
    expect(st.status).toBe(200);
    expect(st.json.spec.size).toBe(1);
    expect(st.json.status.conditions[0].status).toBe('True');
    const entry = st.json.metadata.managedFields.find((m: any) => m.subresource === 'status');
    expect(entry).toMatchObject({ manager: 'kurier-controller', operation: 'Apply' });
    expect(Object.keys(entry.fieldsV1)).toEqual(['f:status']);
    const smaller = await apply(`${path}/status`, { apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name: 'w' }, status: { observedGeneration: 1 } }, 'kurier-controller');
    expect(smaller.json.status).toEqual({ observedGeneration: 1 });
  });

  it('treats a resourceVersion in the applied configuration as a precondition', async () => {
    const ns = await api.namespace();
    const path = `/api/v1/namespaces/${ns}/configmaps/c`;
    const first = await apply(path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, 'm');
    await apply(path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '2' } }, 'm');
    const stale = await apply(path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', resourceVersion: first.json.metadata.resourceVersion }, data: { a: '3' } }, 'm');
    expect(stale.status).toBe(409);
  });

  it('requires a fieldManager', async () => {
    const ns = await api.namespace();
    const res = await raw(api.server.url, 'PATCH', `/api/v1/namespaces/${ns}/configmaps/c`, stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }), 'application/apply-patch+yaml');
    expect(res.status).toBe(422);
  });

  it('is what KubernetesObjectApi.patch sends with PatchStrategy.ServerSideApply', async () => {
    const ns = await api.namespace();
    const objs = KubernetesObjectApi.makeApiClient(api.server.kubeConfig());
    const spec = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: ns }, data: { a: '1', b: '2' } };
    await objs.patch(spec as any, undefined, undefined, 'kurier-controller', true, PatchStrategy.ServerSideApply);
    const res = await objs.patch<any>({ ...spec, data: { a: '1' } }, undefined, undefined, 'kurier-controller', true, PatchStrategy.ServerSideApply);
    expect(res.data).toEqual({ a: '1' });
  });
});
