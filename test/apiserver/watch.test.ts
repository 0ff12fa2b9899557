/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread, @typescript-eslint/no-explicit-any --
   client-node models are classes; tests write them as plain object literals (as the API sees them) and read responses untyped */
import { fileURLToPath } from 'node:url';
import { ADD, CustomObjectsApi, DELETE, ERROR, PatchStrategy, UPDATE, Watch, makeInformer, setHeaderOptions } from '@kubernetes/client-node';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { startApiServer } from '../support/apiserver/index.js';
import { eventually, useApiServer } from './helpers.js';

const api = useApiServer({ bookmarkIntervalMs: 50 });

interface Seen {
  type: string;
  name?: string;
  rv?: string;
  code?: number;
  object: any;
}

/** Starts a raw client-node Watch and records every event until stopped. */
async function watch(path: string, query: Record<string, string | boolean>): Promise<{ events: Seen[]; done: Promise<unknown>; stop(): void }> {
  const events: Seen[] = [];
  let resolveDone: (v: unknown) => void = () => undefined;
  const done = new Promise((r) => {
    resolveDone = r;
  });
  const ctl = await new Watch(api.server.kubeConfig()).watch(
    path,
    query,
    (type: string, object: any) => {
      events.push({ type, name: object?.metadata?.name, rv: object?.metadata?.resourceVersion, code: object?.code, object });
    },
    (err: unknown) => {
      resolveDone(err);
    },
  );
  return {
    events,
    done,
    stop() {
      ctl.abort();
    },
  };
}

describe('watch', () => {
  it('streams only the changes after the given resourceVersion, in order, with their resourceVersions', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' } } });
    const list = await api.core.listNamespacedConfigMap({ namespace: ns });
    const a = await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a' }, data: { v: '1' } } });
    const w = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: list.metadata!.resourceVersion! });
    const a2 = await api.core.replaceNamespacedConfigMap({ name: 'a', namespace: ns, body: { ...a, data: { v: '2' } } });
    await api.core.deleteNamespacedConfigMap({ name: 'a', namespace: ns });
    await eventually(() => {
      expect(w.events.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:a', 'MODIFIED:a', 'DELETED:a']);
    });
    expect(w.events[0]!.rv).toBe(a.metadata!.resourceVersion);
    expect(w.events[1]!.rv).toBe(a2.metadata!.resourceVersion);
    expect(Number(w.events[2]!.rv)).toBeGreaterThan(Number(a2.metadata!.resourceVersion));
    expect(w.events[0]!.object.kind).toBe('ConfigMap');
    w.stop();
  });

  it('starts with synthetic ADDED events for existing objects when no resourceVersion is given', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } });
    const w = await watch(`/api/v1/namespaces/${ns}/configmaps`, {});
    await eventually(() => {
      expect(w.events.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:x']);
    });
    w.stop();
  });

  it('applies label selectors to watches: leaving the selection is a DELETED event, entering it an ADDED', async () => {
    const ns = await api.namespace();
    const rv = api.server.resourceVersion();
    const w = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: rv, labelSelector: 'team=a' });
    const c = await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c', labels: { team: 'b' } } } });
    const c2 = await api.core.replaceNamespacedConfigMap({ name: 'c', namespace: ns, body: { ...c, metadata: { ...c.metadata, labels: { team: 'a' } } } });
    await api.core.replaceNamespacedConfigMap({ name: 'c', namespace: ns, body: { ...c2, metadata: { ...c2.metadata, labels: { team: 'z' } } } });
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'd', labels: { team: 'a' } } } });
    await eventually(() => {
      expect(w.events.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:c', 'DELETED:c', 'ADDED:d']);
    });
    w.stop();
  });

  it('applies field selectors to watches (metadata.name)', async () => {
    const ns = await api.namespace();
    const w = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: api.server.resourceVersion(), fieldSelector: 'metadata.name=want' });
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'skip' } } });
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'want' } } });
    await eventually(() => {
      expect(w.events.map((e) => e.name)).toEqual(['want']);
    });
    w.stop();
  });

  it('sends BOOKMARK events carrying the current resourceVersion when asked to', async () => {
    const ns = await api.namespace();
    const w = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: api.server.resourceVersion(), allowWatchBookmarks: true });
    await eventually(() => {
      const b = w.events.find((e) => e.type === 'BOOKMARK');
      expect(b?.rv).toBe(api.server.resourceVersion());
    });
    w.stop();
  });

  it('answers a watch from an expired resourceVersion with an ERROR event carrying a 410 Status, then closes', async () => {
    const ns = await api.namespace();
    const old = api.server.resourceVersion();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'x' } } });
    api.server.faults.expireResourceVersions();
    const w = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: old });
    await w.done;
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({ type: 'ERROR', code: 410, object: { kind: 'Status', status: 'Failure', reason: 'Expired' } });
  });

  it('forgets a watch when its client goes away', async () => {
    const s = await startApiServer();
    try {
      const ctl = await new Watch(s.kubeConfig()).watch('/api/v1/namespaces/default/configmaps', {}, () => undefined, () => undefined);
      await eventually(() => {
        expect(s.openWatches()).toBe(1);
      });
      ctl.abort();
      await eventually(() => {
        expect(s.openWatches()).toBe(0);
      });
    } finally {
      await s.close();
    }
  });

  it('closes every open watch on faults.closeWatches()', async () => {
    const ns = await api.namespace();
    const w = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: api.server.resourceVersion() });
    api.server.faults.closeWatches();
    expect(await w.done).toBeNull();
  });

  it('ends a watch after timeoutSeconds', async () => {
    const ns = await api.namespace();
    const w = await watch(`/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: api.server.resourceVersion(), timeoutSeconds: '1' });
    expect(await w.done).toBeNull();
  });
});

describe('informer (client-node makeInformer)', () => {
  it('follows a custom resource kind across all namespaces, as a controller does', async () => {
    const s = await startApiServer({ crds: [fileURLToPath(new URL('./fixtures/widgets-crd.yaml', import.meta.url))], autoCreateNamespaces: true });
    const custom = s.kubeConfig().makeApiClient(CustomObjectsApi);
    const informer = makeInformer<KubernetesObject>(s.kubeConfig(), '/apis/example.test/v1/widgets', () => custom.listClusterCustomObject({ group: 'example.test', version: 'v1', plural: 'widgets' }));
    const seen: string[] = [];
    informer.on(ADD, (o) => seen.push(`add:${o.metadata?.namespace}/${o.metadata?.name}`));
    informer.on(UPDATE, (o) => seen.push(`update:${o.metadata?.namespace}/${o.metadata?.name}`));
    await informer.start();
    try {
      const mk = (namespace: string, name: string) =>
        custom.createNamespacedCustomObject({ group: 'example.test', version: 'v1', namespace, plural: 'widgets', body: { apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name }, spec: { size: 1 } } });
      await mk('a', 'w1');
      await mk('b', 'w2');
      await custom.patchNamespacedCustomObjectStatus(
        { group: 'example.test', version: 'v1', namespace: 'a', plural: 'widgets', name: 'w1', body: { status: { observedGeneration: 1 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await eventually(() => {
        expect(seen).toEqual(['add:a/w1', 'add:b/w2', 'update:a/w1']);
      });
      expect((informer.get('w1', 'a') as any)?.status?.observedGeneration).toBe(1);
    } finally {
      await informer.stop();
      await s.close();
    }
  });

  it('lists, then follows changes; survives a dropped watch by resuming from its resourceVersion', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'first' } } });
    const informer = makeInformer<V1ConfigMap>(api.server.kubeConfig(), `/api/v1/namespaces/${ns}/configmaps`, () => api.core.listNamespacedConfigMap({ namespace: ns }));
    const seen: string[] = [];
    informer.on(ADD, (o) => seen.push(`add:${o.metadata?.name}`));
    informer.on(UPDATE, (o) => seen.push(`update:${o.metadata?.name}`));
    informer.on(DELETE, (o) => seen.push(`delete:${o.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on(ERROR, (e) => errors.push(e));
    await informer.start();
    try {
      await eventually(() => {
        expect(seen).toEqual(['add:first']);
      });
      api.server.resetRequests();
      api.server.faults.closeWatches();
      await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'during-gap' } } });
      await eventually(() => {
        expect(seen).toEqual(['add:first', 'add:during-gap']);
      }, 5000);
      // resumed with a watch from its last resourceVersion, without a relist
      expect(api.server.requests.filter((r) => r.namespace === ns && r.verb === 'list')).toHaveLength(0);
      expect(api.server.requests.some((r) => r.namespace === ns && r.verb === 'watch' && /resourceVersion=\d+/.test(r.query))).toBe(true);
      await api.core.deleteNamespacedConfigMap({ name: 'first', namespace: ns });
      await eventually(() => {
        expect(seen).toContain('delete:first');
      });
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });

  it('relists once after an expiry with no writes since, then holds its watch (no relist loop)', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'only' } } });
    const informer = makeInformer<V1ConfigMap>(api.server.kubeConfig(), `/api/v1/namespaces/${ns}/configmaps`, () => api.core.listNamespacedConfigMap({ namespace: ns }));
    await informer.start();
    try {
      await eventually(() => {
        expect(informer.list()).toHaveLength(1);
      });
      api.server.faults.expireResourceVersions();
      api.server.resetRequests();
      api.server.faults.closeWatches();
      await eventually(() => {
        expect(api.server.requests.filter((r) => r.namespace === ns && r.verb === 'list')).toHaveLength(1);
      }, 5000);
      // client-node backs off 1 s, then 2 s between relists: a loop would show a second list by now
      await new Promise((r) => setTimeout(r, 1500));
      expect(api.server.requests.filter((r) => r.namespace === ns && r.verb === 'list')).toHaveLength(1);
      expect(informer.list().map((o) => o.metadata?.name)).toEqual(['only']);
    } finally {
      await informer.stop();
    }
  });

  it('relists after a 410 Gone and catches up with what changed meanwhile', async () => {
    const ns = await api.namespace();
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'keep' } } });
    await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'gone' } } });
    const informer = makeInformer<V1ConfigMap>(api.server.kubeConfig(), `/api/v1/namespaces/${ns}/configmaps`, () => api.core.listNamespacedConfigMap({ namespace: ns }));
    const deleted: string[] = [];
    informer.on(DELETE, (o) => deleted.push(o.metadata?.name ?? ''));
    await informer.start();
    try {
      await eventually(() => {
        expect(informer.list().map((o) => o.metadata?.name).sort()).toEqual(['gone', 'keep']);
      });
      // compact history, then drop the watch: the informer resumes from a resourceVersion that is gone
      api.server.faults.expireResourceVersions();
      api.server.resetRequests();
      api.server.faults.closeWatches();
      await eventually(() => {
        expect(api.server.requests.some((r) => r.namespace === ns && r.verb === 'watch')).toBe(true);
      });
      // between the 410 and its relist (client-node waits 1 s), change what it would miss
      await api.core.deleteNamespacedConfigMap({ name: 'gone', namespace: ns });
      await api.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'new' } } });
      await eventually(() => {
        expect(informer.list().map((o) => o.metadata?.name).sort()).toEqual(['keep', 'new']);
      }, 5000);
      expect(deleted).toContain('gone');
      expect(api.server.requests.filter((r) => r.namespace === ns && r.verb === 'list').length).toBeGreaterThan(0);

    } finally {
      await informer.stop();
    }
  });
});
