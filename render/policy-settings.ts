/** The admin's override policy (`templates/policy.yaml`): named rules that relax the default. */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

/** What a trigger's rendered Deployment may have beyond the restricted default. */
export interface OverridePolicy {
  /** `spec.deployment.metadata.namespace` may move the Deployment (also `--allow-cross-namespace`). */
  readonly allowCrossNamespace: boolean;
  /** serviceAccountName, a mounted or projected service account token. */
  readonly allowServiceAccount: boolean;
  /** hostNetwork, hostPID, hostIPC, hostUsers: true, hostPort, hostIP. */
  readonly allowHostNamespaces: boolean;
  /** privileged, escalation, added capabilities, root users and groups, sysctls, procMount, unconfined/Localhost seccomp or AppArmor, SELinux options, hostProcess. */
  readonly allowPrivileged: boolean;
  /** hostPath volumes. */
  readonly allowHostPath: boolean;
  /** Containers without `readOnlyRootFilesystem: true`. */
  readonly allowWritableRootFilesystem: boolean;
  /** nodeName and tolerations of every taint or of the system taints (node-role…, node…). */
  readonly allowNodePlacement: boolean;
  /** httpGet.host / tcpSocket.host in probes and lifecycle hooks (the kubelet calls them from the node). */
  readonly allowProbeHosts: boolean;
  /** Volume types beyond configMap, secret, emptyDir, downwardAPI and projected (e.g. persistentVolumeClaim, csi). */
  readonly allowedVolumeTypes: readonly string[];
  /** priorityClassName values an override may choose. */
  readonly allowedPriorityClasses: readonly string[];
  /** runtimeClassName values an override may choose. */
  readonly allowedRuntimeClasses: readonly string[];
  /** Pod label keys an override may add (`example.com/team`, or a prefix ending in `*`, e.g. `example.com/*`). */
  readonly allowedPodLabels: readonly string[];
  /** The largest `spec.deployment`, in bytes of JSON, accepted before anything else is done with it. */
  readonly maxOverrideBytes: number;
}

export const DEFAULT_POLICY: OverridePolicy = Object.freeze({
  allowCrossNamespace: false,
  allowServiceAccount: false,
  allowHostNamespaces: false,
  allowPrivileged: false,
  allowHostPath: false,
  allowWritableRootFilesystem: false,
  allowNodePlacement: false,
  allowProbeHosts: false,
  allowedVolumeTypes: Object.freeze([]),
  allowedPriorityClasses: Object.freeze([]),
  allowedRuntimeClasses: Object.freeze([]),
  allowedPodLabels: Object.freeze([]),
  maxOverrideBytes: 256 * 1024,
});

/** A policy file that is missing or malformed; the message names the file and setting. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every setting of `doc` checked against {@link DEFAULT_POLICY}'s types; unset ones keep the default. */
export function parsePolicy(doc: unknown, file: string): OverridePolicy {
  if (doc === null || doc === undefined) return DEFAULT_POLICY;
  if (!isRecord(doc)) throw new PolicyError(`${file}: must be a YAML mapping of policy settings`);
  const policy: Record<string, unknown> = { ...DEFAULT_POLICY };
  for (const [key, value] of Object.entries(doc)) {
    if (!Object.hasOwn(DEFAULT_POLICY, key)) {
      throw new PolicyError(`${file}: unknown policy setting "${key}" (known: ${Object.keys(DEFAULT_POLICY).join(', ')})`);
    }
    const expected: unknown = DEFAULT_POLICY[key as keyof OverridePolicy];
    if (typeof expected === 'boolean' && typeof value !== 'boolean') throw new PolicyError(`${file}: ${key} must be true or false`);
    if (typeof expected === 'number' && (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)) {
      throw new PolicyError(`${file}: ${key} must be a whole number of bytes greater than 0`);
    }
    if (Array.isArray(expected)) {
      if (value === null) continue;
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
        throw new PolicyError(`${file}: ${key} must be a list of names`);
      }
      policy[key] = Object.freeze([...(value as string[])]);
      continue;
    }
    policy[key] = value;
  }
  return Object.freeze(policy) as unknown as OverridePolicy;
}

/** Reads a policy file (`templates/policy.yaml` or `--policy FILE`). */
export async function loadPolicy(file: string): Promise<OverridePolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PolicyError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new PolicyError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`, { cause: err });
  }
  return parsePolicy(doc, file);
}
