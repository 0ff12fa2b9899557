/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread, @typescript-eslint/no-explicit-any, @typescript-eslint/no-unnecessary-type-assertion --
   client-node models are classes; tests write them as plain object literals (as the API sees them) and read responses untyped */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startApiServer } from '../support/apiserver/index.js';
import { eventually, failure, raw, useApiServer } from './helpers.js';

const CRD_FILE = fileURLToPath(new URL('./fixtures/widgets-crd.yaml', import.meta.url));
const crd = parse(readFileSync(CRD_FILE, 'utf8')) as V1CustomResourceDefinition;
const G = 'example.test';

const api = useApiServer({ crds: [CRD_FILE] });

const widget = (name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name }, spec, ...extra });
const create = (ns: string, body: object, q: { fieldValidation?: string } = {}) => api.custom.createNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', body, ...q }) as Promise<any>;

describe('installing a CRD', () => {
  it('accepts a CRD over the API, marks it Established and serves its kind with discovery', async () => {
    const s = await startApiServer();
    try {
      const ext = s.kubeConfig().makeApiClient(ApiextensionsV1Api);
      const before = await raw(s.url, 'GET', `/apis/${G}/v1`);
      expect(before.status).toBe(404);
      const created = await ext.createCustomResourceDefinition({ body: crd });
      expect(created.metadata?.generation).toBe(1);
      const got = await ext.readCustomResourceDefinition({ name: 'widgets.example.test' });
      expect(got.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
      expect(got.status?.acceptedNames?.kind).toBe('Widget');
      const groups = await raw(s.url, 'GET', '/apis');
      expect(groups.json.groups.map((g: any) => g.name)).toContain(G);
      const list = await raw(s.url, 'GET', `/apis/${G}/v1`);
      const res = list.json.resources.find((r: any) => r.name === 'widgets');
      expect(res).toMatchObject({ kind: 'Widget', namespaced: true, singularName: 'widget', shortNames: ['wd'], categories: ['gadgets'] });
      expect(res.verbs).toEqual(expect.arrayContaining(['create', 'get', 'list', 'watch', 'patch', 'update', 'delete']));
      expect(list.json.resources.map((r: any) => r.name)).toContain('widgets/status');
    } finally {
      await s.close();
    }
  });

  it('rejects a CRD whose name is not <plural>.<group>', async () => {
    const s = await startApiServer();
    try {
      const ext = s.kubeConfig().makeApiClient(ApiextensionsV1Api);
      const st = await failure(ext.createCustomResourceDefinition({ body: { ...crd, metadata: { name: 'wrong.example.test' } } }), 422);
      expect(st.details?.causes?.[0]?.field).toBe('metadata.name');
    } finally {
      await s.close();
    }
  });

  it('removes the kind and its objects when the CRD is deleted', async () => {
    const s = await startApiServer({ crds: [CRD_FILE] });
    try {
      const c = s.kubeConfig().makeApiClient(CustomObjectsApi);
      await c.createNamespacedCustomObject({ group: G, version: 'v1', namespace: 'default', plural: 'widgets', body: widget('w', { size: 1 }) });
      await s.kubeConfig().makeApiClient(ApiextensionsV1Api).deleteCustomResourceDefinition({ name: 'widgets.example.test' });
      expect((await raw(s.url, 'GET', `/apis/${G}/v1/namespaces/default/widgets`)).status).toBe(404);
      expect((await raw(s.url, 'GET', `/apis/${G}/v1`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });
});

describe('custom resources', () => {
  it('creates, reads and lists them through CustomObjectsApi and KubernetesObjectApi', async () => {
    const ns = await api.namespace();
    const w = await create(ns, widget('w1', { size: 2, color: 'red' }));
    expect(w.metadata.generation).toBe(1);
    expect(w.metadata.uid).toBeTruthy();
    const list = (await api.custom.listNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets' })) as any;
    expect(list.kind).toBe('WidgetList');
    expect(list.items[0].kind).toBe('Widget');
    const objs = KubernetesObjectApi.makeApiClient(api.server.kubeConfig());
    const read = (await objs.read({ apiVersion: `${G}/v1`, kind: 'Widget', metadata: { name: 'w1', namespace: ns } })) as any;
    expect(read.spec.color).toBe('red');
  });

  it('answers 422 Invalid with one cause per schema violation: required, enum, maximum, pattern, type', async () => {
    const ns = await api.namespace();
    const st = await failure(create(ns, widget('bad', { color: 'pink', name: 'UPPER', tags: 'nope' })), 422);
    expect(st.reason).toBe('Invalid');
    expect(st.message).toMatch(/^Widget\.example\.test "bad" is invalid: /);
    expect(st.details).toMatchObject({ name: 'bad', group: G, kind: 'Widget' });
    const byField = Object.fromEntries((st.details?.causes ?? []).map((c) => [c.field, c]));
    expect(byField['spec.size']).toMatchObject({ reason: 'FieldValueRequired', message: 'Required value' });
    expect(byField['spec.color']).toMatchObject({ reason: 'FieldValueNotSupported', message: 'Unsupported value: "pink": supported values: "red", "green", "blue"' });
    expect(byField['spec.name']?.reason).toBe('FieldValueInvalid');
    expect(byField['spec.name']?.message).toContain("should match '^[a-z]+$'");
    expect(byField['spec.tags']?.reason).toBe('FieldValueTypeInvalid');
    const big = await failure(create(ns, widget('big', { size: 11 })), 422);
    expect(big.details?.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.size', message: 'Invalid value: 11: spec.size in body should be less than or equal to 10' }]);
  });

  it('validates items, additionalProperties maps and int-or-string fields', async () => {
    const ns = await api.namespace();
    const st = await failure(create(ns, widget('bad', { size: 1, ports: [{ port: 1 }], limits: { cpu: 'x' }, quantity: true })), 422);
    const fields = st.details?.causes?.map((c) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['spec.ports[0].name', 'spec.limits.cpu', 'spec.quantity']));
    const ok = await create(ns, widget('ok', { size: 1, quantity: '10Gi', limits: { cpu: 2 } }));
    expect(ok.spec.quantity).toBe('10Gi');
  });

  it('prunes unknown fields by default and says so in a Warning header; keeps x-kubernetes-preserve-unknown-fields', async () => {
    const ns = await api.namespace();
    const res = await raw(api.server.url, 'POST', `/apis/${G}/v1/namespaces/${ns}/widgets`, widget('w', { size: 1, colr: 'red', extra: { any: { thing: 1 } } }, { junk: 1 }));
    expect(res.status).toBe(201);
    expect(res.json.spec).toEqual({ size: 1, mode: 'normal', extra: { any: { thing: 1 } } });
    expect(res.json.junk).toBeUndefined();
    expect(res.headers.get('warning')).toContain('unknown field \\"spec.colr\\"');
  });

  it('rejects unknown fields with 400 naming each one under fieldValidation=Strict (what kubectl sends)', async () => {
    const ns = await api.namespace();
    const st = await failure(create(ns, widget('w', { size: 1, colr: 'red' }), { fieldValidation: 'Strict' }), 400);
    expect(st.reason).toBe('BadRequest');
    expect(st.message).toBe('Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.colr"');
  });

  it('applies schema defaults', async () => {
    const ns = await api.namespace();
    const w = await create(ns, widget('w', { size: 1 }));
    expect(w.spec.mode).toBe('normal');
  });

  it('bumps generation on spec changes only, not on metadata or status', async () => {
    const ns = await api.namespace();
    const w = await create(ns, widget('w', { size: 1 }));
    const relabelled = (await api.custom.replaceNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'w', body: { ...w, metadata: { ...w.metadata, labels: { a: 'b' } } } })) as any;
    expect(relabelled.metadata.generation).toBe(1);
    const st = (await api.custom.replaceNamespacedCustomObjectStatus({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'w', body: { ...relabelled, status: { observedGeneration: 1 } } })) as any;
    expect(st.metadata.generation).toBe(1);
    expect(st.status.observedGeneration).toBe(1);
    const resized = (await api.custom.replaceNamespacedCustomObject({ group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'w', body: { ...st, spec: { ...st.spec, size: 5 } } })) as any;
    expect(resized.metadata.generation).toBe(2);
  });

  it('honours the status subresource: status is dropped on create and ignored on main writes; /status writes only status', async () => {
    const ns = await api.namespace();
    const w = await create(ns, widget('w', { size: 1 }, { status: { observedGeneration: 9 } }));
    expect(w.status).toBeUndefined();
    const st = (await api.custom.patchNamespacedCustomObjectStatus(
      { group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'w', body: { spec: { size: 9 }, status: { conditions: [{ type: 'Ready', status: 'True' }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as any;
    expect(st.status.conditions[0].status).toBe('True');
    expect(st.spec.size).toBe(1);
    const main = (await api.custom.patchNamespacedCustomObject(
      { group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'w', body: { status: { conditions: [] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as any;
    expect(main.status.conditions).toHaveLength(1);
  });

  it('validates status writes against the schema too', async () => {
    const ns = await api.namespace();
    await create(ns, widget('w', { size: 1 }));
    const st = await failure(
      api.custom.patchNamespacedCustomObjectStatus(
        { group: G, version: 'v1', namespace: ns, plural: 'widgets', name: 'w', body: { status: { observedGeneration: 'one' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
      422,
    );
    expect(st.details?.causes?.[0]?.field).toBe('status.observedGeneration');
  });

  it('returns the deleted object on DELETE of a custom resource', async () => {
    const ns = await api.namespace();
    await create(ns, widget('w', { size: 1 }));
    const res = await raw(api.server.url, 'DELETE', `/apis/${G}/v1/namespaces/${ns}/widgets/w`);
    expect(res.status).toBe(200);
    expect(res.json.kind).toBe('Widget');
    await eventually(() => {
      expect(api.server.store.get(`${G}/v1`, 'Widget', ns, 'w')).toBeUndefined();
    });
  });

  it('refuses strategic merge patch for custom resources with 415, as a cluster does', async () => {
    const ns = await api.namespace();
    await create(ns, widget('w', { size: 1 }));
    const res = await raw(api.server.url, 'PATCH', `/apis/${G}/v1/namespaces/${ns}/widgets/w`, { spec: { size: 2 } }, 'application/strategic-merge-patch+json');
    expect(res.status).toBe(415);
    expect(res.json.reason).toBe('UnsupportedMediaType');
  });
});
