/**
 * Every bypass of the override policy reported in issue 18, each judged through the one verdict
 * (render, validate and the controller alike): refused naming the field, or rendered into a
 * Deployment the restricted profile (an independent reading, test/support/restricted-profile.ts) accepts.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSchemas, type TriggerSchemas } from '../../render/schema.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import type { JsonObject } from '../../render/trigger.js';
import { judgeTrigger } from '../../render/verdict.js';
import { restrictedFindings } from '../support/restricted-profile.js';
import { repoRoot } from '../support/run-kurier.js';

let templates: Templates;
let schemas: TriggerSchemas;
beforeAll(async () => {
  templates = await loadTemplates(join(repoRoot, 'templates'));
  schemas = loadSchemas(join(repoRoot, 'crd.yaml'));
});

const trigger = (deployment: unknown): JsonObject => ({
  apiVersion: 'kurier.dev/v1alpha1',
  kind: 'KafkaTrigger',
  metadata: { name: 'orders', namespace: 'shop', uid: 'uid-1' },
  spec: { kafka: { brokers: ['kafka:9092'], topic: 'orders' }, function: { url: 'http://fn.shop:8080/' }, deployment } as JsonObject,
});

const pod = (spec: JsonObject, metadata?: JsonObject): JsonObject => ({ spec: { template: { ...(metadata === undefined ? {} : { metadata }), spec } } });
const dispatcherWith = (container: JsonObject): JsonObject => pod({ containers: [{ name: 'dispatcher', ...container }] });
const securityContext = (sc: JsonObject): JsonObject => dispatcherWith({ securityContext: sc });
const volume = (source: JsonObject): JsonObject => pod({ volumes: [{ name: 'v', ...source }] });
const POD = 'spec.deployment.spec.template.spec';
const DISPATCHER = `${POD}.containers[name=dispatcher]`;

/** [what, spec.deployment, the refused path — or 'restricted' for "renders, and the restricted profile accepts it"]. */
const bypasses: [string, unknown, string][] = [
  // 1. the policy checked the override, not the result
  ['pod securityContext: null plus a bare busybox sidecar', { spec: { template: { spec: { securityContext: null, containers: [{ name: 'shell', image: 'busybox' }] } } } }, 'restricted'],
  ['the dispatcher with securityContext: null', pod({ containers: [{ name: 'dispatcher', image: 'busybox', securityContext: null }] }), 'restricted'],
  ['an unnamed container with securityContext: null', pod({ containers: [{ image: 'busybox', securityContext: null }] }), 'restricted'],
  ['the dispatcher deleted with $patch and re-added', pod({ containers: [{ name: 'dispatcher', $patch: 'delete' }, { name: 'dispatcher', image: 'busybox' }] }), 'restricted'],
  ['nulled runAsNonRoot, runAsUser, seccompProfile, allowPrivilegeEscalation, capabilities, readOnlyRootFilesystem', securityContext({ runAsNonRoot: null, runAsUser: null, seccompProfile: null, allowPrivilegeEscalation: null, capabilities: null, readOnlyRootFilesystem: null }), 'restricted'],
  ['the pod securityContext nulled field by field', pod({ securityContext: { runAsNonRoot: null, runAsUser: null, seccompProfile: null } }), 'restricted'],
  ['capabilities: {drop: []}', securityContext({ capabilities: { drop: [] } }), `${DISPATCHER}.securityContext.capabilities.drop`],
  ['automountServiceAccountToken: null', pod({ automountServiceAccountToken: null }), 'restricted'],
  ['automountServiceAccountToken: true', pod({ automountServiceAccountToken: true }), `${POD}.automountServiceAccountToken`],
  ['a projected serviceAccountToken volume', volume({ projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }), `${POD}.volumes[name=v].projected.sources[0].serviceAccountToken`],
  ['$patch: replace on the container securityContext', securityContext({ $patch: 'replace', runAsUser: 1000 }), 'restricted'],
  ['$retainKeys emptying the container securityContext', securityContext({ $retainKeys: [] }), 'restricted'],
  ['$deleteFromPrimitiveList removing ALL from the dropped capabilities', securityContext({ capabilities: { '$deleteFromPrimitiveList/drop': ['ALL'] } }), `${DISPATCHER}.securityContext.capabilities.drop`],
  ['$setElementOrder (not implemented, refused)', pod({ '$setElementOrder/containers': [{ name: 'dispatcher' }] }), `${POD}.$setElementOrder/containers`],
  ['an unknown $patch value', securityContext({ $patch: 'overwrite' }), `${DISPATCHER.replace('[name=dispatcher]', '[0]')}.securityContext.$patch`],
  // 2. prototype keys
  ['__proto__ in an override', JSON.parse('{"__proto__": {"deployment": {"spec": {}}}}') as unknown, 'spec.deployment.__proto__'],
  ['constructor in an override', pod({ containers: [{ name: 'dispatcher', constructor: { prototype: {} } }] }), `${POD}.containers[0].constructor`],
  // 3. fields the policy never looked at
  ['an AppArmor annotation', pod({}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/dispatcher': 'unconfined' } }), 'spec.deployment.spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/dispatcher"]'],
  ['a seccomp annotation', pod({}, { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } }), 'spec.deployment.spec.template.metadata.annotations["seccomp.security.alpha.kubernetes.io/pod"]'],
  ['seLinuxOptions type spc_t', securityContext({ seLinuxOptions: { type: 'spc_t' } }), `${DISPATCHER}.securityContext.seLinuxOptions.type`],
  ['a pod seLinuxOptions user', pod({ securityContext: { seLinuxOptions: { user: 'system_u' } } }), `${POD}.securityContext.seLinuxOptions.user`],
  ['seccompProfile Localhost', securityContext({ seccompProfile: { type: 'Localhost', localhostProfile: 'x.json' } }), `${DISPATCHER}.securityContext.seccompProfile.type`],
  ['seccompProfile Unconfined on the pod', pod({ securityContext: { seccompProfile: { type: 'Unconfined' } } }), `${POD}.securityContext.seccompProfile.type`],
  ['appArmorProfile Unconfined', securityContext({ appArmorProfile: { type: 'Unconfined' } }), `${DISPATCHER}.securityContext.appArmorProfile.type`],
  ['supplementalGroups [0]', pod({ securityContext: { supplementalGroups: [0] } }), `${POD}.securityContext.supplementalGroups[0]`],
  ['fsGroup 0', pod({ securityContext: { fsGroup: 0 } }), `${POD}.securityContext.fsGroup`],
  ['runAsGroup 0', securityContext({ runAsGroup: 0 }), `${DISPATCHER}.securityContext.runAsGroup`],
  ['windowsOptions.hostProcess', securityContext({ windowsOptions: { hostProcess: true } }), `${DISPATCHER}.securityContext.windowsOptions.hostProcess`],
  ['a liveness probe calling the metadata service', dispatcherWith({ livenessProbe: { httpGet: { host: '169.254.169.254', path: '/', port: 80 } } }), `${DISPATCHER}.livenessProbe.httpGet.host`],
  ['a preStop hook calling the kubelet', dispatcherWith({ lifecycle: { preStop: { httpGet: { host: '127.0.0.1', port: 10250, path: '/pods' } } } }), `${DISPATCHER}.lifecycle.preStop.httpGet.host`],
  ['a readiness probe with tcpSocket.host', dispatcherWith({ readinessProbe: { tcpSocket: { host: '10.0.0.1', port: 22 } } }), `${DISPATCHER}.readinessProbe.tcpSocket.host`],
  ['an nfs volume', volume({ nfs: { server: 'nfs', path: '/' } }), `${POD}.volumes[name=v].nfs`],
  ['an iscsi volume', volume({ iscsi: { targetPortal: '10.0.0.1:3260', iqn: 'iqn.x', lun: 0 } }), `${POD}.volumes[name=v].iscsi`],
  ['a flexVolume', volume({ flexVolume: { driver: 'x/y' } }), `${POD}.volumes[name=v].flexVolume`],
  ['a csi volume', volume({ csi: { driver: 'secrets-store.csi.k8s.io' } }), `${POD}.volumes[name=v].csi`],
  ['a gitRepo volume', volume({ gitRepo: { repository: 'https://example.com/x.git' } }), `${POD}.volumes[name=v].gitRepo`],
  ['a persistentVolumeClaim', volume({ persistentVolumeClaim: { claimName: 'other-teams-data' } }), `${POD}.volumes[name=v].persistentVolumeClaim`],
  ['an ephemeral volume pre-bound to a PersistentVolume', volume({ ephemeral: { volumeClaimTemplate: { spec: { volumeName: 'pv-1', accessModes: ['ReadWriteOnce'] } } } }), `${POD}.volumes[name=v].ephemeral`],
  ['a hostPath / volume', volume({ hostPath: { path: '/' } }), `${POD}.volumes[name=v].hostPath`],
  ['nodeName', pod({ nodeName: 'control-plane-0' }), `${POD}.nodeName`],
  ['tolerations: [{operator: Exists}]', pod({ tolerations: [{ operator: 'Exists' }] }), `${POD}.tolerations[0].key`],
  ['a toleration of the control-plane taint', pod({ tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }), `${POD}.tolerations[0].key`],
  ['priorityClassName system-node-critical', pod({ priorityClassName: 'system-node-critical' }), `${POD}.priorityClassName`],
  ['runtimeClassName', pod({ runtimeClassName: 'unsandboxed' }), `${POD}.runtimeClassName`],
  ['a pod label that joins another Service\'s selector', pod({}, { labels: { app: 'payments' } }), 'spec.deployment.spec.template.metadata.labels["app"]'],
  ['changing a default pod label', pod({}, { labels: { 'app.kubernetes.io/name': 'payments' } }), 'spec.deployment.spec.template.metadata.labels["app.kubernetes.io/name"]'],
  ['metadata.finalizers', { metadata: { finalizers: ['example.com/never'] } }, 'spec.deployment.metadata.finalizers'],
  ['spec.template.metadata.namespace', pod({}, { namespace: 'kube-system' }), 'spec.deployment.spec.template.metadata.namespace'],
  ['ephemeralContainers', pod({ ephemeralContainers: [{ name: 'debug', image: 'busybox' }] }), `${POD}.ephemeralContainers`],
  ['hostUsers: true', pod({ hostUsers: true }), `${POD}.hostUsers`],
  ['a hostIP on a port', dispatcherWith({ ports: [{ containerPort: 8080, hostIP: '0.0.0.0' }] }), `${DISPATCHER}.ports[containerPort=8080].hostIP`],
  ['a service account', pod({ serviceAccountName: 'admin' }), `${POD}.serviceAccountName`],
  ['another namespace', { metadata: { namespace: 'kube-system' } }, 'spec.deployment.metadata.namespace'],
  // 4. types, case and ranges, before the policy
  ['privileged: "true" (a string)', securityContext({ privileged: 'true' }), `${POD}.containers[0].securityContext.privileged`],
  ['runAsUser: "0" (a string)', pod({ securityContext: { runAsUser: '0' } }), `${POD}.securityContext.runAsUser`],
  ['capabilities.add: SYS_ADMIN (a string)', securityContext({ capabilities: { add: 'SYS_ADMIN' } }), `${POD}.containers[0].securityContext.capabilities.add`],
  ['HostNetwork (wrong case)', pod({ HostNetwork: true }), `${POD}.HostNetwork`],
  ['runAsUser above 2147483647', pod({ securityContext: { runAsUser: 2147483648 } }), `${POD}.securityContext.runAsUser`],
  ['a negative runAsUser', securityContext({ runAsUser: -1 }), `${POD}.containers[0].securityContext.runAsUser`],
  ['a containerPort above 65535', dispatcherWith({ ports: [{ containerPort: 70000 }] }), `${POD}.containers[0].ports[0].containerPort`],
  ['an override over the size limit', pod({ containers: [{ name: 'dispatcher', env: Array.from({ length: 8000 }, (_, i) => ({ name: `V${i}`, value: 'x'.repeat(30) })) }] }), 'spec.deployment'],
  ['an override nested 100 levels deep', pod({ affinity: JSON.parse(`${'{"a":'.repeat(100)}1${'}'.repeat(100)}`) as JsonObject }), `${POD}.affinity`],
];

describe('the override policy against every reported bypass (issue 18)', () => {
  it.each(bypasses)('%s', (_what, deployment, expected) => {
    const verdict = judgeTrigger(trigger(deployment), { templates, schemas });
    if (expected === 'restricted') {
      expect(verdict.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
      expect(restrictedFindings(verdict.deployment, 'shop')).toEqual([]);
    } else {
      expect(verdict.deployment).toBeUndefined();
      expect(verdict.problems.map((problem) => problem.path)).toContainEqual(expected.startsWith(`${POD}.affinity`) ? expect.stringMatching(/^spec\.deployment\.spec\.template\.spec\.affinity\.a/) : expected);
    }
  });

  it('renders the default dispatcher into a Deployment the restricted profile accepts, for every kind', () => {
    for (const kind of templates.kinds.values()) {
      const block: JsonObject = { kafka: { brokers: ['k:9092'], topic: 't' }, pulsar: { broker: 'pulsar://p:6650', topic: 't' }, nats: { url: 'nats://n:4222', subject: 's' }, rabbitmq: { url: 'amqp://r', queue: 'q' }, cron: { schedule: '* * * * *' } };
      const doc = { apiVersion: 'kurier.dev/v1alpha1', kind: kind.kind, metadata: { name: 'x', namespace: 'shop' }, spec: { [kind.source]: block[kind.source] ?? {}, function: { url: 'http://fn:8080/' } } };
      const verdict = judgeTrigger(doc, { templates, schemas });
      expect(verdict.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
      expect(restrictedFindings(verdict.deployment, 'shop')).toEqual([]);
    }
  });

  it('lets an admin rule allow what it names, and only that', () => {
    const relaxed = { ...templates.policy, allowHostPath: true, allowedVolumeTypes: ['persistentVolumeClaim'], allowedPriorityClasses: ['batch-low'], allowedPodLabels: ['example.com/*'] };
    const override = pod(
      { priorityClassName: 'batch-low', volumes: [{ name: 'h', hostPath: { path: '/var/log' } }, { name: 'p', persistentVolumeClaim: { claimName: 'c' } }] },
      { labels: { 'example.com/team': 'a' } },
    );
    expect(judgeTrigger(trigger(override), { templates, schemas, policy: relaxed }).deployment).toBeDefined();
    const stillRefused = judgeTrigger(trigger(pod({ priorityClassName: 'system-node-critical' })), { templates, schemas, policy: relaxed });
    expect(stillRefused.problems.map((problem) => problem.path)).toEqual([`${POD}.priorityClassName`]);
  });
});
