/**
 * spec.autoscaling end to end against the API server double: the controller writes a KEDA
 * ScaledObject (and TriggerAuthentication) per trigger when the API server serves keda.sh/v1alpha1,
 * and a fixed replica count with a condition and an Event when it does not; KEDA installed later is
 * picked up without a restart; the replica count KEDA writes is never fought over.
 */
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../controller/kube.js';
import type { Trigger } from '../../render/trigger.js';
import { REAL_CLUSTER_KUBECONFIG, kubeRequest } from '../support/apiserver/real-cluster.js';
import { repoRoot } from '../support/run-kurier.js';
import { applies, editLive, eventsIn, eventually, getDeployment, getTrigger, kafkaTrigger, readyOf, sleepMs, startEnv, TRIGGERS, type Env } from './harness.js';

const KEDA_CRDS = `${repoRoot}test/support/keda-crds.yaml`;

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const scaledObject = (e: Env, name: string): KubeObject | undefined => e.server.store.get('keda.sh/v1alpha1', 'ScaledObject', e.ns, name) as KubeObject | undefined;
const triggerAuthentication = (e: Env, name: string): KubeObject | undefined =>
  e.server.store.get('keda.sh/v1alpha1', 'TriggerAuthentication', e.ns, name) as KubeObject | undefined;
const autoscalingOf = (trigger: Trigger | undefined): { status: string; reason: string; message: string } | undefined =>
  trigger?.status?.conditions?.find((c) => c.type === 'Autoscaling');
const replicasOf = (e: Env, name: string): number | undefined => (getDeployment(e.server, e.ns, name)?.['spec'] as { replicas?: number } | undefined)?.replicas;

/** The fields of the Deployment `manager` owns, as the API server recorded them. */
function ownedBy(deployment: KubeObject | undefined, manager: string): string {
  const entries = (deployment?.metadata as { managedFields?: { manager: string; fieldsV1?: unknown }[] } | undefined)?.managedFields ?? [];
  return JSON.stringify(entries.filter((entry) => entry.manager === manager).map((entry) => entry.fieldsV1));
}

/** Edits a trigger as `kubectl edit` does: read from the server, change, write back, again on 409. */
async function editTrigger(e: Env, name: string, change: (spec: Record<string, unknown>) => void): Promise<void> {
  await editLive(() => e.api.get(TRIGGERS, e.ns, name), (current) => {
    change(current['spec'] as Record<string, unknown>);
    return e.api.replace(TRIGGERS, e.ns, name, current);
  }, `trigger ${name}`);
}

/** Scales the Deployment through its /scale subresource as KEDA's HPA does (an Update by another manager). */
async function scaleAsKeda(e: Env, name: string, replicas: number): Promise<void> {
  expect(await mergePatch(e, `/apis/apps/v1/namespaces/${e.ns}/deployments/${name}/scale`, { spec: { replicas } }, 'kube-controller-manager/v1.32 (horizontal-pod-autoscaler)')).toBe(200);
}

/** A merge patch as another writer sends it: over plain HTTP to the double, with the test's credentials to a real cluster. */
async function mergePatch(e: Env, path: string, body: unknown, userAgent = 'kubectl/v1.32'): Promise<number> {
  if (REAL_CLUSTER_KUBECONFIG !== undefined) {
    await kubeRequest(e.server.kubeConfig(), 'PATCH', path, body, 'application/merge-patch+json');
    return 200;
  }
  const response = await fetch(`${e.server.url}${path}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json', 'user-agent': userAgent },
    body: JSON.stringify(body),
  });
  return response.status;
}

/** KEDA's CRDs are cluster-wide: on a shared real cluster a test cannot have them absent while others install them. */
const KEDA_ABSENT_SKIP = 'needs a cluster without KEDA\'s CRDs, which the other tests install cluster-wide: runs against the API server double';

const autoscaled = (e: Env, name: string, autoscaling: Record<string, unknown>, kafka: Record<string, unknown> = {}): KubeObject => {
  const trigger = kafkaTrigger(e.ns, name, 'orders', { autoscaling });
  Object.assign((trigger['spec'] as { kafka: object }).kafka, kafka);
  return trigger;
};

describe('spec.autoscaling: the controller and KEDA', () => {
  it('without KEDA: runs minReplicas, says so in an Autoscaling condition naming the missing CRDs and a Warning Event, writes nothing to keda.sh', async (ctx) => {
    if (REAL_CLUSTER_KUBECONFIG !== undefined) ctx.skip(KEDA_ABSENT_SKIP);
    env = await startEnv();
    await env.api.create(TRIGGERS, env.ns, autoscaled(env, 'orders', { minReplicas: 2, maxReplicas: 6 }));
    const condition = await eventually(() => autoscalingOf(getTrigger(env!.server, env!.ns, 'orders')), 'the Autoscaling condition');
    expect(condition).toMatchObject({ status: 'False', reason: 'KedaNotInstalled' });
    expect(condition.message).toContain('scaledobjects.keda.sh');
    expect(condition.message).toContain('running 2 replica(s)');
    expect(replicasOf(env, 'orders-kafka')).toBe(2);
    expect(readyOf(getTrigger(env.server, env.ns, 'orders'))?.reason).not.toBe('Forbidden');
    await eventually(() => eventsIn(env!.server, env!.ns).find((ev) => ev.reason === 'KedaNotInstalled' && ev.type === 'Warning'), 'the Warning Event');
    expect(env.server.requests.filter((r) => r.group === 'keda.sh' && r.verb !== 'discovery')).toEqual([]);
  });

  it('minReplicas 0 without KEDA still runs one replica', async (ctx) => {
    if (REAL_CLUSTER_KUBECONFIG !== undefined) ctx.skip(KEDA_ABSENT_SKIP);
    env = await startEnv();
    await env.api.create(TRIGGERS, env.ns, autoscaled(env, 'orders', { maxReplicas: 6 }));
    await eventually(() => autoscalingOf(getTrigger(env!.server, env!.ns, 'orders')), 'the Autoscaling condition');
    expect(replicasOf(env, 'orders-kafka')).toBe(1);
  });

  it('KEDA installed later: the ScaledObject is written without a restart, and Kurier lets go of replicas', async (ctx) => {
    if (REAL_CLUSTER_KUBECONFIG !== undefined) ctx.skip(KEDA_ABSENT_SKIP);
    env = await startEnv({ kedaDiscoveryPeriodMs: 200 });
    await env.api.create(TRIGGERS, env.ns, autoscaled(env, 'orders', { minReplicas: 0, maxReplicas: 6, lagThreshold: 40 }));
    await eventually(() => autoscalingOf(getTrigger(env!.server, env!.ns, 'orders'))?.reason === 'KedaNotInstalled', 'KedaNotInstalled');
    expect(ownedBy(getDeployment(env.server, env.ns, 'orders-kafka'), 'kurier-controller')).toContain('f:replicas');

    env.server.installCrds(KEDA_CRDS);
    const so = await eventually(() => scaledObject(env!, 'orders-kafka'), 'the ScaledObject');
    new ScaledObject(so as never).validate();
    expect(so).toMatchObject({
      metadata: { ownerReferences: [{ kind: 'KafkaTrigger', name: 'orders', controller: true }] },
      spec: { scaleTargetRef: { name: 'orders-kafka' }, minReplicaCount: 0, maxReplicaCount: 6, triggers: [{ type: 'kafka', metadata: { lagThreshold: '40', topic: 'orders' } }] },
    });
    const condition = await eventually(() => { const c = autoscalingOf(getTrigger(env!.server, env!.ns, 'orders')); return c?.status === 'True' ? c : undefined; }, 'Autoscaling=True');
    expect(condition.reason).toBe('KedaScaling');
    await eventually(() => !ownedBy(getDeployment(env!.server, env!.ns, 'orders-kafka'), 'kurier-controller').includes('f:replicas'), 'replicas no longer Kurier\'s');
    expect(triggerAuthentication(env, 'orders-kafka')).toBeUndefined();
  });

  it('KEDA uninstalled: back to minReplicas from Kurier and KedaNotInstalled, without a restart', async (ctx) => {
    if (REAL_CLUSTER_KUBECONFIG !== undefined) ctx.skip(KEDA_ABSENT_SKIP);
    env = await startEnv({ kedaDiscoveryPeriodMs: 200, extraCrds: [KEDA_CRDS] });
    await env.api.create(TRIGGERS, env.ns, autoscaled(env, 'orders', { minReplicas: 3, maxReplicas: 6 }));
    await eventually(() => autoscalingOf(getTrigger(env!.server, env!.ns, 'orders'))?.status === 'True', 'Autoscaling=True');
    await scaleAsKeda(env, 'orders-kafka', 5);
    for (const crd of ['scaledobjects.keda.sh', 'triggerauthentications.keda.sh']) {
      const response = await fetch(`${env.server.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`, { method: 'DELETE' });
      expect(response.status).toBe(200);
    }
    await eventually(() => autoscalingOf(getTrigger(env!.server, env!.ns, 'orders'))?.reason === 'KedaNotInstalled', 'KedaNotInstalled');
    await eventually(() => replicasOf(env!, 'orders-kafka') === 3, 'minReplicas from Kurier');
  });

  it('a TriggerAuthentication from the trigger\'s Secret references, and both objects deleted when spec.autoscaling goes', async () => {
    env = await startEnv({ extraCrds: [KEDA_CRDS] });
    const ref = { name: 'kafka-creds', key: 'password' };
    await env.api.create(TRIGGERS, env.ns, autoscaled(env, 'orders', { maxReplicas: 4 }, { sasl: { mechanism: 'scram-sha-256', username: 'svc', passwordSecretRef: ref } }));
    const ta = await eventually(() => triggerAuthentication(env!, 'orders-kafka'), 'the TriggerAuthentication');
    new TriggerAuthentication(ta as never).validate();
    expect(ta['spec']).toEqual({ secretTargetRef: [{ parameter: 'password', ...ref }] });
    const so = await eventually(() => scaledObject(env!, 'orders-kafka'), 'the ScaledObject');
    expect(so).toMatchObject({ spec: { triggers: [{ authenticationRef: { name: 'orders-kafka' }, metadata: { sasl: 'scram-sha-256', username: 'svc' } }] } });
    expect(replicasOf(env, 'orders-kafka')).toBe(1); // the API server's default, not Kurier's
    expect(ownedBy(getDeployment(env.server, env.ns, 'orders-kafka'), 'kurier-controller')).not.toContain('f:replicas');

    await editTrigger(env, 'orders', (spec) => {
      delete spec['autoscaling'];
    });
    await eventually(() => scaledObject(env!, 'orders-kafka') === undefined && triggerAuthentication(env!, 'orders-kafka') === undefined, 'both KEDA objects deleted');
    await eventually(() => autoscalingOf(getTrigger(env!.server, env!.ns, 'orders')) === undefined, 'the Autoscaling condition removed');
    const reasons = eventsIn(env.server, env.ns).map((ev) => ev.reason);
    expect(reasons).toEqual(expect.arrayContaining(['TriggerAuthenticationCreated', 'ScaledObjectCreated', 'ScaledObjectDeleted', 'TriggerAuthenticationDeleted']));
  });

  it('does not fight KEDA over replicas: a scale through /scale survives trigger edits and resyncs; a ScaledObject edited or deleted by hand is put back', async () => {
    env = await startEnv({ resyncPeriodMs: 150, extraCrds: [KEDA_CRDS] });
    await env.api.create(TRIGGERS, env.ns, autoscaled(env, 'orders', { minReplicas: 0, maxReplicas: 6 }));
    await eventually(() => scaledObject(env!, 'orders-kafka'), 'the ScaledObject');
    await scaleAsKeda(env, 'orders-kafka', 0);
    await editTrigger(env, 'orders', (spec) => {
      (spec['kafka'] as { topic: string }).topic = 'orders-v2';
    });
    await eventually(() => getTrigger(env!.server, env!.ns, 'orders')?.status?.observedGeneration === 2, 'the edit reconciled');
    await eventually(() => (scaledObject(env!, 'orders-kafka')?.['spec'] as { triggers: { metadata: { topic: string } }[] }).triggers[0]?.metadata.topic === 'orders-v2', 'the ScaledObject follows the topic');
    await sleepMs(600); // several resyncs
    expect(replicasOf(env, 'orders-kafka')).toBe(0);
    await scaleAsKeda(env, 'orders-kafka', 5);
    await sleepMs(600);
    expect(replicasOf(env, 'orders-kafka')).toBe(5);

    // resyncs of a converged trigger write nothing to keda.sh
    const before = applies(env.server.requests, 'scaledobjects').length;
    await sleepMs(600);
    expect(applies(env.server.requests, 'scaledobjects').length).toBe(before);

    expect(await mergePatch(env, `/apis/keda.sh/v1alpha1/namespaces/${env.ns}/scaledobjects/orders-kafka`, { spec: { maxReplicaCount: 60 } })).toBe(200);
    await eventually(() => (scaledObject(env!, 'orders-kafka')?.['spec'] as { maxReplicaCount: number }).maxReplicaCount === 6, 'maxReplicaCount put back');
    await env.api.delete({ group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects' }, env.ns, 'orders-kafka');
    await eventually(() => scaledObject(env!, 'orders-kafka'), 'the ScaledObject re-created');
  });

  it('a 403 on keda.sh is a status condition naming the request, and heals once the permission is there', async () => {
    env = await startEnv({ extraCrds: [KEDA_CRDS] });
    const lift = env.server.faults.forbid((r) => r.group === 'keda.sh' && r.resource === 'scaledobjects' && r.verb !== 'discovery');
    await env.api.create(TRIGGERS, env.ns, autoscaled(env, 'orders', { maxReplicas: 3 }));
    const ready = await eventually(() => { const c = readyOf(getTrigger(env!.server, env!.ns, 'orders')); return c?.reason === 'Forbidden' ? c : undefined; }, 'Ready=False Forbidden');
    expect(ready.status).toBe('False');
    expect(ready.message).toContain('scaledobjects.keda.sh "orders-kafka"');
    await eventually(() => eventsIn(env!.server, env!.ns).find((ev) => ev.reason === 'Forbidden'), 'the Warning Event');
    lift();
    await eventually(() => scaledObject(env!, 'orders-kafka'), 'the ScaledObject after the permission came', 15_000);
    await eventually(() => autoscalingOf(getTrigger(env!.server, env!.ns, 'orders'))?.status === 'True', 'Autoscaling=True');
    expect(readyOf(getTrigger(env.server, env.ns, 'orders'))?.reason).not.toBe('Forbidden');
  });

  it('leaves a ScaledObject of the same name that is not its own untouched, and says so', async () => {
    env = await startEnv({ extraCrds: [KEDA_CRDS] });
    const foreign = { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'orders-kafka', namespace: env.ns }, spec: { scaleTargetRef: { name: 'other' }, triggers: [{ type: 'cron', metadata: {} }] } };
    await env.api.create({ group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects' }, env.ns, foreign);
    await env.api.create(TRIGGERS, env.ns, autoscaled(env, 'orders', { maxReplicas: 3 }));
    const condition = await eventually(() => autoscalingOf(getTrigger(env!.server, env!.ns, 'orders')), 'the Autoscaling condition');
    expect(condition).toMatchObject({ status: 'False', reason: 'KedaObjectNotOwned' });
    expect((scaledObject(env, 'orders-kafka')?.['spec'] as { scaleTargetRef: { name: string } }).scaleTargetRef.name).toBe('other');
  });
});
