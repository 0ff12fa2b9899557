/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models written as plain object literals */
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../support/apiserver/index.js';
import type { ApiServerDouble } from '../support/apiserver/index.js';
import { failure, raw, unique } from './helpers.js';

// Each test gets its own server: faults are global to a server.
let server: ApiServerDouble;
let core: CoreV1Api;

beforeAll(async () => {
  server = await startApiServer();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await server.close();
});

describe('fault injection', () => {
  it('answers the next N matching requests with 500 InternalError, then recovers', async () => {
    const s = await startApiServer();
    try {
      const c = s.kubeConfig().makeApiClient(CoreV1Api);
      s.faults.failNext(2, 500, (r) => r.method === 'GET' && r.path.includes('/configmaps'));
      await c.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'a' } } });
      const st = await failure(c.listNamespacedConfigMap({ namespace: 'default' }), 500);
      expect(st.reason).toBe('InternalError');
      await failure(c.readNamespacedConfigMap({ name: 'a', namespace: 'default' }), 500);
      expect((await c.readNamespacedConfigMap({ name: 'a', namespace: 'default' })).metadata?.name).toBe('a');
    } finally {
      await s.close();
    }
  });

  it('answers 429 TooManyRequests with Retry-After', async () => {
    const s = await startApiServer();
    try {
      s.faults.failNext(1, 429);
      const res = await raw(s.url, 'GET', '/api/v1/namespaces/default/configmaps');
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.json).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
      expect((await raw(s.url, 'GET', '/api/v1/namespaces/default/configmaps')).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('delays every response by the configured latency', async () => {
    const s = await startApiServer();
    try {
      s.faults.latency(150);
      const t0 = performance.now();
      await raw(s.url, 'GET', '/api/v1/namespaces/default/configmaps');
      // a lower bound only: the double must not answer before the injected delay
      expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
      s.faults.latency(0);
    } finally {
      await s.close();
    }
  });
});

describe('request log', () => {
  it('records every request with verb, resource, namespace, name, subresource and status', async () => {
    const ns = unique('ns');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    server.resetRequests();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' } }, fieldManager: 'kurier-controller' });
    await failure(core.readNamespacedConfigMap({ name: 'missing', namespace: ns }), 404);
    await core.listNamespacedConfigMap({ namespace: ns });
    await raw(server.url, 'PUT', `/api/v1/namespaces/${ns}/status`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns }, status: { phase: 'Active' } });
    const log = server.requests.map((r) => ({ verb: r.verb, resource: r.resource, namespace: r.namespace, name: r.name, subresource: r.subresource, status: r.status }));
    expect(log).toEqual([
      { verb: 'create', resource: 'configmaps', namespace: ns, name: undefined, subresource: undefined, status: 201 },
      { verb: 'get', resource: 'configmaps', namespace: ns, name: 'missing', subresource: undefined, status: 404 },
      { verb: 'list', resource: 'configmaps', namespace: ns, name: undefined, subresource: undefined, status: 200 },
      { verb: 'update', resource: 'namespaces', namespace: undefined, name: ns, subresource: 'status', status: 200 },
    ]);
    expect(server.requests[0]!.fieldManager).toBe('kurier-controller');
    expect(server.requests[0]!.method).toBe('POST');
    expect(server.requests[0]!.path).toBe(`/api/v1/namespaces/${ns}/configmaps`);
    expect(Date.parse(server.requests[0]!.time)).not.toBeNaN();
  });
});
