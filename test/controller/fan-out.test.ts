/**
 * Fan-out (`spec.functionSelector`) against the API server double: the controller watches Services,
 * keeps the targets ConfigMap current without touching the Deployment, and reports the targets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_MAPS, SERVICES, type KubeObject } from '../../controller/kube.js';
import type { Trigger } from '../../render/trigger.js';
import {
  applies,
  envOf,
  eventually,
  getDeployment,
  getTrigger,
  kafkaTrigger,
  kubectl,
  kubectlAvailable,
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

const FN_LABEL = 'kurier.dev/function';

function fanOutTrigger(ns: string, name: string, selector: Record<string, unknown> = { matchLabels: { [FN_LABEL]: 'orders' } }): KubeObject {
  const trigger = kafkaTrigger(ns, name);
  const spec = trigger['spec'] as Record<string, unknown>;
  delete spec['function'];
  spec['functionSelector'] = selector;
  return trigger;
}

function service(ns: string, name: string, labels: Record<string, string>, ports: { name?: string; port: number }[] = [{ port: 8080 }]): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, labels }, spec: { selector: { app: name }, ports } };
}

const orders = { [FN_LABEL]: 'orders' };

function configMap(e: Env, name: string): KubeObject | undefined {
  return e.server.store.get('v1', 'ConfigMap', e.ns, name) as KubeObject | undefined;
}

/** The target names in the ConfigMap's targets.json. */
function targetNames(e: Env, name = 'orders-kafka-targets'): string[] | undefined {
  const data = configMap(e, name)?.['data'] as Record<string, string> | undefined;
  const text = data?.['targets.json'];
  return text === undefined ? undefined : (JSON.parse(text) as { targets: { name: string }[] }).targets.map((t) => t.name);
}

async function targetsBecome(e: Env, names: string[], what: string): Promise<void> {
  await eventually(() => JSON.stringify(targetNames(e)) === JSON.stringify(names), `${what}: targets ${names.join(', ')}`, 15_000);
}

describe('fan-out: spec.functionSelector', () => {
  it('follows Services as they appear, leave and change labels, writing only the ConfigMap, never the Deployment', async () => {
    env = await startEnv();
    const e = env;
    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn-a', orders, [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }]));
    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn-b', orders, [{ port: 80 }]));
    await e.api.create(SERVICES, e.ns, service(e.ns, 'other', { [FN_LABEL]: 'payments' }));
    await e.api.create(TRIGGERS, e.ns, fanOutTrigger(e.ns, 'orders'));

    await targetsBecome(e, ['fn-a', 'fn-b'], 'two matching Services');
    const data = configMap(e, 'orders-kafka-targets')?.['data'] as Record<string, string>;
    expect(data).toEqual({
      'targets.json': `{"targets":[{"name":"fn-a","url":"http://fn-a.${e.ns}.svc.cluster.local:8080/"},{"name":"fn-b","url":"http://fn-b.${e.ns}.svc.cluster.local:80/"}]}`,
    });
    await eventually(() => getTrigger(e.server, e.ns, 'orders')?.status?.targets?.count === 2, 'status.targets.count 2');
    expect(getTrigger(e.server, e.ns, 'orders')?.status?.targets).toEqual({ count: 2, names: ['fn-a', 'fn-b'] });
    const deployment = getDeployment(e.server, e.ns, 'orders-kafka')!;
    expect(envOf(deployment)['FUNCTION_TARGETS_FILE']).toBe('/etc/kurier/targets/targets.json');
    expect(envOf(deployment)['FUNCTION_URL']).toBeUndefined();
    const generation = deployment.metadata.generation;
    const deploymentApplies = applies(e.server.requests).length;

    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn-c', orders));
    await targetsBecome(e, ['fn-a', 'fn-b', 'fn-c'], 'a third Service');
    await eventually(() => getTrigger(e.server, e.ns, 'orders')?.status?.targets?.count === 3, 'status.targets.count 3');

    await e.api.delete(SERVICES, e.ns, 'fn-a');
    await targetsBecome(e, ['fn-b', 'fn-c'], 'one Service deleted');

    const b = (await e.api.get(SERVICES, e.ns, 'fn-b'))!;
    await e.api.replace(SERVICES, e.ns, 'fn-b', { ...b, metadata: { ...b.metadata, labels: { [FN_LABEL]: 'retired' } } });
    await targetsBecome(e, ['fn-c'], 'a Service relabelled away');
    const other = (await e.api.get(SERVICES, e.ns, 'other'))!;
    await e.api.replace(SERVICES, e.ns, 'other', { ...other, metadata: { ...other.metadata, labels: orders } });
    await targetsBecome(e, ['fn-c', 'other'], 'a Service relabelled in');
    await eventually(() => JSON.stringify(getTrigger(e.server, e.ns, 'orders')?.status?.targets?.names) === '["fn-c","other"]', 'status names follow');

    expect(applies(e.server.requests).length, 'no Deployment apply for target changes').toBe(deploymentApplies);
    expect(getDeployment(e.server, e.ns, 'orders-kafka')?.metadata.generation).toBe(generation);
  }, 60_000);

  it('leaves out a Service with several ports and none named http, naming it and its ports in a condition', async () => {
    env = await startEnv();
    const e = env;
    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn-ok', orders));
    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn-grpc', orders, [{ name: 'grpc', port: 9000 }, { name: 'metrics', port: 9090 }]));
    await e.api.create(TRIGGERS, e.ns, fanOutTrigger(e.ns, 'orders'));
    await targetsBecome(e, ['fn-ok'], 'only the Service with a port to choose');
    const resolved = await eventually(
      () => getTrigger(e.server, e.ns, 'orders')?.status?.conditions?.find((c) => c.type === 'TargetsResolved' && c.status === 'False'),
      'TargetsResolved False',
    );
    expect(resolved.reason).toBe('PortNotChosen');
    expect(resolved.message).toBe('Services left out, no port to choose: fn-grpc (ports grpc:9000, metrics:9090); name one port http (or give the Service a single port)');
    expect(readyOf(getTrigger(e.server, e.ns, 'orders'))?.reason).not.toBe('NoTargets');

    // naming one port http brings it in, and the condition turns True
    const grpc = (await e.api.get(SERVICES, e.ns, 'fn-grpc'))!;
    const spec = grpc['spec'] as { ports: { name: string }[] };
    await e.api.replace(SERVICES, e.ns, 'fn-grpc', { ...grpc, spec: { ...spec, ports: spec.ports.map((p) => (p.name === 'grpc' ? { ...p, name: 'http' } : p)) } });
    await targetsBecome(e, ['fn-grpc', 'fn-ok'], 'the Service once its port is named http');
    await eventually(() => getTrigger(e.server, e.ns, 'orders')?.status?.conditions?.some((c) => c.type === 'TargetsResolved' && c.status === 'True' && c.reason === 'AllTargetsResolved'), 'TargetsResolved True');
  }, 60_000);

  it('is not Ready with no target (NoTargets), with an empty target list, until a Service appears', async () => {
    env = await startEnv();
    const e = env;
    await e.api.create(TRIGGERS, e.ns, fanOutTrigger(e.ns, 'orders'));
    const ready = await eventually(() => { const r = readyOf(getTrigger(e.server, e.ns, 'orders')); return r?.reason === 'NoTargets' ? r : undefined; }, 'Ready False NoTargets');
    expect(ready.status).toBe('False');
    expect(ready.message).toBe(`no Service in namespace "${e.ns}" matches spec.functionSelector (${FN_LABEL}=orders) with a port to deliver to; the dispatcher consumes nothing until one does`);
    expect(configMap(e, 'orders-kafka-targets')?.['data']).toEqual({ 'targets.json': '{"targets":[]}' });
    expect(getTrigger(e.server, e.ns, 'orders')?.status?.targets).toEqual({ count: 0, names: [] });

    await e.server.setDeploymentReady(e.ns, 'orders-kafka', true);
    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn', orders));
    await targetsBecome(e, ['fn'], 'the first Service');
    await eventually(() => readyOf(getTrigger(e.server, e.ns, 'orders'))?.status === 'True', 'Ready once a target exists');
  }, 60_000);

  it('does not rewrite the ConfigMap, the Deployment or the status on unchanged resyncs', async () => {
    env = await startEnv({ resyncPeriodMs: 150 });
    const e = env;
    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn', orders));
    await e.api.create(TRIGGERS, e.ns, fanOutTrigger(e.ns, 'orders'));
    await targetsBecome(e, ['fn'], 'the Service');
    await e.server.setDeploymentReady(e.ns, 'orders-kafka', true);
    await eventually(() => readyOf(getTrigger(e.server, e.ns, 'orders'))?.status === 'True', 'Ready');
    await sleepMs(300);
    const before = writes(e.server.requests).length;
    const configMapApplies = applies(e.server.requests, 'configmaps').length;
    expect(configMapApplies).toBe(1);
    await sleepMs(1200); // eight resyncs
    expect(writes(e.server.requests).slice(before).map((r) => `${r.verb} ${r.resource}`)).toEqual([]);
    // an unrelated Service changing is no reason to write either
    await e.api.create(SERVICES, e.ns, service(e.ns, 'unrelated', { app: 'x' }));
    await sleepMs(400);
    expect(applies(e.server.requests, 'configmaps').length).toBe(1);
  }, 60_000);

  it('gives the ConfigMap the trigger as owner: deleting the trigger deletes it; dropping the selector deletes it too', async () => {
    env = await startEnv();
    const e = env;
    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn', orders));
    await e.api.create(TRIGGERS, e.ns, fanOutTrigger(e.ns, 'orders'));
    await e.api.create(TRIGGERS, e.ns, fanOutTrigger(e.ns, 'switch'));
    await targetsBecome(e, ['fn'], 'the Service');
    const trigger = getTrigger(e.server, e.ns, 'orders')!;
    expect(configMap(e, 'orders-kafka-targets')?.metadata.ownerReferences).toEqual([
      { apiVersion: 'kurier.dev/v1alpha1', kind: 'KafkaTrigger', name: 'orders', uid: trigger.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    await e.api.delete(TRIGGERS, e.ns, 'orders');
    await eventually(() => configMap(e, 'orders-kafka-targets') === undefined && getDeployment(e.server, e.ns, 'orders-kafka') === undefined, 'ConfigMap and Deployment collected');

    // the other trigger goes back to one function: its ConfigMap goes, FUNCTION_URL comes back
    await eventually(() => configMap(e, 'switch-kafka-targets') !== undefined, 'the second ConfigMap');
    // as kubectl edit does: read, change, write; again if the controller's status write came first (409)
    await eventually(async () => {
      const live = (await e.api.get(TRIGGERS, e.ns, 'switch')) as unknown as Trigger;
      const { functionSelector: _dropped, ...spec } = live.spec;
      await e.api.replace(TRIGGERS, e.ns, 'switch', { ...(live as unknown as KubeObject), spec: { ...spec, function: { url: 'http://one.shop/' } } });
      return true;
    }, 'the trigger edited');
    await eventually(() => configMap(e, 'switch-kafka-targets') === undefined, 'the unused ConfigMap deleted');
    await eventually(() => envOf(getDeployment(e.server, e.ns, 'switch-kafka'))['FUNCTION_URL'] === 'http://one.shop/', 'FUNCTION_URL again');
    await eventually(() => getTrigger(e.server, e.ns, 'switch')?.status?.targets === undefined, 'status.targets gone');
    expect(await e.api.get(CONFIG_MAPS, e.ns, 'switch-kafka-targets')).toBeUndefined();
  }, 60_000);

  it('puts the ConfigMap beside a Deployment in another namespace, owned by that Deployment, and collects it with the trigger', async () => {
    const elsewhere = `fan-${Math.random().toString(16).slice(2, 8)}`;
    env = await startEnv({ allowCrossNamespace: true, extraNamespaces: [elsewhere] });
    const e = env;
    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn', orders));
    const trigger = fanOutTrigger(e.ns, 'orders');
    (trigger['spec'] as Record<string, unknown>)['deployment'] = { metadata: { namespace: elsewhere } };
    await e.api.create(TRIGGERS, e.ns, trigger);
    const deploymentName = `${e.ns}-orders-kafka`;
    const cm = await eventually(() => e.server.store.get('v1', 'ConfigMap', elsewhere, `${deploymentName}-targets`) as KubeObject | undefined, 'the ConfigMap in the other namespace', 15_000);
    const deployment = getDeployment(e.server, elsewhere, deploymentName)!;
    expect(cm.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName, uid: deployment.metadata.uid, controller: true }]);
    expect(JSON.parse((cm['data'] as Record<string, string>)['targets.json']!)).toEqual({ targets: [{ name: 'fn', url: `http://fn.${e.ns}.svc.cluster.local:8080/` }] });
    await e.api.delete(TRIGGERS, e.ns, 'orders');
    await eventually(() => e.server.store.get('v1', 'ConfigMap', elsewhere, `${deploymentName}-targets`) === undefined, 'the ConfigMap collected with the Deployment', 15_000);
  }, 60_000);

  it.skipIf(!hasKubectl)('shows the target count in kubectl get (skipped only when no kubectl is found; KUBECTL=path picks one)', async () => {
    env = await startEnv();
    const e = env;
    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn-a', orders));
    await e.api.create(SERVICES, e.ns, service(e.ns, 'fn-b', orders));
    await e.api.create(TRIGGERS, e.ns, fanOutTrigger(e.ns, 'orders'));
    await eventually(() => getTrigger(e.server, e.ns, 'orders')?.status?.targets?.count === 2, 'status.targets.count 2');
    const stdout = await kubectl(e, 'get', 'kafkatriggers');
    const [header = '', row = ''] = stdout.trim().split('\n');
    // columns are left-aligned under their headers; FUNCTION is empty for a fan-out trigger
    const at = header.indexOf('TARGETS');
    expect(at).toBeGreaterThan(0);
    expect(row.slice(at).split(/\s+/)[0]).toBe('2');
  }, 60_000);
});
