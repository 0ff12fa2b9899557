/**
 * An independent reading of the Kubernetes Pod Security Standards (baseline + restricted, as
 * published at kubernetes.io/docs/concepts/security/pod-security-standards) plus the two Kurier
 * invariants that are not in them (no service account token, the trigger's namespace), used to
 * check rendered Deployments. It shares no code with render/policy.ts on purpose: a test that
 * judged the policy by the policy could not fail. Each finding names the admin rule that may allow it.
 */
type Obj = Record<string, unknown>;

export interface Finding {
  readonly control: string;
  readonly path: string;
  /** The policy.yaml rule whose being on makes this finding acceptable. */
  readonly allowedBy: string;
}

const obj = (value: unknown): Obj => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : {});
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

export function restrictedFindings(deployment: unknown, triggerNamespace: string): Finding[] {
  const out: Finding[] = [];
  const add = (control: string, path: string, allowedBy: string): void => { out.push({ control, path, allowedBy }); };
  const metadata = obj(obj(deployment).metadata);
  if (metadata.namespace !== triggerNamespace) add('namespace', 'metadata.namespace', 'allowCrossNamespace');
  const template = obj(obj(obj(deployment).spec).template);
  const annotations = obj(obj(template.metadata).annotations);
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/') && value !== 'runtime/default' && !String(value).startsWith('localhost/')) {
      add('AppArmor', `annotations.${key}`, 'allowPrivileged');
    }
  }
  const pod = obj(template.spec);
  const podSc = obj(pod.securityContext);
  if (pod.automountServiceAccountToken !== false) add('service account token', 'automountServiceAccountToken', 'allowServiceAccount');
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[field] === true) add('host namespaces', field, 'allowHostNamespaces');
  if (obj(podSc.windowsOptions).hostProcess === true) add('HostProcess', 'securityContext.windowsOptions.hostProcess', 'allowPrivileged');
  for (const [index, volume] of arr(pod.volumes).entries()) {
    for (const type of Object.keys(obj(volume))) {
      if (type === 'name') continue;
      if (type === 'hostPath') add('HostPath volumes', `volumes[${index}]`, 'allowHostPath');
      else if (!RESTRICTED_VOLUMES.has(type)) add('volume types', `volumes[${index}].${type}`, 'allowedVolumeTypes');
      for (const source of arr(obj(obj(volume).projected).sources)) {
        if (obj(source).serviceAccountToken !== undefined) add('service account token', `volumes[${index}].projected`, 'allowServiceAccount');
      }
    }
  }
  const sysctls = arr(podSc.sysctls);
  if (sysctls.length > 0) add('sysctls', 'securityContext.sysctls', 'allowPrivileged');
  if (podSc.runAsUser === 0) add('non-root user', 'securityContext.runAsUser', 'allowPrivileged');
  const seLinux = (sc: Obj, path: string): void => {
    const options = obj(sc.seLinuxOptions);
    if (!SELINUX_TYPES.has(typeof options.type === 'string' ? options.type : '')) add('SELinux', `${path}.seLinuxOptions.type`, 'allowPrivileged');
    if ((options.user ?? '') !== '' || (options.role ?? '') !== '') add('SELinux', `${path}.seLinuxOptions`, 'allowPrivileged');
  };
  seLinux(podSc, 'securityContext');
  const podSeccomp = obj(podSc.seccompProfile).type;
  if (podSeccomp === 'Unconfined') add('seccomp', 'securityContext.seccompProfile', 'allowPrivileged');
  const podAppArmor = obj(podSc.appArmorProfile).type;
  if (podAppArmor !== undefined && podAppArmor !== 'RuntimeDefault' && podAppArmor !== 'Localhost') add('AppArmor', 'securityContext.appArmorProfile', 'allowPrivileged');
  const containers = [...arr(pod.containers), ...arr(pod.initContainers), ...arr(pod.ephemeralContainers)];
  for (const [index, container] of containers.entries()) {
    const path = `containers*[${index}]`;
    const sc = obj(obj(container).securityContext);
    if (sc.privileged === true) add('privileged', `${path}.privileged`, 'allowPrivileged');
    if (obj(sc.windowsOptions).hostProcess === true) add('HostProcess', `${path}.hostProcess`, 'allowPrivileged');
    if (sc.allowPrivilegeEscalation !== false) add('privilege escalation', `${path}.allowPrivilegeEscalation`, 'allowPrivileged');
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    if (nonRoot !== true) add('non-root', `${path}.runAsNonRoot`, 'allowPrivileged');
    if (sc.runAsUser === 0) add('non-root user', `${path}.runAsUser`, 'allowPrivileged');
    const seccomp = obj(sc.seccompProfile).type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') add('seccomp', `${path}.seccompProfile`, 'allowPrivileged');
    const appArmor = obj(sc.appArmorProfile).type;
    if (appArmor !== undefined && appArmor !== 'RuntimeDefault' && appArmor !== 'Localhost') add('AppArmor', `${path}.appArmorProfile`, 'allowPrivileged');
    seLinux(sc, path);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') add('/proc mount', `${path}.procMount`, 'allowPrivileged');
    const capabilities = obj(sc.capabilities);
    if (!arr(capabilities.drop).includes('ALL')) add('capabilities', `${path}.capabilities.drop`, 'allowPrivileged');
    if (arr(capabilities.add).some((capability) => capability !== 'NET_BIND_SERVICE')) add('capabilities', `${path}.capabilities.add`, 'allowPrivileged');
    for (const port of arr(obj(container).ports)) {
      const hostPort = obj(port).hostPort;
      if (hostPort !== undefined && hostPort !== 0) add('host ports', `${path}.ports`, 'allowHostNamespaces');
    }
  }
  return out;
}
