/**
 * The controller shares its Deployments with other writers (kubectl, an autoscaler) and with the
 * API server's own normalisation: it writes only the fields it owns, by server-side apply, and
 * compares semantically. The other writers here are the real kubectl against the double.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Controller } from '../../controller/controller.js';
import {
  applies,
  eventually,
  getDeployment,
  getTrigger,
  kafkaTrigger,
  kubectl,
  kubectlAvailable,
  makeController,
  readyOf,
  sleepMs,
  startEnv,
  TRIGGERS,
  writes,
  type Env,
} from './harness.js';

const hasKubectl = await kubectlAvailable();

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

interface DeploymentShape {
  replicas?: number;
  template: { metadata?: { annotations?: Record<string, string> }; spec: { nodeSelector?: Record<string, string>; containers: { name: string; image: string; resources?: unknown }[] } };
}

const specOf = (e: Env, name: string): DeploymentShape | undefined => getDeployment(e.server, e.ns, name)?.['spec'] as DeploymentShape | undefined;

async function converged(e: Env, name: string): Promise<void> {
  await eventually(() => getTrigger(e.server, e.ns, name)?.status?.deployment !== undefined, `status of ${name}`);
  await eventually(() => e.controller.queue.length === 0, 'an empty queue');
  await sleepMs(200);
}

/** Stops the controller and starts a fresh one (empty memory, as after a restart or a leader change). */
async function restart(e: Env, resyncPeriodMs = 0): Promise<Controller> {
  await e.controller.stop();
  e.controller = await makeController(e.server, { resyncPeriodMs });
  await e.controller.start();
  return e.controller;
}

async function editTopic(e: Env, name: string, topic: string): Promise<void> {
  await kubectl(e, 'patch', 'kafkatrigger', name, '--type=merge', '-p', JSON.stringify({ spec: { kafka: { topic } } }));
}

describe.skipIf(!hasKubectl)('sharing a Deployment with other writers (real kubectl; skipped only when no kubectl is found, KUBECTL=path picks one)', () => {
  it('keeps kubectl scale on a trigger without spec.replicas through a trigger edit, a restart and resyncs', async () => {
    env = await startEnv();
    await env.api.create(TRIGGERS, env.ns, kafkaTrigger(env.ns, 'orders'));
    await eventually(() => getDeployment(env!.server, env!.ns, 'orders-kafka'), 'the Deployment');
    await converged(env, 'orders');
    await kubectl(env, 'scale', 'deployment/orders-kafka', '--replicas=4');
    await editTopic(env, 'orders', 'orders-v2');
    await eventually(() => getTrigger(env!.server, env!.ns, 'orders')?.status?.observedGeneration === 2, 'the edit reconciled');
    await converged(env, 'orders');
    expect(specOf(env, 'orders-kafka')?.replicas).toBe(4);
    await restart(env, 200);
    await sleepMs(1000);
    expect(specOf(env, 'orders-kafka')?.replicas).toBe(4);
  });

  it("keeps kubectl rollout restart's annotation through a trigger edit and a restart", async () => {
    env = await startEnv();
    await env.api.create(TRIGGERS, env.ns, kafkaTrigger(env.ns, 'orders'));
    await eventually(() => getDeployment(env!.server, env!.ns, 'orders-kafka'), 'the Deployment');
    await converged(env, 'orders');
    await kubectl(env, 'rollout', 'restart', 'deployment/orders-kafka');
    const restartedAt = specOf(env, 'orders-kafka')?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
    expect(restartedAt).toBeDefined();
    await editTopic(env, 'orders', 'orders-v2');
    await eventually(() => getTrigger(env!.server, env!.ns, 'orders')?.status?.observedGeneration === 2, 'the edit reconciled');
    await converged(env, 'orders');
    expect(specOf(env, 'orders-kafka')?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(restartedAt);
    await restart(env);
    await sleepMs(800);
    expect(specOf(env, 'orders-kafka')?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(restartedAt);
  });

  it('writes nothing after a restart or a resync when the server normalised the override (quantities)', async () => {
    env = await startEnv();
    const override = {
      deployment: {
        spec: {
          template: {
            spec: {
              // stored as 500m, 1536Mi and "4" by a real API server (and a double that canonicalises quantities)
              containers: [{ name: 'dispatcher', resources: { requests: { cpu: 0.5, memory: '1.5Gi' }, limits: { cpu: 4, memory: '2Gi' } } }],
            },
          },
        },
      },
    };
    await env.api.create(TRIGGERS, env.ns, kafkaTrigger(env.ns, 'orders', 'orders', override));
    await eventually(() => getDeployment(env!.server, env!.ns, 'orders-kafka'), 'the Deployment');
    await converged(env, 'orders');
    const before = getDeployment(env.server, env.ns, 'orders-kafka')?.metadata.resourceVersion;
    for (let i = 0; i < 3; i++) {
      env.server.resetRequests();
      await restart(env, 150);
      await eventually(() => env!.controller.reconciling, 'the restarted controller reconciling');
      await sleepMs(700);
      expect(writes(env.server.requests).filter((r) => r.resource === 'deployments')).toEqual([]);
    }
    expect(getDeployment(env.server, env.ns, 'orders-kafka')?.metadata.resourceVersion).toBe(before);
    expect(readyOf(getTrigger(env.server, env.ns, 'orders'))?.reason).toBe('DeploymentNotReady');
  });

  it('repairs a real drift of a field it owns, and of replicas when the trigger sets spec.replicas', async () => {
    env = await startEnv();
    await env.api.create(TRIGGERS, env.ns, kafkaTrigger(env.ns, 'orders', 'orders', { replicas: 2 }));
    await eventually(() => getDeployment(env!.server, env!.ns, 'orders-kafka'), 'the Deployment');
    await converged(env, 'orders');
    const image = specOf(env, 'orders-kafka')?.template.spec.containers.find((c) => c.name === 'dispatcher')?.image;
    await kubectl(env, 'set', 'image', 'deployment/orders-kafka', 'dispatcher=evil/image:latest');
    await eventually(() => specOf(env!, 'orders-kafka')?.template.spec.containers.find((c) => c.name === 'dispatcher')?.image === image, 'the image put back');
    await kubectl(env, 'scale', 'deployment/orders-kafka', '--replicas=5');
    await eventually(() => specOf(env!, 'orders-kafka')?.replicas === 2, 'replicas put back to spec.replicas');
  });

  it('removes a field it applied before when the trigger stops asking for it, keeping the fields of others', async () => {
    env = await startEnv();
    const withSelector = { deployment: { spec: { template: { spec: { nodeSelector: { disk: 'ssd' } } } } } };
    await env.api.create(TRIGGERS, env.ns, kafkaTrigger(env.ns, 'orders', 'orders', withSelector));
    await eventually(() => specOf(env!, 'orders-kafka')?.template.spec.nodeSelector?.['disk'] === 'ssd', 'the nodeSelector');
    await converged(env, 'orders');
    await kubectl(env, 'scale', 'deployment/orders-kafka', '--replicas=3');
    await kubectl(env, 'patch', 'kafkatrigger', 'orders', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/deployment' }]));
    await eventually(() => specOf(env!, 'orders-kafka')?.template.spec.nodeSelector === undefined, 'the nodeSelector removed');
    expect(specOf(env, 'orders-kafka')?.replicas).toBe(3);
  });
});

describe('fewer writes', () => {
  it('writes each Deployment by server-side apply as its own field manager', async () => {
    env = await startEnv();
    await env.api.create(TRIGGERS, env.ns, kafkaTrigger(env.ns, 'orders'));
    await eventually(() => getDeployment(env!.server, env!.ns, 'orders-kafka'), 'the Deployment');
    await converged(env, 'orders');
    const deploymentWrites = writes(env.server.requests).filter((r) => r.resource === 'deployments');
    expect(deploymentWrites).toHaveLength(1);
    expect(applies(env.server.requests)).toEqual(deploymentWrites);
    expect(deploymentWrites[0]?.fieldManager).toBe('kurier-controller');
    expect(deploymentWrites[0]?.query).toContain('force=true');
  });

  it('writes status once per observed change, never conflicting with its own last write', async () => {
    env = await startEnv({ resyncPeriodMs: 100 });
    const { server, ns } = env;
    // every status the server stored, per trigger, in order
    const stored = new Map<string, string[]>();
    server.store.onChange('kurier.dev/v1alpha1', 'KafkaTrigger', (obj) => {
      const trigger = obj as { metadata: { name?: string; namespace?: string }; status?: unknown };
      if (trigger.metadata.namespace !== ns) return;
      const name = trigger.metadata.name ?? '';
      const status = JSON.stringify(trigger.status ?? null);
      const seen = stored.get(name) ?? [];
      if (seen.at(-1) !== status) seen.push(status);
      stored.set(name, seen);
    });
    const names = ['a', 'b', 'c', 'd'];
    for (const name of names) await env.api.create(TRIGGERS, ns, kafkaTrigger(ns, name, `topic-${name}`));
    for (const name of names) await eventually(() => getDeployment(server, ns, `${name}-kafka`), name);
    for (const name of names) await server.setDeploymentReady(ns, `${name}-kafka`, true);
    for (const name of names) await eventually(() => readyOf(getTrigger(server, ns, name))?.status === 'True', `${name} Ready`);
    await sleepMs(500);
    const statusWrites = server.requests.filter((r) => r.resource === 'kafkatriggers' && r.subresource === 'status' && r.verb === 'update');
    // one write per observed change: as many successful status writes as distinct statuses stored
    // (NotReady once the Deployment exists, NotReady again as the Deployment controller reports the
    // rollout where it gets to, Ready once it is ready), never a write that changed nothing
    expect(statusWrites.filter((r) => r.status === 409)).toEqual([]);
    const changes = [...stored.values()].reduce((sum, statuses) => sum + statuses.filter((status) => status !== 'null').length, 0);
    expect(statusWrites.filter((r) => r.status < 400)).toHaveLength(changes);
    expect(changes).toBeGreaterThanOrEqual(names.length * 2);
    expect(changes).toBeLessThanOrEqual(names.length * 3);
  });

  it('does not try to create a Deployment it does not own again at every resync', async () => {
    env = await startEnv({ resyncPeriodMs: 100 });
    const { server, api, ns } = env;
    await api.create({ group: 'apps', version: 'v1', plural: 'deployments' }, ns, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'orders-kafka', namespace: ns },
      spec: {
        selector: { matchLabels: { app: 'x' } },
        template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x', image: 'x' }] } },
      },
    });
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders'));
    await eventually(() => readyOf(getTrigger(server, ns, 'orders'))?.reason === 'DeploymentNotOwned', 'DeploymentNotOwned');
    const refused = async (): Promise<number> => (await env!.controller.metrics.reconciles.get()).values.find((v) => v.labels.result === 'refused')?.value ?? 0;
    const before = await refused();
    server.resetRequests();
    await sleepMs(1000);
    expect(await refused()).toBeGreaterThanOrEqual(before + 3); // the resync did look, and refused again
    expect(server.requests.filter((r) => r.resource === 'deployments' && ['create', 'patch', 'update'].includes(r.verb))).toEqual([]);
  });

  it('asks every watch for bookmarks', async () => {
    env = await startEnv();
    await eventually(() => env!.controller.synced, 'synced');
    await eventually(() => env!.server.requests.some((r) => r.verb === 'watch'), 'a watch');
    const watches = env.server.requests.filter((r) => r.verb === 'watch');
    expect(watches.filter((r) => !r.query.includes('allowWatchBookmarks=true'))).toEqual([]);
  });
});
