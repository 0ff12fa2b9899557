import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Controller } from '../../controller/controller.js';
import type { KubeObject } from '../../controller/kube.js';
import type { ApiServerDouble, RequestRecord } from '../support/apiserver/index.js';
import { REAL_CLUSTER_KUBECONFIG, kubeRequest, startTestApiServer } from '../support/apiserver/real-cluster.js';
import { repoRoot } from '../support/run-kurier.js';
import { CRD, eventually, getDeployment, kafkaTrigger, makeController, sleepMs, TEST_LEASE_NAMESPACE } from '../controller/harness.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const TEST_AGENT = 'kurier-rbac-test';
const KEDA_CRDS = join(repoRoot, 'test/support/keda-crds.yaml');

/** The plain-YAML rule lists of chart/templates/rbac.yaml (the controller's rules and the Lease rules). */
async function chartRules(): Promise<Rule[]> {
  const text = await readFile(join(repoRoot, 'chart/templates/rbac.yaml'), 'utf8');
  const rules: Rule[] = [];
  const pattern = /^(\s*)- apiGroups: (.+)\n\s+resources: (.+)\n\s+verbs: (.+)$/gm;
  for (const match of text.matchAll(pattern)) {
    rules.push({ apiGroups: parse(match[2]!), resources: parse(match[3]!), verbs: parse(match[4]!) });
  }
  return rules;
}

const permissions = (rules: Rule[]): Set<string> =>
  new Set(rules.flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group}|${resource}|${verb}`)))));

function used(requests: readonly RequestRecord[]): Set<string> {
  return new Set(
    requests
      .filter((r) => r.userAgent !== TEST_AGENT && r.resource !== '' && !['discovery', 'other'].includes(r.verb))
      .map((r) => `${r.group ?? ''}|${r.resource}${r.subresource === undefined ? '' : `/${r.subresource}`}|${r.verb}`),
  );
}

/**
 * Permissions a request needs beyond its own verb, as kube-apiserver's admission checks them:
 * a server-side apply (PATCH) that creates the object is authorised as `create` too, and with
 * OwnerReferencesPermissionEnforcement (on in OpenShift) writing an object whose owner reference
 * sets `blockOwnerDeletion` needs `update` on the owner's `finalizers` subresource.
 */
function implied(requests: readonly RequestRecord[], written: (r: RequestRecord) => { apiVersion: string; kind: string; blockOwnerDeletion?: boolean }[]): Set<string> {
  const out = new Set<string>();
  for (const r of requests) {
    if (r.userAgent === TEST_AGENT || r.status >= 400) continue;
    if (r.verb === 'patch' && (r.contentType ?? '').startsWith('application/apply-patch') && r.status === 201) out.add(`${r.group ?? ''}|${r.resource}|create`);
    if (!['create', 'update', 'patch'].includes(r.verb) || r.subresource !== undefined) continue;
    for (const owner of written(r)) {
      if (owner.blockOwnerDeletion !== true) continue;
      const group = owner.apiVersion.includes('/') ? owner.apiVersion.split('/')[0] : '';
      out.add(`${group ?? ''}|${owner.kind.toLowerCase()}s/finalizers|update`);
    }
  }
  return out;
}

/** Writes as a user would, marked so the test can tell its own requests from the controller's. */
async function send(server: ApiServerDouble, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<void> {
  if (REAL_CLUSTER_KUBECONFIG !== undefined) {
    await kubeRequest(server.kubeConfig(), method, path, body, contentType);
    return;
  }
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'user-agent': TEST_AGENT, 'content-type': contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
}

describe('chart RBAC', () => {
  let server: ApiServerDouble | undefined;
  let controller: Controller | undefined;
  afterAll(async () => {
    await controller?.stop();
    await server?.close();
  });

  it('grants exactly the verbs the controller uses through a whole trigger lifecycle', async () => {
    server = await startTestApiServer({ crds: [CRD, KEDA_CRDS] });
    const ns = `rbac-${randomBytes(3).toString('hex')}`;
    const elsewhere = `${ns}-dispatchers`;
    server.ensureNamespace(ns);
    server.ensureNamespace(elsewhere);
    controller = await makeController(server, {
      allowCrossNamespace: true,
      resyncPeriodMs: 300,
      leaderElection: { namespace: TEST_LEASE_NAMESPACE, name: 'kurier-controller', identity: 'rbac', leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 },
    });
    await controller.start();
    const triggers = `/apis/kurier.dev/v1alpha1/namespaces/${ns}/kafkatriggers`;

    // Same namespace: created, then edited by hand and deleted by hand (the controller puts it back).
    await send(server, 'POST', triggers, kafkaTrigger(ns, 'orders'));
    const deployment = await eventually(() => getDeployment(server!, ns, 'orders-kafka'), 'the Deployment', 30_000);
    await send(server, 'PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/orders-kafka`, { spec: { template: { spec: { containers: [{ name: 'dispatcher', image: 'edited' }] } } } }, 'application/strategic-merge-patch+json');
    await eventually(() => !JSON.stringify(getDeployment(server!, ns, 'orders-kafka')).includes('edited'), 'the edit undone', 30_000);
    await send(server, 'DELETE', `/apis/apps/v1/namespaces/${ns}/deployments/orders-kafka`);
    await eventually(() => { const d = getDeployment(server!, ns, 'orders-kafka'); return d !== undefined && d['metadata'] !== deployment['metadata']; }, 'the Deployment restored', 30_000);

    // Autoscaled with KEDA installed: a ScaledObject and a TriggerAuthentication (from a Secret reference), both deleted
    // when spec.autoscaling is removed.
    const sasl = { mechanism: 'scram-sha-256', username: 'svc', passwordSecretRef: { name: 'kafka-creds', key: 'password' } };
    const scaled = kafkaTrigger(ns, 'scaled', 'orders', { autoscaling: { maxReplicas: 3 } });
    Object.assign((scaled['spec'] as { kafka: object }).kafka, { sasl });
    await send(server, 'POST', triggers, scaled);
    await eventually(() => server!.store.get('keda.sh/v1alpha1', 'ScaledObject', ns, 'scaled-kafka') !== undefined && server!.store.get('keda.sh/v1alpha1', 'TriggerAuthentication', ns, 'scaled-kafka') !== undefined, 'the KEDA objects', 30_000);
    await send(server, 'PATCH', `${triggers}/scaled`, { spec: { autoscaling: null } }, 'application/merge-patch+json');
    await eventually(() => server!.store.get('keda.sh/v1alpha1', 'ScaledObject', ns, 'scaled-kafka') === undefined && server!.store.get('keda.sh/v1alpha1', 'TriggerAuthentication', ns, 'scaled-kafka') === undefined, 'the KEDA objects deleted', 30_000);

    // Invalid twice (a Warning Event, then its repeat count).
    await send(server, 'POST', triggers, kafkaTrigger(ns, 'broken', 'orders', { deployment: { spec: { template: { spec: { hostNetwork: true } } } } }));
    await sleepMs(800);

    // Fan-out: Services are read, the targets ConfigMap is created, rewritten, and deleted when the selector goes.
    await send(server, 'POST', `/api/v1/namespaces/${ns}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'fn-a', labels: { fn: 'orders' } }, spec: { ports: [{ port: 8080 }] } });
    const fanOut = kafkaTrigger(ns, 'fan');
    const fanOutSpec = fanOut['spec'] as Record<string, unknown>;
    delete fanOutSpec['function'];
    fanOutSpec['functionSelector'] = { matchLabels: { fn: 'orders' } };
    await send(server, 'POST', triggers, fanOut);
    const targets = await eventually(() => server!.store.get('v1', 'ConfigMap', ns, 'fan-kafka-targets') as KubeObject | undefined, 'the targets ConfigMap', 30_000);
    await send(server, 'POST', `/api/v1/namespaces/${ns}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'fn-b', labels: { fn: 'orders' } }, spec: { ports: [{ port: 8080 }] } });
    await eventually(() => JSON.stringify(server!.store.get('v1', 'ConfigMap', ns, 'fan-kafka-targets')).includes('fn-b'), 'the second target', 30_000);
    await send(server, 'PATCH', `${triggers}/fan`, { spec: { functionSelector: null, function: { url: 'http://one.example/' } } }, 'application/merge-patch+json');
    await eventually(() => server!.store.get('v1', 'ConfigMap', ns, 'fan-kafka-targets') === undefined, 'the targets ConfigMap deleted', 30_000);

    // Across namespaces: a finalizer is added, and removed on delete after the Deployment is gone.
    await send(server, 'POST', triggers, kafkaTrigger(ns, 'moved', 'orders', { deployment: { metadata: { namespace: elsewhere } } }));
    await eventually(() => server!.store.list('apps/v1', 'Deployment', elsewhere).length === 1, 'the cross-namespace Deployment', 30_000);
    await send(server, 'DELETE', `${triggers}/moved`);
    await eventually(() => server!.store.list('apps/v1', 'Deployment', elsewhere).length === 0, 'the cross-namespace Deployment removed', 30_000);
    await eventually(() => server!.store.get('kurier.dev/v1alpha1', 'KafkaTrigger', ns, 'moved') === undefined, 'the trigger gone', 30_000);

    // A real cluster keeps no request log: there the lifecycle above ran under KURIER_TEST_CONTROLLER_KUBECONFIG
    // (a ServiceAccount bound to the chart's rules), and every step succeeding is the check.
    if (REAL_CLUSTER_KUBECONFIG !== undefined) return;
    const granted = permissions(await chartRules());
    // every Deployment the controller writes in its trigger's namespace carries the trigger as owner
    const ownerRefs = (deployment.metadata as { ownerReferences?: { apiVersion: string; kind: string; blockOwnerDeletion?: boolean }[] }).ownerReferences ?? [];
    expect(ownerRefs.some((o) => o.blockOwnerDeletion === true)).toBe(true);
    const usedByController = new Set([
      ...used(server.requests),
      // the KEDA objects carry the same owner reference as the Deployment; the targets ConfigMap its own
      ...implied(server.requests, (r) =>
        (r.resource === 'deployments' || r.group === 'keda.sh') && r.namespace === ns ? ownerRefs : r.resource === 'configmaps' ? (targets.metadata.ownerReferences ?? []) : [],
      ),
    ]);
    const ungranted = [...usedByController].filter((permission) => !granted.has(permission)).sort();
    expect(ungranted, 'the controller calls these without the chart granting them').toEqual([]);
    const perResource = (set: Set<string>): Set<string> => new Set([...set].map((p) => p.split('|').slice(0, 2).join('|')));
    // Every resource the chart names is one the controller reads or writes.
    expect([...perResource(granted)].filter((r) => !perResource(usedByController).has(r) && !r.includes('triggers')).sort()).toEqual([]);
    const unused = [...granted].filter((permission) => !usedByController.has(permission) && !/(pulsar|nats|rabbitmq|cron)triggers/.test(permission)).sort();
    expect(unused, 'the chart grants these but the controller never called them in a full lifecycle').toEqual([]);
  }, 60_000);
});
