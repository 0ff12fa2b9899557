/** The controller's informers against the API server double: restart backoff and bookmarks. */
import { afterEach, describe, expect, it } from 'vitest';
import { ResilientInformer } from '../../controller/informers.js';
import { DEPLOYMENTS, kubeApi } from '../../controller/kube.js';
import { silentLogger } from '../../controller/logger.js';
import { startApiServer, type ApiServerDouble } from '../support/apiserver/index.js';
import { eventually } from './harness.js';

let server: ApiServerDouble | undefined;
let informer: ResilientInformer | undefined;
afterEach(async () => {
  await informer?.stop();
  await server?.close();
  informer = undefined;
  server = undefined;
});

describe('ResilientInformer', () => {
  it('restarts after the base delay again once a watch reopened, even when nothing changed (a quiet informer)', async () => {
    server = await startApiServer({});
    server.ensureNamespace('quiet');
    const kc = server.kubeConfig();
    informer = new ResilientInformer(
      kc,
      kubeApi(kc),
      { name: 'deployments@quiet', resource: DEPLOYMENTS, namespace: 'quiet', restartBaseMs: 50, restartMaxMs: 60_000, log: silentLogger },
      { onChange: () => undefined, onDelete: () => undefined },
    );
    await informer.start();
    await eventually(() => informer!.synced && server!.openWatches() === 1, 'the first watch');
    const collection = '/apis/apps/v1/namespaces/quiet/deployments';
    // an outage: every watch attempt fails five times in a row, then the watch opens again
    server.faults.failNext(5, 500, (r) => r.method === 'GET' && r.path === collection);
    server.faults.closeWatches();
    await eventually(() => informer!.restarts >= 5 && server!.openWatches() === 1, 'the watch reopened after the outage', 20_000);
    // nothing changed meanwhile: no list, no event; the open watch alone must reset the backoff
    expect(informer.nextRestartDelayMs).toBe(50);
  });
});
