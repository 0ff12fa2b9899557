/**
 * How many API requests the controller makes per trigger (issue 13: at most 3 while converging, none
 * on a resync that finds nothing changed), counted in the double's request log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kubeApi } from '../../controller/kube.js';
import { startApiServer, type ApiServerDouble, type RequestRecord } from '../support/apiserver/index.js';
import type { Controller } from '../../controller/controller.js';
import { CRD, eventually, getTrigger, kafkaTrigger, makeController, sleepMs, TRIGGERS } from './harness.js';

let server: ApiServerDouble | undefined;
let controller: Controller | undefined;
afterEach(async () => {
  await controller?.stop();
  await server?.close();
  controller = undefined;
  server = undefined;
});

const N = 12;
const NS = 'requests';

/** Requests about single objects (list and watch are the informers', made once, not per trigger). */
const perObject = (requests: readonly RequestRecord[]): RequestRecord[] =>
  requests.filter((r) => ['get', 'create', 'update', 'patch', 'delete'].includes(r.verb) && r.resource !== '');

const describe1 = (r: RequestRecord): string => `${r.verb} ${r.resource}${r.subresource === undefined ? '' : `/${r.subresource}`}`;

function count(requests: readonly RequestRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) out[describe1(r)] = (out[describe1(r)] ?? 0) + 1;
  return out;
}

describe('API requests per trigger', () => {
  it('converges a new trigger with three requests (apply, Event, status) and a no-change resync with none', async () => {
    // no Deployment controller: each trigger's status is written once, so the count is exact
    server = await startApiServer({ crds: [CRD] });
    server.ensureNamespace(NS);
    const api = kubeApi(server.kubeConfig());
    for (let i = 0; i < N; i++) await api.create(TRIGGERS, NS, kafkaTrigger(NS, `t${String(i)}`, `topic-${String(i)}`));
    server.resetRequests();
    controller = await makeController(server);
    await controller.start();
    const double = server;
    await eventually(
      () => Array.from({ length: N }, (_, i) => getTrigger(double, NS, `t${String(i)}`)).every((t) => t?.status?.deployment !== undefined),
      'every trigger converged',
    );
    await eventually(() => controller?.queue.length === 0, 'an empty queue');
    await sleepMs(300);

    const converging = perObject(server.requests);
    expect(count(converging)).toEqual({
      'patch deployments': N,
      'create events': N,
      'update kafkatriggers/status': N,
    });
    // no read of the Deployment before applying it: the caches know the name is free
    expect(converging.filter((r) => r.resource === 'deployments' && r.verb === 'get')).toEqual([]);
    expect(converging.length / N).toBeLessThanOrEqual(3);

    server.resetRequests();
    const reconciles = async (): Promise<number> => ((await controller?.metrics.reconciles.get())?.values ?? []).reduce((s, v) => s + v.value, 0);
    const before = await reconciles();
    controller.enqueueAll();
    await eventually(async () => (await reconciles()) >= before + N, 'a full resync');
    await sleepMs(200);
    expect(perObject(server.requests).map(describe1)).toEqual([]);
  });

  it('still refuses a Deployment of that name that is not Kurier\'s, without writing to it', async () => {
    server = await startApiServer({ crds: [CRD] });
    server.ensureNamespace(NS);
    const api = kubeApi(server.kubeConfig());
    const foreign = await api.create({ group: 'apps', version: 'v1', plural: 'deployments' }, NS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 't0-kafka', namespace: NS, labels: { app: 'mine' } },
      spec: {
        selector: { matchLabels: { app: 'mine' } },
        template: { metadata: { labels: { app: 'mine' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
      },
    });
    await api.create(TRIGGERS, NS, kafkaTrigger(NS, 't0'));
    await api.create(TRIGGERS, NS, kafkaTrigger(NS, 't1'));
    server.resetRequests();
    controller = await makeController(server);
    await controller.start();
    const double = server;
    await eventually(() => getTrigger(double, NS, 't0')?.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'DeploymentNotOwned', 'DeploymentNotOwned');
    await eventually(() => getTrigger(double, NS, 't1')?.status?.deployment !== undefined, 't1 converged');
    await sleepMs(300);
    const touched = perObject(server.requests).filter((r) => r.resource === 'deployments' && r.name === 't0-kafka');
    expect(touched.map(describe1)).toEqual([]);
    expect(server.store.get('apps/v1', 'Deployment', NS, 't0-kafka')).toMatchObject({ metadata: { labels: { app: 'mine' }, resourceVersion: foreign.metadata.resourceVersion } });

    // once it is gone, the trigger gets its own without waiting for a resync
    await api.delete({ group: 'apps', version: 'v1', plural: 'deployments' }, NS, 't0-kafka');
    await eventually(() => getTrigger(double, NS, 't0')?.status?.deployment !== undefined, 't0 converged after the foreign Deployment went');
  });
});
