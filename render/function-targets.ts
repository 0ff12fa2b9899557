/**
 * Fan-out (`spec.functionSelector`): the functions are the Services a label selector chooses, and the
 * dispatcher reads their URLs from a file the controller keeps current in a ConfigMap. This module
 * holds what the render engine and the controller share: the file's place, the ConfigMap's name and
 * body, the URL of a Service, and the part of the Deployment that mounts the file.
 */
import { FUNCTION_TARGETS_FILE, FUNCTION_URL, KUBELESS_FUNCTION, TARGETS_KEY, TARGETS_MOUNT_PATH, TARGETS_VOLUME } from './env-contract.js';
import { isObject, own } from './merge.js';
import { labelValue } from './names.js';
import { RenderError } from './render-error.js';
import type { JsonObject, JsonValue, LabelSelector } from './trigger.js';

/** One function the dispatcher delivers to: the Service's name and its URL. */
export interface FunctionTarget {
  readonly name: string;
  readonly url: string;
}

/** The ConfigMap holding the targets of the dispatcher Deployment `deploymentName` (same namespace). */
export function targetsConfigMapName(deploymentName: string): string {
  return `${deploymentName}-targets`;
}

/** The in-cluster URL of a Service port, as `spec.function.service` and fan-out targets both build it. */
export function serviceUrl(name: string, namespace: string, port: number, path = '/'): string {
  return `http://${name}.${namespace}.svc.cluster.local:${port}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * `targets.json`: `{"targets":[{"name":…,"url":…}]}` sorted by name, with a fixed key order, so
 * the same set of targets always gives the same bytes (an unchanged set is never rewritten).
 */
export function targetsDocument(targets: readonly FunctionTarget[]): string {
  const sorted = [...targets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return JSON.stringify({ targets: sorted.map(({ name, url }) => ({ name, url })) });
}

/** The ConfigMap's `data`: one key, `targets.json`. */
export function targetsData(targets: readonly FunctionTarget[]): Record<string, string> {
  return { [TARGETS_KEY]: targetsDocument(targets) };
}

/** The label that marks a targets ConfigMap (beside the trigger's labels the Deployment carries too). */
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const TARGETS_COMPONENT = 'function-targets';

/** The targets ConfigMap of a trigger, without owner references (the controller adds them). */
export function targetsConfigMap(
  trigger: { kind: string; metadata: { name: string; namespace?: string | undefined } },
  deployment: { name: string; namespace: string },
  targets: readonly FunctionTarget[],
): { apiVersion: 'v1'; kind: 'ConfigMap'; metadata: { name: string; namespace: string; labels: Record<string, string> }; data: Record<string, string> } {
  const labels = {
    'kurier.dev/trigger': labelValue(trigger.metadata.name),
    'kurier.dev/kind': trigger.kind.toLowerCase(),
    'kurier.dev/trigger-namespace': trigger.metadata.namespace ?? 'default',
    'app.kubernetes.io/managed-by': 'kurier',
    [LABEL_COMPONENT]: TARGETS_COMPONENT,
  };
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: targetsConfigMapName(deployment.name), namespace: deployment.namespace, labels }, data: targetsData(targets) };
}

/** True when the trigger names its functions by label selector. */
export function usesFunctionSelector(spec: { functionSelector?: LabelSelector | undefined }): boolean {
  return spec.functionSelector !== undefined;
}

const asList = (value: JsonValue | undefined): JsonValue[] => (Array.isArray(value) ? value : []);

/**
 * Refuses, in the Deployment as the override left it, what would take the targets file away from
 * the controller (with a selector: a volume of its name, a mount at or around its path, a variable
 * naming the function another way; without one: FUNCTION_TARGETS_FILE). Paths are named as the
 * trigger would set them.
 */
export function checkTargetsOverride(podSpec: JsonObject, dispatcher: JsonObject, selector: boolean): void {
  const root = 'spec.deployment.spec.template.spec';
  const container = `${root}.containers[name=dispatcher]`;
  const problems: { path: string; message: string }[] = [];
  for (const variable of asList(own(dispatcher, 'env'))) {
    const name = isObject(variable) ? variable['name'] : undefined;
    if (name === FUNCTION_TARGETS_FILE && !selector) {
      problems.push({ path: `${container}.env[name=${name}]`, message: 'the controller sets FUNCTION_TARGETS_FILE, and only for spec.functionSelector; remove this variable' });
    } else if (selector && (name === FUNCTION_TARGETS_FILE || name === FUNCTION_URL || name === KUBELESS_FUNCTION)) {
      problems.push({ path: `${container}.env[name=${name}]`, message: 'spec.functionSelector chooses the functions: the controller sets FUNCTION_TARGETS_FILE; remove this variable' });
    }
  }
  if (!selector) {
    if (problems.length > 0) throw new RenderError(problems);
    return;
  }
  for (const volume of asList(own(podSpec, 'volumes'))) {
    if (isObject(volume) && volume['name'] === TARGETS_VOLUME) {
      problems.push({ path: `${root}.volumes[name=${TARGETS_VOLUME}]`, message: `the volume ${TARGETS_VOLUME} is the controller's (it holds the function targets); name yours differently` });
    }
  }
  for (const mount of asList(own(dispatcher, 'volumeMounts'))) {
    if (!isObject(mount)) continue;
    const mountPath = typeof mount['mountPath'] === 'string' ? mount['mountPath'] : '';
    const path = mountPath.replace(/\/+$/, '');
    if (mountPath === '') continue;
    if (mount['name'] === TARGETS_VOLUME || path === TARGETS_MOUNT_PATH || TARGETS_MOUNT_PATH.startsWith(`${path}/`) || path.startsWith(`${TARGETS_MOUNT_PATH}/`)) {
      problems.push({ path: `${container}.volumeMounts[mountPath=${mountPath}]`, message: `${TARGETS_MOUNT_PATH} is where the controller mounts the function targets; mount yours elsewhere` });
    }
  }
  if (problems.length > 0) throw new RenderError(problems);
}

/**
 * Mounts the targets ConfigMap read-only into the dispatcher container. Called after every merge,
 * so the volume and the mount are exactly these whatever the override said.
 */
export function mountTargets(podSpec: JsonObject, dispatcher: JsonObject, configMapName: string): void {
  const volumes = asList(own(podSpec, 'volumes')).filter((v) => !(isObject(v) && v['name'] === TARGETS_VOLUME));
  podSpec['volumes'] = [...volumes, { name: TARGETS_VOLUME, configMap: { name: configMapName } }];
  const mounts = asList(own(dispatcher, 'volumeMounts')).filter((m) => !(isObject(m) && m['name'] === TARGETS_VOLUME));
  dispatcher['volumeMounts'] = [...mounts, { name: TARGETS_VOLUME, mountPath: TARGETS_MOUNT_PATH, readOnly: true }];
}
