import { isObject } from './merge.js';
import type { OverridePolicy } from './templates.js';
import type { JsonObject, JsonValue } from './trigger.js';

/** One refused field of a `spec.deployment` override. */
export interface PolicyViolation {
  /** Field path from the trigger, e.g. `spec.deployment.spec.template.spec.hostNetwork`. */
  readonly path: string;
  readonly message: string;
}

const OVERRIDE = 'spec.deployment';
const POD_SPEC = `${OVERRIDE}.spec.template.spec`;
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

function child(value: JsonValue | undefined, field: string): JsonValue | undefined {
  return isObject(value) ? value[field] : undefined;
}

function list(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : [];
}

const ROOT_MESSAGE = 'running as root is not allowed (policy allowPrivileged)';

function checkRunAs(securityContext: JsonValue | undefined, path: string, out: PolicyViolation[]): void {
  if (child(securityContext, 'runAsUser') === 0) out.push({ path: `${path}.runAsUser`, message: ROOT_MESSAGE });
  if (child(securityContext, 'runAsGroup') === 0) out.push({ path: `${path}.runAsGroup`, message: ROOT_MESSAGE });
  if (child(securityContext, 'runAsNonRoot') === false) out.push({ path: `${path}.runAsNonRoot`, message: ROOT_MESSAGE });
  const seccomp = child(child(securityContext, 'seccompProfile'), 'type');
  if (seccomp === 'Unconfined') {
    out.push({ path: `${path}.seccompProfile.type`, message: 'an unconfined seccomp profile is not allowed (policy allowPrivileged)' });
  }
  const appArmor = child(child(securityContext, 'appArmorProfile'), 'type');
  if (appArmor === 'Unconfined') {
    out.push({ path: `${path}.appArmorProfile.type`, message: 'an unconfined AppArmor profile is not allowed (policy allowPrivileged)' });
  }
}

function checkContainerPrivileges(container: JsonValue, path: string, out: PolicyViolation[]): void {
  const securityContext = child(container, 'securityContext');
  const scPath = `${path}.securityContext`;
  if (child(securityContext, 'privileged') === true) {
    out.push({ path: `${scPath}.privileged`, message: 'privileged containers are not allowed (policy allowPrivileged)' });
  }
  if (child(securityContext, 'allowPrivilegeEscalation') === true) {
    out.push({ path: `${scPath}.allowPrivilegeEscalation`, message: 'privilege escalation is not allowed (policy allowPrivileged)' });
  }
  if (list(child(child(securityContext, 'capabilities'), 'add')).length > 0) {
    out.push({ path: `${scPath}.capabilities.add`, message: 'adding capabilities is not allowed (policy allowPrivileged)' });
  }
  if (child(securityContext, 'procMount') === 'Unmasked') {
    out.push({ path: `${scPath}.procMount`, message: 'an unmasked /proc is not allowed (policy allowPrivileged)' });
  }
  checkRunAs(securityContext, scPath, out);
}

function checkHostPorts(container: JsonValue, path: string, out: PolicyViolation[]): void {
  list(child(container, 'ports')).forEach((port, index) => {
    if (child(port, 'hostPort') !== undefined) {
      out.push({ path: `${path}.ports[${index}].hostPort`, message: 'host ports are not allowed (policy allowHostNamespaces)' });
    }
  });
}

function checkPodSpec(podSpec: JsonValue | undefined, policy: OverridePolicy, out: PolicyViolation[]): void {
  if (!policy.allowServiceAccount) {
    for (const field of ['serviceAccountName', 'serviceAccount']) {
      if (child(podSpec, field) !== undefined) {
        out.push({ path: `${POD_SPEC}.${field}`, message: 'the service account cannot be changed (policy allowServiceAccount)' });
      }
    }
    if (child(podSpec, 'automountServiceAccountToken') === true) {
      out.push({ path: `${POD_SPEC}.automountServiceAccountToken`, message: 'mounting a service account token is not allowed (policy allowServiceAccount)' });
    }
  }
  if (!policy.allowHostNamespaces) {
    for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) {
      if (child(podSpec, field) === true) {
        out.push({ path: `${POD_SPEC}.${field}`, message: 'host namespaces are not allowed (policy allowHostNamespaces)' });
      }
    }
  }
  if (!policy.allowHostPath) {
    list(child(podSpec, 'volumes')).forEach((volume, index) => {
      if (child(volume, 'hostPath') !== undefined) {
        out.push({ path: `${POD_SPEC}.volumes[${index}].hostPath`, message: 'hostPath volumes are not allowed (policy allowHostPath)' });
      }
    });
  }
  if (!policy.allowPrivileged) {
    checkRunAs(child(podSpec, 'securityContext'), `${POD_SPEC}.securityContext`, out);
    if (list(child(child(podSpec, 'securityContext'), 'sysctls')).length > 0) {
      out.push({ path: `${POD_SPEC}.securityContext.sysctls`, message: 'sysctls are not allowed (policy allowPrivileged)' });
    }
  }
  for (const field of CONTAINER_LISTS) {
    list(child(podSpec, field)).forEach((container, index) => {
      const path = `${POD_SPEC}.${field}[${index}]`;
      if (!policy.allowPrivileged) checkContainerPrivileges(container, path, out);
      if (!policy.allowHostNamespaces) checkHostPorts(container, path, out);
    });
  }
}

/**
 * Every field of a `spec.deployment` override the policy refuses, each with its path. An empty
 * list means the override may be applied. A trigger author must not gain rights through it.
 */
export function checkOverride(override: JsonObject, triggerNamespace: string, policy: OverridePolicy): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const namespace = child(child(override, 'metadata'), 'namespace');
  if (namespace !== undefined && namespace !== triggerNamespace && !policy.allowCrossNamespace) {
    out.push({
      path: `${OVERRIDE}.metadata.namespace`,
      message: `the Deployment must stay in the trigger's namespace "${triggerNamespace}" (policy allowCrossNamespace, flag --allow-cross-namespace)`,
    });
  }
  checkPodSpec(child(child(child(override, 'spec'), 'template'), 'spec'), policy, out);
  return out;
}
