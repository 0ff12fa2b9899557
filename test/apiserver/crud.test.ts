/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread, @typescript-eslint/no-explicit-any --
   client-node models are classes; tests write them as plain object literals (as the API sees them) and read responses untyped */
import { CoordinationV1Api, CoreV1Api, EventsV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { startApiServer } from '../support/apiserver/index.js';
import { deployment, failure, raw, unique, useApiServer } from './helpers.js';

const api = useApiServer();

describe('create, get and list', () => {
  it('creates with 201 and fills uid, creationTimestamp and a numeric resourceVersion', async () => {
    const ns = await api.namespace();
    const res = await raw(api.server.url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } });
    expect(res.status).toBe(201);
    expect(res.json.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(res.json.metadata.resourceVersion)).toBeGreaterThan(0);
    const got = await api.core.readNamespacedConfigMap({ name: 'a', namespace: ns });
    expect(got.data).toEqual({ k: 'v' });
  });

  it('answers 409 AlreadyExists with a Status naming the object', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'dup' } } });
    const st = await failure(api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'dup' } } }), 409);
    expect(st.reason).toBe('AlreadyExists');
    expect(st.message).toBe('configmaps "dup" already exists');
    expect(st.details).toMatchObject({ name: 'dup', kind: 'configmaps' });
  });

  it('answers 404 NotFound for a missing object, with the group in the message', async () => {
    const ns = await api.namespace();
    const st = await failure(api.apps.readNamespacedDeployment({ name: 'nope', namespace: ns }), 404);
    expect(st.reason).toBe('NotFound');
    expect(st.message).toBe('deployments.apps "nope" not found');
  });

  it('refuses writes into a namespace that does not exist, as a cluster does', async () => {
    const st = await failure(api.core.createNamespacedConfigMap({ namespace: unique('missing'), body: { metadata: { name: 'x' } } }), 404);
    expect(st.message).toMatch(/^namespaces "missing-[0-9a-f]+" not found$/);
  });

  it('creates missing namespaces on demand only when asked to', async () => {
    const s = await startApiServer({ autoCreateNamespaces: true });
    try {
      const c = s.kubeConfig().makeApiClient(CoreV1Api);
      const ns = unique('auto');
      await c.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } });
      expect((await c.readNamespace({ name: ns })).status?.phase).toBe('Active');
    } finally {
      await s.close();
    }
  });

  it('refuses a create that carries a resourceVersion (500, as etcd\'s error passes through)', async () => {
    const ns = await api.namespace();
    const st = await failure(api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c', resourceVersion: '12' } } }), 500);
    expect(st.message).toBe('resourceVersion should not be set on objects to be created');
  });

  it('generates a name from generateName', async () => {
    const ns = await api.namespace();
    const cm = await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { generateName: 'gen-' } } });
    expect(cm.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('rejects a name that is not a DNS subdomain with 422 Invalid', async () => {
    const ns = await api.namespace();
    const st = await failure(api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'Bad_Name' } } }), 422);
    expect(st.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'metadata.name' });
  });

  it('returns the list resourceVersion, one global counter across kinds', async () => {
    const ns = await api.namespace();
    const a = await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a' } } });
    const s = await api.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's' }, stringData: { p: 'w' } } });
    expect(Number(s.metadata?.resourceVersion)).toBeGreaterThan(Number(a.metadata?.resourceVersion));
    const list = await api.core.listNamespacedConfigMap({ namespace: ns });
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThanOrEqual(Number(s.metadata?.resourceVersion));
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['a']);
  });

  it('turns Secret stringData into base64 data and defaults the type to Opaque', async () => {
    const ns = await api.namespace();
    const s = await api.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's' }, stringData: { token: 'hunter2' } } });
    expect(s.data).toEqual({ token: Buffer.from('hunter2').toString('base64') });
    expect(s.type).toBe('Opaque');
    expect((s as { stringData?: unknown }).stringData).toBeUndefined();
  });

  it('filters lists by label selector: =, ==, !=, in, notin, exists, !exists', async () => {
    const ns = await api.namespace();
    const mk = (name: string, labels: Record<string, string>) => api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels } } });
    await mk('a', { tier: 'web', env: 'prod' });
    await mk('b', { tier: 'db', env: 'dev' });
    await mk('c', { tier: 'cache' });
    const names = async (labelSelector: string) => (await api.core.listNamespacedConfigMap({ namespace: ns, labelSelector })).items.map((i) => i.metadata?.name);
    expect(await names('tier=web')).toEqual(['a']);
    expect(await names('tier==db')).toEqual(['b']);
    expect(await names('tier!=web')).toEqual(['b', 'c']);
    expect(await names('tier in (web,db)')).toEqual(['a', 'b']);
    expect(await names('tier notin (web,db)')).toEqual(['c']);
    expect(await names('env')).toEqual(['a', 'b']);
    expect(await names('!env')).toEqual(['c']);
    expect(await names('env,tier!=db')).toEqual(['a']);
    const bad = await raw(api.server.url, 'GET', `/api/v1/namespaces/${ns}/configmaps?labelSelector=${encodeURIComponent('a b c')}`);
    expect(bad.status).toBe(400);
  });

  it('filters by field selector metadata.name and metadata.namespace, across namespaces', async () => {
    const ns1 = await api.namespace();
    const ns2 = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns1, body: { metadata: { name: 'same' } } });
    await api.core.createNamespacedConfigMap({ namespace: ns2, body: { metadata: { name: 'same' } } });
    await api.core.createNamespacedConfigMap({ namespace: ns2, body: { metadata: { name: 'other' } } });
    const all = await api.core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=same' });
    expect(all.items.map((i) => i.metadata?.namespace).sort()).toEqual([ns1, ns2].sort());
    const one = await api.core.listConfigMapForAllNamespaces({ fieldSelector: `metadata.name=same,metadata.namespace=${ns2}` });
    expect(one.items).toHaveLength(1);
    const neg = await api.core.listNamespacedConfigMap({ namespace: ns2, fieldSelector: 'metadata.name!=same' });
    expect(neg.items.map((i) => i.metadata?.name)).toEqual(['other']);
    const bad = await raw(api.server.url, 'GET', `/api/v1/namespaces/${ns2}/configmaps?fieldSelector=spec.nope%3Dx`);
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('field label not supported: spec.nope');
  });

  it('pages a list with limit and continue', async () => {
    const ns = await api.namespace();
    for (const n of ['a', 'b', 'c']) await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: n } } });
    const p1 = await api.core.listNamespacedConfigMap({ namespace: ns, limit: 2 });
    expect(p1.items.map((i) => i.metadata?.name)).toEqual(['a', 'b']);
    expect(p1.metadata?.remainingItemCount).toBe(1);
    const p2 = await api.core.listNamespacedConfigMap({ namespace: ns, limit: 2, _continue: p1.metadata?._continue });
    expect(p2.items.map((i) => i.metadata?.name)).toEqual(['c']);
    expect(p2.metadata?._continue).toBeUndefined();
  });

  it('answers 410 to an exact list or a continue token from before expireResourceVersions(), 504 to a future version', async () => {
    const s = await startApiServer();
    try {
      const c = s.kubeConfig().makeApiClient(CoreV1Api);
      for (const n of ['a', 'b']) await c.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: n } } });
      const page = await c.listNamespacedConfigMap({ namespace: 'default', limit: 1 });
      const rv = page.metadata!.resourceVersion!;
      expect((await c.listNamespacedConfigMap({ namespace: 'default', resourceVersion: rv, resourceVersionMatch: 'Exact' })).items).toHaveLength(2);
      s.faults.expireResourceVersions();
      const exact = await failure(c.listNamespacedConfigMap({ namespace: 'default', resourceVersion: rv, resourceVersionMatch: 'Exact' }), 410);
      expect(exact.reason).toBe('Expired');
      await failure(c.listNamespacedConfigMap({ namespace: 'default', limit: 1, _continue: page.metadata!._continue }), 410);
      // "not older than" an old version is served from the current state, as the watch cache does
      expect((await c.listNamespacedConfigMap({ namespace: 'default', resourceVersion: rv })).items).toHaveLength(2);
      const future = await failure(c.listNamespacedConfigMap({ namespace: 'default', resourceVersion: String(Number(s.resourceVersion()) + 100) }), 504);
      expect(future.reason).toBe('Timeout');
    } finally {
      await s.close();
    }
  });

  it('omits apiVersion/kind on the items of a built-in list, as the real server does', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a' } } });
    const res = await raw(api.server.url, 'GET', `/api/v1/namespaces/${ns}/configmaps`);
    expect(res.json.kind).toBe('ConfigMapList');
    expect(res.json.items[0].kind).toBeUndefined();
  });

  it('answers a delete with a Success Status naming the object', async () => {
    const ns = await api.namespace();
    const cm = await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' } } });
    const res = await raw(api.server.url, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/c`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'c', kind: 'configmaps', uid: cm.metadata?.uid } });
  });

  it('does not persist a dryRun=All create', async () => {
    const ns = await api.namespace();
    const cm = await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'dry' } }, dryRun: 'All' });
    expect(cm.metadata?.name).toBe('dry');
    await failure(api.core.readNamespacedConfigMap({ name: 'dry', namespace: ns }), 404);
  });
});

describe('update', () => {
  it('answers 409 Conflict to an update carrying a stale resourceVersion', async () => {
    const ns = await api.namespace();
    const cm = await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' }, data: { a: '1' } } });
    await api.core.replaceNamespacedConfigMap({ name: 'c', namespace: ns, body: { ...cm, data: { a: '2' } } });
    const st = await failure(api.core.replaceNamespacedConfigMap({ name: 'c', namespace: ns, body: { ...cm, data: { a: '3' } } }), 409);
    expect(st.reason).toBe('Conflict');
    expect(st.message).toBe('Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again');
  });

  it('accepts an unconditional update without resourceVersion', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' }, data: { a: '1' } } });
    const up = await api.core.replaceNamespacedConfigMap({ name: 'c', namespace: ns, body: { metadata: { name: 'c' }, data: { a: '9' } } });
    expect(up.data).toEqual({ a: '9' });
  });

  it('keeps the resourceVersion when an update changes nothing', async () => {
    const ns = await api.namespace();
    const cm = await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' }, data: { a: '1' } } });
    const again = await api.core.replaceNamespacedConfigMap({ name: 'c', namespace: ns, body: cm });
    expect(again.metadata?.resourceVersion).toBe(cm.metadata?.resourceVersion);
  });

  it('answers 404 to an update of a missing object', async () => {
    const ns = await api.namespace();
    await failure(api.core.replaceNamespacedConfigMap({ name: 'nope', namespace: ns, body: { metadata: { name: 'nope' } } }), 404);
  });

  it('answers 400 when the body names another object than the URL', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' } } });
    const st = await failure(api.core.replaceNamespacedConfigMap({ name: 'c', namespace: ns, body: { metadata: { name: 'd' } } }), 400);
    expect(st.message).toBe('the name of the object (d) does not match the name on the URL (c)');
  });
});

describe('Deployments: generation, status subresource, defaults and validation', () => {
  it('sets generation 1 on create and bumps it only when spec changes', async () => {
    const ns = await api.namespace();
    const d = await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web') });
    expect(d.metadata?.generation).toBe(1);
    const labelled = await api.apps.replaceNamespacedDeployment({ name: 'web', namespace: ns, body: { ...d, metadata: { ...d.metadata, labels: { app: 'web', x: 'y' } } } });
    expect(labelled.metadata?.generation).toBe(1);
    expect(Number(labelled.metadata?.resourceVersion)).toBeGreaterThan(Number(d.metadata?.resourceVersion));
    const scaled = await api.apps.replaceNamespacedDeployment({ name: 'web', namespace: ns, body: { ...labelled, spec: { ...labelled.spec!, replicas: 3 } } });
    expect(scaled.metadata?.generation).toBe(2);
  });

  it('ignores status on create and on writes to the main resource', async () => {
    const ns = await api.namespace();
    const d = await api.apps.createNamespacedDeployment({ namespace: ns, body: { ...deployment('web'), status: { replicas: 7 } } });
    expect(d.status).toBeUndefined();
    const up = await api.apps.replaceNamespacedDeployment({ name: 'web', namespace: ns, body: { ...d, status: { readyReplicas: 5 } } });
    expect(up.status).toBeUndefined();
    expect(up.metadata?.resourceVersion).toBe(d.metadata?.resourceVersion);
  });

  it('writes status only through /status, which ignores everything else', async () => {
    const ns = await api.namespace();
    const d = await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web') });
    const st = await api.apps.replaceNamespacedDeploymentStatus({
      name: 'web',
      namespace: ns,
      body: { ...d, metadata: { ...d.metadata, labels: { changed: 'yes' } }, spec: { ...d.spec!, replicas: 9 }, status: { readyReplicas: 1, observedGeneration: 1 } },
    });
    expect(st.status?.readyReplicas).toBe(1);
    expect(st.spec?.replicas).toBe(1);
    expect(st.metadata?.labels).toEqual({ app: 'web' });
    expect(st.metadata?.generation).toBe(1);
  });

  it('refuses DELETE and POST on the status subresource with 405', async () => {
    const ns = await api.namespace();
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web') });
    expect((await raw(api.server.url, 'DELETE', `/apis/apps/v1/namespaces/${ns}/deployments/web/status`)).status).toBe(405);
    expect((await raw(api.server.url, 'POST', `/apis/apps/v1/namespaces/${ns}/deployments/web/status`, {})).status).toBe(405);
    expect(api.server.store.get('apps/v1', 'Deployment', ns, 'web')).toBeTruthy();
  });

  it('fills the defaults a real API server fills, so drift checks see them', async () => {
    const ns = await api.namespace();
    const d = await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web') });
    expect(d.spec?.revisionHistoryLimit).toBe(10);
    expect(d.spec?.progressDeadlineSeconds).toBe(600);
    expect(d.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    const pod = d.spec?.template.spec;
    expect(pod).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, schedulerName: 'default-scheduler', securityContext: {} });
    expect(pod?.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} });
  });

  it('rejects a selector that does not match the template labels, and a selector change', async () => {
    const ns = await api.namespace();
    const bad = deployment('web');
    bad.spec!.template.metadata!.labels = { app: 'other' };
    const st = await failure(api.apps.createNamespacedDeployment({ namespace: ns, body: bad }), 422);
    expect(st.message).toMatch(/^Deployment\.apps "web" is invalid: spec\.template\.metadata\.labels: Invalid value/);
    expect(st.details?.causes?.[0]?.field).toBe('spec.template.metadata.labels');
    const d = await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web') });
    const moved = { ...d, spec: { ...d.spec!, selector: { matchLabels: { app: 'web', v: '2' } }, template: { ...d.spec!.template, metadata: { labels: { app: 'web', v: '2' } } } } };
    const st2 = await failure(api.apps.replaceNamespacedDeployment({ name: 'web', namespace: ns, body: moved }), 422);
    expect(st2.details?.causes?.map((c) => c.field)).toContain('spec.selector');
  });

  it('drops fields a Deployment does not have (Warning header), and refuses them under fieldValidation=Strict', async () => {
    const ns = await api.namespace();
    const body: any = deployment('web');
    body.spec.template.spec.containers[0].imagePullPolice = 'Always';
    body.spec.replica = 3;
    const res = await raw(api.server.url, 'POST', `/apis/apps/v1/namespaces/${ns}/deployments`, body);
    expect(res.status).toBe(201);
    expect(res.json.spec.replica).toBeUndefined();
    expect(res.json.spec.template.spec.containers[0].imagePullPolice).toBeUndefined();
    expect(res.headers.get('warning')).toContain('unknown field \\"spec.template.spec.containers[0].imagePullPolice\\"');
    const strict = await raw(api.server.url, 'POST', `/apis/apps/v1/namespaces/${ns}/deployments?fieldValidation=Strict`, { ...body, metadata: { name: 'web2', labels: { app: 'web' } } });
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolice", unknown field "spec.replica"');
  });

  it('plays the Deployment controller: setDeploymentReady writes status with observedGeneration', async () => {
    const ns = await api.namespace();
    await api.apps.createNamespacedDeployment({ namespace: ns, body: { ...deployment('web'), spec: { ...deployment('web').spec!, replicas: 2 } } });
    await api.server.setDeploymentReady(ns, 'web', true);
    let d = await api.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(d.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2, observedGeneration: 1 });
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
    await api.server.setDeploymentReady(ns, 'web', false);
    d = await api.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(d.status?.readyReplicas).toBeUndefined();
    expect(d.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  });
});

describe('other built-in kinds', () => {
  it('serves coordination.k8s.io/v1 Leases with optimistic concurrency (leader election)', async () => {
    const ns = await api.namespace();
    const coord = api.server.kubeConfig().makeApiClient(CoordinationV1Api);
    const lease = await coord.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } } });
    await coord.replaceNamespacedLease({ name: 'leader', namespace: ns, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } } });
    await failure(coord.replaceNamespacedLease({ name: 'leader', namespace: ns, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } } }), 409);
  });

  it('stores core/v1 Events and serves the same objects as events.k8s.io/v1', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedEvent({
      namespace: ns,
      body: {
        metadata: { name: 'e1' },
        involvedObject: { kind: 'Deployment', name: 'web', namespace: ns, apiVersion: 'apps/v1' },
        reason: 'Created',
        message: 'made it',
        type: 'Normal',
        reportingComponent: 'kurier',
      },
    });
    const ev = api.server.kubeConfig().makeApiClient(EventsV1Api);
    const list = await ev.listNamespacedEvent({ namespace: ns });
    expect(list.items[0]).toMatchObject({ note: 'made it', reason: 'Created', reportingController: 'kurier', regarding: { kind: 'Deployment', name: 'web' } });
    const byObject = await api.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=web,involvedObject.kind=Deployment' });
    expect(byObject.items).toHaveLength(1);
  });

  it('refuses an Event outside its object\'s namespace, and an events.k8s.io/v1 Event without its required fields', async () => {
    const ns = await api.namespace();
    const st = await failure(
      api.core.createNamespacedEvent({ namespace: ns, body: { metadata: { name: 'e' }, involvedObject: { kind: 'Deployment', name: 'web', namespace: 'elsewhere' }, reason: 'R', message: 'm' } }),
      422,
    );
    expect(st.details?.causes?.[0]).toMatchObject({ field: 'involvedObject.namespace' });
    const ev = api.server.kubeConfig().makeApiClient(EventsV1Api);
    const st2 = await failure(ev.createNamespacedEvent({ namespace: ns, body: { metadata: { name: 'e2' }, regarding: { kind: 'Deployment', name: 'web', namespace: ns }, note: 'n' } as any }), 422);
    expect(st2.details?.causes?.map((c) => c.field)).toEqual(expect.arrayContaining(['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']));
  });

  it('lets KubernetesObjectApi find kinds through discovery and do CRUD', async () => {
    const ns = await api.namespace();
    const objs = KubernetesObjectApi.makeApiClient(api.server.kubeConfig());
    const created = await objs.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'o', namespace: ns }, data: { a: '1' } } as any);
    expect(created.metadata?.uid).toBeTruthy();
    const read = await objs.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'o', namespace: ns } });
    expect((read as { data?: object }).data).toEqual({ a: '1' });
    const list = await objs.list('apps/v1', 'Deployment', ns);
    expect(list.items).toEqual([]);
    await objs.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'o', namespace: ns } });
    await failure(objs.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'o', namespace: ns } }), 404);
  });
});

describe('direct store access', () => {
  it('reads and lists objects without HTTP', async () => {
    const ns = await api.namespace();
    await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web') });
    expect(api.server.store.get('apps/v1', 'Deployment', ns, 'web')).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } });
    expect(api.server.store.list('apps/v1', 'Deployment', ns)).toHaveLength(1);
    expect(api.server.store.get('v1', 'Namespace', undefined, ns)).toBeTruthy();
  });
});
