/**
 * The controller against its own API server double per test, through the real client: what it
 * writes, and what it refuses to write.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEPLOYMENTS } from '../../controller/kube.js';
import {
  describeWrites,
  envOf,
  eventsIn,
  editLive,
  eventually,
  getDeployment,
  getTrigger,
  kafkaTrigger,
  makeController,
  readyOf,
  sleepMs,
  startEnv,
  TRIGGERS,
  writes,
  type Env,
} from './harness.js';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function converged(e: Env, name: string): Promise<void> {
  await eventually(() => getTrigger(e.server, e.ns, name)?.status?.deployment !== undefined, `status of ${name}`);
  await eventually(() => e.controller.queue.length === 0, 'an empty queue');
  await sleepMs(150);
}

describe('controller reconcile', () => {
  it('creates the Deployment with owner reference, labels and status, and records an Event', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders'));
    const deployment = await eventually(() => getDeployment(server, ns, 'orders-kafka'), 'the Deployment');
    const trigger = getTrigger(server, ns, 'orders');
    expect(deployment.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'KafkaTrigger', name: 'orders', uid: trigger?.metadata.uid, controller: true }),
    ]);
    expect(deployment.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'kurier', 'kurier.dev/trigger': 'orders', 'kurier.dev/kind': 'kafkatrigger' });
    expect(envOf(deployment)).toMatchObject({ KAFKA_TOPIC: 'orders', TRIGGER_NAME: 'orders', TRIGGER_NAMESPACE: ns });
    await converged(env, 'orders');
    const status = getTrigger(server, ns, 'orders')?.status;
    expect(status?.deployment).toEqual({ name: 'orders-kafka', namespace: ns });
    expect(status?.observedGeneration).toBe(1);
    expect(readyOf(getTrigger(server, ns, 'orders'))).toMatchObject({ status: 'False', reason: 'DeploymentNotReady' });
    expect(eventsIn(server, ns).map((e) => e.reason)).toContain('DeploymentCreated');
    const ours = describeWrites(server.requests).filter((w) => !w.startsWith('create kafkatriggers'));
    expect(ours.filter((w) => w === 'patch deployments')).toHaveLength(1);
    expect(ours.filter((w) => w.startsWith('update deployments') || w.startsWith('create deployments'))).toEqual([]);
  });

  it('writes nothing when converged, across resyncs', async () => {
    env = await startEnv({ resyncPeriodMs: 200 });
    const { server, api, ns, controller } = env;
    for (const name of ['a', 'b', 'c']) await api.create(TRIGGERS, ns, kafkaTrigger(ns, name, `topic-${name}`));
    await server.setDeploymentReady(ns, (await eventually(() => getDeployment(server, ns, 'a-kafka'), 'a')).metadata.name, true);
    for (const name of ['a', 'b', 'c']) await converged(env, name);
    await eventually(() => readyOf(getTrigger(server, ns, 'a'))?.status === 'True', 'a Ready');
    await sleepMs(300);
    server.resetRequests();
    const before = (await controller.metrics.reconciles.get()).values.reduce((s, v) => s + v.value, 0);
    await sleepMs(700);
    const after = (await controller.metrics.reconciles.get()).values.reduce((s, v) => s + v.value, 0);
    expect(after - before).toBeGreaterThanOrEqual(6);
    expect(describeWrites(server.requests)).toEqual([]);
  });

  it('writes nothing when a restarted controller finds converged state (API server defaults are no drift)', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders', 'orders', { replicas: 2 }));
    await eventually(() => getDeployment(server, ns, 'orders-kafka'), 'the Deployment');
    await converged(env, 'orders');
    await env.controller.stop();
    server.resetRequests();
    const second = await makeController(server);
    await second.start();
    env.controller = second;
    await eventually(async () => ((await second.metrics.reconciles.get()).values.find((v) => v.labels.result === 'success')?.value ?? 0) >= 1, 'a reconcile');
    await sleepMs(300);
    expect(describeWrites(server.requests)).toEqual([]);
  });

  it('rolls the Deployment when the trigger topic changes, leaving nothing of the old spec', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders', 'orders-v1'));
    const first = await eventually(() => getDeployment(server, ns, 'orders-kafka'), 'the Deployment');
    await converged(env, 'orders');
    await editLive(() => getTrigger(server, ns, 'orders'), (live) => api.replace(TRIGGERS, ns, 'orders', {
      ...(live as never as Record<string, unknown>),
      metadata: live.metadata,
      spec: { ...live.spec, kafka: { brokers: ['kafka.kafka:9092'], topic: 'orders-v2' } },
    }), 'the trigger');
    const rolled = await eventually(() => {
      const d = getDeployment(server, ns, 'orders-kafka');
      return envOf(d)['KAFKA_TOPIC'] === 'orders-v2' ? d : undefined;
    }, 'the rolled Deployment');
    expect(rolled.metadata.generation).toBeGreaterThan(first.metadata.generation ?? 0);
    expect(rolled.metadata.annotations?.['kurier.dev/spec-hash']).not.toBe(first.metadata.annotations?.['kurier.dev/spec-hash']);
    expect(JSON.stringify(rolled['spec'])).not.toContain('orders-v1');
    expect(server.store.list('apps/v1', 'Deployment', ns)).toHaveLength(1);
    await eventually(() => getTrigger(server, ns, 'orders')?.status?.observedGeneration === 2, 'observedGeneration 2');
  });

  it('restores a deleted Deployment and puts back a hand-edited one', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders'));
    await eventually(() => getDeployment(server, ns, 'orders-kafka'), 'the Deployment');
    await converged(env, 'orders');
    const original = getDeployment(server, ns, 'orders-kafka');
    const image = (original?.['spec'] as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image;

    await api.delete(DEPLOYMENTS, ns, 'orders-kafka');
    const recreated = await eventually(() => {
      const d = getDeployment(server, ns, 'orders-kafka');
      return d !== undefined && d.metadata.uid !== original?.metadata.uid ? d : undefined;
    }, 'the recreated Deployment');

    type Spec = { replicas?: number; template: { spec: { containers: { name: string; image: string }[] } } };
    const edit = await editLive(() => getDeployment(server, ns, 'orders-kafka') ?? recreated, (edited) => {
      const spec = edited['spec'] as Spec;
      for (const c of spec.template.spec.containers) if (c.name === 'dispatcher') c.image = 'evil/image:latest';
      spec.replicas = 7;
      return api.replace(DEPLOYMENTS, ns, 'orders-kafka', edited);
    }, 'the Deployment');
    // a later generation than the edit's: on a real cluster the watch cache may still show the object before the edit
    await eventually(() => {
      const d = getDeployment(server, ns, 'orders-kafka');
      const s = d?.['spec'] as Spec | undefined;
      return (d?.metadata.generation ?? 0) > (edit.metadata.generation ?? 0) && s?.template.spec.containers.find((c) => c.name === 'dispatcher')?.image === image;
    }, 'the edit to be undone');
    // replicas are not Kurier's while the trigger leaves spec.replicas unset: an autoscaler may own them
    expect((getDeployment(server, ns, 'orders-kafka')?.['spec'] as Spec).replicas).toBe(7);
  });

  it('leaves a kubectl rollout restart alone (an added pod-template annotation is not drift)', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders'));
    await eventually(() => getDeployment(server, ns, 'orders-kafka'), 'the Deployment');
    await converged(env, 'orders');
    const after = await editLive(() => getDeployment(server, ns, 'orders-kafka'), (restarted) => {
      const template = (restarted['spec'] as { template: { metadata: { annotations?: Record<string, string> } } }).template;
      template.metadata.annotations = { ...template.metadata.annotations, 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' };
      return api.replace(DEPLOYMENTS, ns, 'orders-kafka', restarted);
    }, 'the Deployment');
    server.resetRequests();
    env.controller.enqueueAll();
    await sleepMs(400);
    expect(writes(server.requests).filter((r) => r.resource === 'deployments')).toEqual([]);
    // the Deployment controller may still write status (a new resourceVersion); the spec is untouched
    expect(getDeployment(server, ns, 'orders-kafka')?.metadata.generation).toBe(after.metadata.generation);
    expect(getDeployment(server, ns, 'orders-kafka')?.['spec']).toEqual(after.spec);
  });

  it('puts back an owner reference someone removed from its Deployment', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders'));
    const d = await eventually(() => getDeployment(server, ns, 'orders-kafka'), 'the Deployment');
    await converged(env, 'orders');
    await editLive(() => getDeployment(server, ns, 'orders-kafka') ?? d, (stripped) => {
      delete stripped.metadata.ownerReferences;
      return api.replace(DEPLOYMENTS, ns, 'orders-kafka', stripped);
    }, 'the Deployment');
    await eventually(() => getDeployment(server, ns, 'orders-kafka')?.metadata.ownerReferences?.[0]?.uid === getTrigger(server, ns, 'orders')?.metadata.uid, 'the owner reference back');
    expect(readyOf(getTrigger(server, ns, 'orders'))?.reason).not.toBe('DeploymentNotOwned');
  });

  it('refuses a Deployment controlled by something else, even with kurier labels', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    // a real owner, or the garbage collector would remove the Deployment: a second KafkaTrigger
    const owner = await api.create(TRIGGERS, ns, { ...kafkaTrigger(ns, 'someone-else'), spec: { ...(kafkaTrigger(ns, 'x')['spec'] as object), replicas: 0 } });
    await api.create(DEPLOYMENTS, ns, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'orders-kafka',
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'kurier', 'kurier.dev/trigger': 'orders', 'kurier.dev/kind': 'kafkatrigger', 'kurier.dev/trigger-namespace': ns },
        ownerReferences: [{ apiVersion: 'kurier.dev/v1alpha1', kind: 'KafkaTrigger', name: 'someone-else', uid: owner.metadata.uid ?? '', controller: true }],
      },
      spec: {
        selector: { matchLabels: { app: 'x' } },
        template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
      },
    });
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders'));
    await eventually(() => readyOf(getTrigger(server, ns, 'orders'))?.reason === 'DeploymentNotOwned', 'DeploymentNotOwned');
    expect(getDeployment(server, ns, 'orders-kafka')?.metadata.ownerReferences?.[0]?.uid).toBe(owner.metadata.uid);
  });

  it('refuses a Deployment it does not own and leaves it untouched', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    const foreign = await api.create(DEPLOYMENTS, ns, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'orders-kafka', namespace: ns, labels: { app: 'someone-else' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'someone-else' } },
        template: { metadata: { labels: { app: 'someone-else' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
      },
    });
    server.resetRequests();
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders'));
    const ready = await eventually(() => readyOf(getTrigger(server, ns, 'orders')), 'Ready condition');
    expect(ready).toMatchObject({ status: 'False', reason: 'DeploymentNotOwned' });
    expect(ready.message).toContain(`${ns}/orders-kafka`);
    await eventually(() => eventsIn(server, ns).find((e) => e.reason === 'DeploymentNotOwned' && e.type === 'Warning'), 'a Warning Event');
    await sleepMs(300);
    expect(getDeployment(server, ns, 'orders-kafka')?.metadata.generation).toBe(foreign.metadata.generation);
    expect(getDeployment(server, ns, 'orders-kafka')?.['spec']).toEqual(foreign.spec);
    expect(getDeployment(server, ns, 'orders-kafka')?.metadata.labels).toEqual(foreign.metadata.labels);
    expect(writes(server.requests).filter((r) => r.resource === 'deployments')).toEqual([]);
  });

  it('reports a trigger the policy refuses with the field path, does not retry it, and recovers when fixed', async () => {
    env = await startEnv();
    const { server, api, ns, controller } = env;
    await api.create(
      TRIGGERS,
      ns,
      kafkaTrigger(ns, 'orders', 'orders', { deployment: { spec: { template: { spec: { hostNetwork: true } } } } }),
    );
    const ready = await eventually(() => readyOf(getTrigger(server, ns, 'orders')), 'Ready condition');
    expect(ready).toMatchObject({ status: 'False', reason: 'RenderRefused' });
    expect(ready.message).toContain('spec.deployment.spec.template.spec.hostNetwork');
    await eventually(() => eventsIn(server, ns).find((e) => e.type === 'Warning' && e.reason === 'RenderRefused'), 'a Warning Event');
    expect(getDeployment(server, ns, 'orders-kafka')).toBeUndefined();
    await sleepMs(200);
    const refusedBefore = (await controller.metrics.reconciles.get()).values.find((v) => v.labels.result === 'invalid')?.value ?? 0;
    await sleepMs(600);
    const refusedAfter = (await controller.metrics.reconciles.get()).values.find((v) => v.labels.result === 'invalid')?.value ?? 0;
    expect(refusedAfter - refusedBefore).toBe(0);

    await editLive(() => getTrigger(server, ns, 'orders'), (live) => api.replace(TRIGGERS, ns, 'orders', { ...(live as never as Record<string, unknown>), metadata: live.metadata, spec: { ...live.spec, deployment: {} } }), 'the trigger');
    await eventually(() => getDeployment(server, ns, 'orders-kafka'), 'the Deployment after the fix');
    await eventually(() => readyOf(getTrigger(server, ns, 'orders'))?.reason === 'DeploymentNotReady', 'the refusal to clear');
  });

  it('reports an invalid trigger with the field path and recovers when fixed', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    const bad = kafkaTrigger(ns, 'orders');
    // valid for the CRD schema, so the API server stores it; only the controller's semantic check rejects it
    (bad['spec'] as { kafka: Record<string, unknown> }).kafka = { brokers: ['kafka.kafka:9092'], topic: 'orders', sessionTimeout: '10s', heartbeatInterval: '20s' };
    await api.create(TRIGGERS, ns, bad);
    const ready = await eventually(() => readyOf(getTrigger(server, ns, 'orders')), 'Ready condition');
    expect(ready).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(ready.message).toContain('spec.kafka.heartbeatInterval');
    await eventually(() => eventsIn(server, ns).find((e) => e.type === 'Warning' && e.reason === 'InvalidSpec'), 'a Warning Event');
    expect(getDeployment(server, ns, 'orders-kafka')).toBeUndefined();
    await editLive(() => getTrigger(server, ns, 'orders'), (live) => api.replace(TRIGGERS, ns, 'orders', {
      ...(live as never as Record<string, unknown>),
      metadata: live.metadata,
      spec: { ...live.spec, kafka: { brokers: ['kafka.kafka:9092'], topic: 'orders', sessionTimeout: '10s', heartbeatInterval: '3s' } },
    }), 'the trigger');
    await eventually(() => getDeployment(server, ns, 'orders-kafka'), 'the Deployment after the fix');
  });

  it('mirrors the Deployment readiness into the trigger status', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'orders', 'orders', { replicas: 2 }));
    await eventually(() => getDeployment(server, ns, 'orders-kafka'), 'the Deployment');
    await server.setDeploymentReady(ns, 'orders-kafka', true);
    await eventually(() => readyOf(getTrigger(server, ns, 'orders'))?.status === 'True', 'Ready=True');
    expect(getTrigger(server, ns, 'orders')?.status).toMatchObject({ replicas: 2, readyReplicas: 2 });
    await server.setDeploymentReady(ns, 'orders-kafka', false);
    await eventually(() => readyOf(getTrigger(server, ns, 'orders'))?.status === 'False', 'Ready=False again');
    expect(getTrigger(server, ns, 'orders')?.status?.readyReplicas).toBe(0);
  });

  it('reports a Deployment left by kubeless-pulsar-trigger and never deletes it', async () => {
    env = await startEnv();
    const { server, api, ns } = env;
    await api.create(DEPLOYMENTS, ns, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'payments', namespace: ns, labels: { 'created-by': 'kubeless-pulsar-trigger' } },
      spec: {
        selector: { matchLabels: { 'created-by': 'kubeless-pulsar-trigger' } },
        template: { metadata: { labels: { 'created-by': 'kubeless-pulsar-trigger' } }, spec: { containers: [{ name: 'd', image: 'old' }] } },
      },
    });
    await api.create({ ...TRIGGERS, plural: 'pulsartriggers' }, ns, {
      apiVersion: 'kurier.dev/v1alpha1',
      kind: 'PulsarTrigger',
      metadata: { name: 'payments', namespace: ns },
      spec: { pulsar: { broker: 'pulsar://pulsar:6650', topic: 'payments' }, kubeless: { function: 'http://payments.fn:8080' } },
    });
    const legacy = await eventually(
      () => getTrigger(server, ns, 'payments', 'PulsarTrigger')?.status?.conditions?.find((c) => c.type === 'LegacyDeployment'),
      'the LegacyDeployment condition',
    );
    expect(legacy).toMatchObject({ status: 'True', reason: 'LegacyDeploymentFound' });
    expect(legacy.message).toContain(`${ns}/payments`);
    await eventually(() => eventsIn(server, ns).find((e) => e.type === 'Warning' && e.reason === 'LegacyDeploymentFound'), 'a Warning Event');
    expect(getDeployment(server, ns, 'payments')).toBeDefined();
    expect(getDeployment(server, ns, 'payments-pulsar')).toBeDefined();
    // once the user deletes it, the report goes away
    await api.delete(DEPLOYMENTS, ns, 'payments');
    await eventually(
      () => getTrigger(server, ns, 'payments', 'PulsarTrigger')?.status?.conditions?.every((c) => c.type !== 'LegacyDeployment'),
      'the LegacyDeployment condition to be removed',
    );
  });

  it('reconciles only the namespaces it was given', async () => {
    const other = `x-${Math.random().toString(16).slice(2, 8)}`;
    env = await startEnv({ extraNamespaces: [other] });
    await env.controller.stop();
    const scoped = await makeController(env.server, { namespaces: [env.ns] });
    await scoped.start();
    env.controller = scoped;
    const { server, api, ns } = env;
    await api.create(TRIGGERS, other, kafkaTrigger(other, 'elsewhere'));
    await api.create(TRIGGERS, ns, kafkaTrigger(ns, 'here'));
    await eventually(() => getDeployment(server, ns, 'here-kafka'), 'the Deployment in the watched namespace');
    await sleepMs(300);
    expect(getDeployment(server, other, 'elsewhere-kafka')).toBeUndefined();
    expect(server.requests.some((r) => r.namespace === other && r.verb !== 'create')).toBe(false);
  });
});
