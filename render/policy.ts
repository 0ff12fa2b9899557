/**
 * The override policy: judges the final rendered Deployment — the pod and every container, init
 * container and ephemeral container — against an allow-list modelled on the Pod Security Standards
 * "restricted" profile plus Kurier's own rules. What the defaults set and an override removed is
 * judged like what an override added: only the result counts. Admins relax named rules
 * ({@link OverridePolicy}).
 */
import { isObject, own } from './merge.js';
import type { OverridePolicy } from './policy-settings.js';
import type { JsonObject, JsonValue } from './trigger.js';

/** One refused field of the rendered Deployment, named as the trigger would set it. */
export interface PolicyViolation {
  /** e.g. `spec.deployment.spec.template.spec.containers[name=dispatcher].securityContext.privileged`. */
  readonly path: string;
  readonly message: string;
}

/** What the policy needs besides the Deployment and the admin's rules. */
export interface PolicyContext {
  readonly triggerNamespace: string;
  readonly policy: OverridePolicy;
  /** Pod labels the templates and the controller set: allowed with exactly these values. */
  readonly baselinePodLabels: Readonly<Record<string, string>>;
}

type Rule = keyof OverridePolicy;

const ROOT = 'spec.deployment';
const SAFE_VOLUME_TYPES = new Set(['configMap', 'secret', 'emptyDir', 'downwardAPI', 'projected']);
const SAFE_PROJECTIONS = new Set(['configMap', 'secret', 'downwardAPI', 'clusterTrustBundle']);
const CREDENTIAL_PROJECTIONS = new Set(['serviceAccountToken', 'podCertificate']);
const SAFE_CAPABILITIES = new Set(['NET_BIND_SERVICE']);
const SAFE_SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const SYSTEM_TAINT_PREFIXES = ['node-role.kubernetes.io/', 'node.kubernetes.io/', 'node.cloudprovider.kubernetes.io/', 'node-restriction.kubernetes.io/'];
/** Taints whose toleration only delays eviction; the API server adds them to every pod anyway. */
const EVICTION_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
const SECURITY_ANNOTATION = /apparmor|seccomp|selinux/i;

/** Pod spec fields the policy knows; each is allowed, checked below, or refused. */
const POD_FIELDS = new Set([
  'activeDeadlineSeconds', 'affinity', 'automountServiceAccountToken', 'containers', 'dnsConfig', 'dnsPolicy',
  'enableServiceLinks', 'hostAliases', 'hostIPC', 'hostNetwork', 'hostPID', 'hostUsers', 'hostname', 'imagePullSecrets',
  'initContainers', 'nodeName', 'nodeSelector', 'os', 'preemptionPolicy', 'priorityClassName', 'readinessGates',
  'resources', 'restartPolicy', 'runtimeClassName', 'schedulingGates', 'securityContext', 'serviceAccount',
  'serviceAccountName', 'setHostnameAsFQDN', 'shareProcessNamespace', 'subdomain', 'terminationGracePeriodSeconds',
  'tolerations', 'topologySpreadConstraints', 'volumes',
]);

const CONTAINER_FIELDS = new Set([
  'args', 'command', 'env', 'envFrom', 'image', 'imagePullPolicy', 'lifecycle', 'livenessProbe', 'name', 'ports',
  'readinessProbe', 'resizePolicy', 'resources', 'restartPolicy', 'restartPolicyRules', 'securityContext', 'startupProbe',
  'stdin', 'stdinOnce', 'terminationMessagePath', 'terminationMessagePolicy', 'tty', 'volumeMounts', 'workingDir',
]);

const child = (value: JsonValue | undefined, field: string): JsonValue | undefined => (isObject(value) ? own(value, field) : undefined);
const list = (value: JsonValue | undefined): JsonValue[] => (Array.isArray(value) ? value : []);
const show = (value: JsonValue | undefined): string => JSON.stringify(value ?? null);

class Verdict {
  readonly violations: PolicyViolation[] = [];
  readonly policy: OverridePolicy;
  constructor(policy: OverridePolicy) {
    this.policy = policy;
  }

  /** Refuses `path` unless the admin enabled `rule`. */
  refuse(path: string, message: string, rule?: Rule): void {
    if (rule !== undefined && this.policy[rule] === true) return;
    this.violations.push({ path, message: rule === undefined ? message : `${message} (policy ${rule})` });
  }
}

function checkAnnotations(metadata: JsonValue | undefined, path: string, verdict: Verdict): void {
  const annotations = child(metadata, 'annotations');
  if (!isObject(annotations)) return;
  for (const key of Object.keys(annotations)) {
    if (SECURITY_ANNOTATION.test(key)) {
      verdict.refuse(`${path}.annotations["${key}"]`, 'annotations that carry security settings are not allowed; the securityContext fields are checked instead', 'allowPrivileged');
    }
  }
}

function labelAllowed(key: string, value: JsonValue | undefined, context: PolicyContext): boolean {
  if (Object.hasOwn(context.baselinePodLabels, key)) return context.baselinePodLabels[key] === value;
  return context.policy.allowedPodLabels.some((allowed) => (allowed.endsWith('*') ? key.startsWith(allowed.slice(0, -1)) : key === allowed));
}

function checkPodMetadata(metadata: JsonValue | undefined, deploymentNamespace: JsonValue | undefined, context: PolicyContext, verdict: Verdict): void {
  const path = `${ROOT}.spec.template.metadata`;
  const namespace = child(metadata, 'namespace');
  if (namespace !== undefined && namespace !== deploymentNamespace) {
    verdict.refuse(`${path}.namespace`, 'the pod template cannot name a namespace; remove it');
  }
  if (list(child(metadata, 'finalizers')).length > 0) verdict.refuse(`${path}.finalizers`, 'finalizers are not allowed on dispatcher pods');
  const labels = child(metadata, 'labels');
  if (isObject(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      if (labelAllowed(key, value, context)) continue;
      const baseline = context.baselinePodLabels[key];
      verdict.violations.push({
        path: `${path}.labels["${key}"]`,
        message: Object.hasOwn(context.baselinePodLabels, key)
          ? `must stay ${show(baseline)}: pod labels select pods for Services and NetworkPolicies`
          : 'pod labels select pods for Services and NetworkPolicies; the admin lists the label keys triggers may add (policy allowedPodLabels)',
      });
    }
  }
  checkAnnotations(metadata, path, verdict);
}

function checkSeccomp(profile: JsonValue | undefined, path: string, verdict: Verdict): void {
  const type = child(profile, 'type');
  if (type === undefined || type === 'RuntimeDefault') return;
  verdict.refuse(`${path}.type`, `must be RuntimeDefault (got ${show(type)})`, 'allowPrivileged');
}

function checkSharedSecurity(securityContext: JsonValue | undefined, path: string, verdict: Verdict): void {
  checkSeccomp(child(securityContext, 'seccompProfile'), `${path}.seccompProfile`, verdict);
  const appArmor = child(child(securityContext, 'appArmorProfile'), 'type');
  if (appArmor !== undefined && appArmor !== 'RuntimeDefault') {
    verdict.refuse(`${path}.appArmorProfile.type`, `must be RuntimeDefault (got ${show(appArmor)})`, 'allowPrivileged');
  }
  const seLinux = child(securityContext, 'seLinuxOptions');
  if (seLinux !== undefined) {
    const type = child(seLinux, 'type') ?? '';
    if (typeof type !== 'string' || !SAFE_SELINUX_TYPES.has(type)) {
      verdict.refuse(`${path}.seLinuxOptions.type`, `must be container_t, container_init_t or container_kvm_t (got ${show(type)})`, 'allowPrivileged');
    }
    for (const field of ['user', 'role']) {
      if (child(seLinux, field) !== undefined) verdict.refuse(`${path}.seLinuxOptions.${field}`, 'SELinux users and roles are not allowed', 'allowPrivileged');
    }
  }
  if (child(child(securityContext, 'windowsOptions'), 'hostProcess') === true) {
    verdict.refuse(`${path}.windowsOptions.hostProcess`, 'host process containers are not allowed', 'allowPrivileged');
  }
  for (const field of ['runAsUser', 'runAsGroup']) {
    if (child(securityContext, field) === 0) verdict.refuse(`${path}.${field}`, 'running as root is not allowed', 'allowPrivileged');
  }
  if (child(securityContext, 'runAsNonRoot') === false) verdict.refuse(`${path}.runAsNonRoot`, 'must be true', 'allowPrivileged');
}

function checkPodSecurity(podSpec: JsonValue | undefined, path: string, verdict: Verdict): void {
  const securityContext = child(podSpec, 'securityContext');
  const scPath = `${path}.securityContext`;
  checkSharedSecurity(securityContext, scPath, verdict);
  if (child(securityContext, 'fsGroup') === 0) verdict.refuse(`${scPath}.fsGroup`, 'the root group is not allowed', 'allowPrivileged');
  list(child(securityContext, 'supplementalGroups')).forEach((group, index) => {
    if (group === 0) verdict.refuse(`${scPath}.supplementalGroups[${index}]`, 'the root group is not allowed', 'allowPrivileged');
  });
  if (list(child(securityContext, 'sysctls')).length > 0) verdict.refuse(`${scPath}.sysctls`, 'sysctls are not allowed', 'allowPrivileged');
}

function checkHandlerHost(handler: JsonValue | undefined, path: string, verdict: Verdict): void {
  for (const action of ['httpGet', 'tcpSocket']) {
    if (child(child(handler, action), 'host') !== undefined) {
      verdict.refuse(`${path}.${action}.host`, 'probes and hooks may only call the pod itself: the kubelet makes these calls from the node', 'allowProbeHosts');
    }
  }
}

function checkContainerSecurity(container: JsonValue, podSecurity: JsonValue | undefined, path: string, verdict: Verdict): void {
  const securityContext = child(container, 'securityContext');
  const scPath = `${path}.securityContext`;
  checkSharedSecurity(securityContext, scPath, verdict);
  if (child(securityContext, 'privileged') === true) verdict.refuse(`${scPath}.privileged`, 'privileged containers are not allowed', 'allowPrivileged');
  if (child(securityContext, 'allowPrivilegeEscalation') !== false) {
    verdict.refuse(`${scPath}.allowPrivilegeEscalation`, 'must be false', 'allowPrivileged');
  }
  const capabilities = child(securityContext, 'capabilities');
  if (!list(child(capabilities, 'drop')).includes('ALL')) verdict.refuse(`${scPath}.capabilities.drop`, 'must include ALL', 'allowPrivileged');
  list(child(capabilities, 'add')).forEach((capability, index) => {
    if (typeof capability !== 'string' || !SAFE_CAPABILITIES.has(capability)) {
      verdict.refuse(`${scPath}.capabilities.add[${index}]`, `only NET_BIND_SERVICE may be added (got ${show(capability)})`, 'allowPrivileged');
    }
  });
  const procMount = child(securityContext, 'procMount');
  if (procMount !== undefined && procMount !== 'Default') verdict.refuse(`${scPath}.procMount`, 'must be Default', 'allowPrivileged');
  if (child(securityContext, 'readOnlyRootFilesystem') !== true) {
    verdict.refuse(`${scPath}.readOnlyRootFilesystem`, 'must be true (write to an emptyDir volume instead)', 'allowWritableRootFilesystem');
  }
  // Set on the container or inherited from the pod, as the kubelet resolves them.
  const effective = (field: string): JsonValue | undefined => child(securityContext, field) ?? child(podSecurity, field);
  if (effective('runAsNonRoot') !== true) verdict.refuse(`${scPath}.runAsNonRoot`, 'must be true here or in the pod securityContext', 'allowPrivileged');
  const seccomp = child(effective('seccompProfile'), 'type');
  if (seccomp === undefined) verdict.refuse(`${scPath}.seccompProfile.type`, 'must be RuntimeDefault here or in the pod securityContext', 'allowPrivileged');
}

function checkContainer(container: JsonValue, podSecurity: JsonValue | undefined, path: string, verdict: Verdict): void {
  if (!isObject(container)) return;
  for (const field of Object.keys(container)) {
    if (!CONTAINER_FIELDS.has(field)) verdict.refuse(`${path}.${field}`, 'is not allowed in a dispatcher Deployment');
  }
  checkContainerSecurity(container, podSecurity, path, verdict);
  list(child(container, 'ports')).forEach((port, index) => {
    for (const field of ['hostPort', 'hostIP']) {
      const value = child(port, field);
      const containerPort = child(port, 'containerPort');
      const which = typeof containerPort === 'number' ? `containerPort=${containerPort}` : String(index);
      if (value !== undefined && value !== 0 && value !== '') verdict.refuse(`${path}.ports[${which}].${field}`, 'host ports are not allowed', 'allowHostNamespaces');
    }
  });
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) checkHandlerHost(child(container, probe), `${path}.${probe}`, verdict);
  for (const hook of ['postStart', 'preStop']) checkHandlerHost(child(child(container, 'lifecycle'), hook), `${path}.lifecycle.${hook}`, verdict);
}

function checkVolume(volume: JsonValue, index: number, path: string, verdict: Verdict): void {
  if (!isObject(volume)) return;
  const name = typeof volume['name'] === 'string' ? `[name=${volume['name']}]` : `[${index}]`;
  for (const type of Object.keys(volume)) {
    if (type === 'name') continue;
    const at = `${path}.volumes${name}.${type}`;
    if (type === 'hostPath') verdict.refuse(at, 'hostPath volumes are not allowed', 'allowHostPath');
    else if (type === 'projected') {
      list(child(volume[type], 'sources')).forEach((source, sourceIndex) => {
        for (const projection of isObject(source) ? Object.keys(source) : []) {
          const sourcePath = `${at}.sources[${sourceIndex}].${projection}`;
          if (CREDENTIAL_PROJECTIONS.has(projection)) verdict.refuse(sourcePath, 'projected credentials are not allowed', 'allowServiceAccount');
          else if (!SAFE_PROJECTIONS.has(projection)) verdict.refuse(sourcePath, 'this projection is not allowed');
        }
      });
    } else if (!SAFE_VOLUME_TYPES.has(type) && !verdict.policy.allowedVolumeTypes.includes(type)) {
      verdict.violations.push({ path: at, message: `${type} volumes are not allowed; allowed: ${[...SAFE_VOLUME_TYPES, ...verdict.policy.allowedVolumeTypes].join(', ')} (policy allowedVolumeTypes)` });
    }
  }
}

function checkToleration(toleration: JsonValue, index: number, path: string, verdict: Verdict): void {
  const key = child(toleration, 'key');
  const at = `${path}.tolerations[${index}]`;
  if (typeof key !== 'string' || key === '') {
    verdict.refuse(`${at}.key`, 'a toleration without a key tolerates every taint, including the control plane\'s', 'allowNodePlacement');
  } else if (SYSTEM_TAINT_PREFIXES.some((prefix) => key.startsWith(prefix)) && !(EVICTION_TAINTS.has(key) && child(toleration, 'effect') === 'NoExecute')) {
    verdict.refuse(`${at}.key`, `tolerating the system taint ${show(key)} is not allowed`, 'allowNodePlacement');
  }
}

function checkChosen(podSpec: JsonObject, field: string, allowed: readonly string[], path: string, verdict: Verdict, setting: Rule): void {
  const value = own(podSpec, field);
  if (value === undefined || (typeof value === 'string' && allowed.includes(value))) return;
  verdict.violations.push({ path: `${path}.${field}`, message: `${show(value)} is not allowed; allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none'} (policy ${setting})` });
}

function checkPodSpec(podSpec: JsonValue | undefined, verdict: Verdict): void {
  if (!isObject(podSpec)) return;
  const path = `${ROOT}.spec.template.spec`;
  for (const field of Object.keys(podSpec)) {
    if (!POD_FIELDS.has(field)) verdict.refuse(`${path}.${field}`, 'is not allowed in a dispatcher Deployment');
  }
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC', 'hostUsers']) {
    if (own(podSpec, field) === true) verdict.refuse(`${path}.${field}`, 'host namespaces are not allowed', 'allowHostNamespaces');
  }
  for (const field of ['serviceAccountName', 'serviceAccount']) {
    if (own(podSpec, field) !== undefined) verdict.refuse(`${path}.${field}`, 'the service account cannot be changed', 'allowServiceAccount');
  }
  if (own(podSpec, 'automountServiceAccountToken') !== false) {
    verdict.refuse(`${path}.automountServiceAccountToken`, 'must be false: dispatchers need no service account token', 'allowServiceAccount');
  }
  if (own(podSpec, 'nodeName') !== undefined) verdict.refuse(`${path}.nodeName`, 'choosing a node by name is not allowed; use nodeSelector or affinity', 'allowNodePlacement');
  list(own(podSpec, 'tolerations')).forEach((toleration, index) => { checkToleration(toleration, index, path, verdict); });
  checkChosen(podSpec, 'priorityClassName', verdict.policy.allowedPriorityClasses, path, verdict, 'allowedPriorityClasses');
  checkChosen(podSpec, 'runtimeClassName', verdict.policy.allowedRuntimeClasses, path, verdict, 'allowedRuntimeClasses');
  list(own(podSpec, 'volumes')).forEach((volume, index) => { checkVolume(volume, index, path, verdict); });
  checkPodSecurity(podSpec, path, verdict);
  const podSecurity = own(podSpec, 'securityContext');
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    list(own(podSpec, field)).forEach((container, index) => {
      const name = child(container, 'name');
      const at = `${path}.${field}${typeof name === 'string' ? `[name=${name}]` : `[${index}]`}`;
      checkContainer(container, podSecurity, at, verdict);
    });
  }
}

/**
 * Every field of the rendered `deployment` the policy refuses, each with its path as the trigger
 * would set it (`spec.deployment.…`). An empty list means the Deployment may be applied.
 */
export function checkDeployment(deployment: JsonObject, context: PolicyContext): PolicyViolation[] {
  const verdict = new Verdict(context.policy);
  const metadata = own(deployment, 'metadata');
  const namespace = child(metadata, 'namespace');
  if (namespace !== context.triggerNamespace) {
    verdict.refuse(
      `${ROOT}.metadata.namespace`,
      `the Deployment must stay in the trigger's namespace "${context.triggerNamespace}"; an admin allows others with --allow-cross-namespace or`,
      'allowCrossNamespace',
    );
  }
  if (list(child(metadata, 'finalizers')).length > 0) verdict.refuse(`${ROOT}.metadata.finalizers`, 'the controller owns the finalizers of a dispatcher Deployment');
  checkAnnotations(metadata, `${ROOT}.metadata`, verdict);
  const template = child(own(deployment, 'spec'), 'template');
  checkPodMetadata(child(template, 'metadata'), namespace, context, verdict);
  checkPodSpec(child(template, 'spec'), verdict);
  return verdict.violations;
}
