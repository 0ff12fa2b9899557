import { blockEnv, FUNCTION_TARGETS_FILE, FUNCTION_URL, TARGETS_FILE_PATH, type EnvVar } from './env-contract.js';
import { checkTargetsOverride, mountTargets, serviceUrl, targetsConfigMapName, usesFunctionSelector } from './function-targets.js';
import { compatibilityEnv, functionParts, isPreOneKubelessFunction, isPreOnePulsarTopic, withoutPreOneFields, preOneFunction, preOneTopicParts } from './legacy-pulsar.js';
import { contentHash } from './hash.js';
import { DISPATCHER_CONTAINER, isObject, mergeLayers, own, strategicMerge } from './merge.js';
import { deploymentName, labelValue } from './names.js';
import { checkOverrideInput } from './override-input.js';
import { checkDeployment } from './policy.js';
import type { OverridePolicy } from './policy-settings.js';
import { annotateMetricsPort, fitHostNetwork, settleMetricsPort } from './ports.js';
import { RenderError } from './render-error.js';
import { restoreSecurityDefaults } from './security-defaults.js';
import type { KindTemplate, Templates } from './templates.js';
import type { JsonObject, JsonValue, Trigger } from './trigger.js';

export { RenderError } from './render-error.js';

export const SPEC_HASH_ANNOTATION = 'kurier.dev/spec-hash';
export const LABEL_TRIGGER = 'kurier.dev/trigger';
export const LABEL_KIND = 'kurier.dev/kind';
export const LABEL_TRIGGER_NAMESPACE = 'kurier.dev/trigger-namespace';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGER = 'kurier';

export interface RenderOptions {
  /** Lets `spec.deployment.metadata.namespace` move the Deployment (also policy allowCrossNamespace). */
  allowCrossNamespace?: boolean;
}

/** An apps/v1 Deployment as plain JSON. */
export type Deployment = JsonObject & { metadata: JsonObject & { name: string; namespace: string }; spec: JsonObject };

function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

/** The function's URL, or `undefined` for a fan-out (`spec.functionSelector`: the controller lists the targets). */
function functionUrl(trigger: Trigger, namespace: string): string | undefined {
  const fn = trigger.spec.function;
  const legacy = trigger.spec.kubeless?.function;
  if (usesFunctionSelector(trigger.spec)) {
    if (fn !== undefined || trigger.spec.kubeless !== undefined) {
      throw RenderError.at('spec.functionSelector', `give either spec.functionSelector or ${fn === undefined ? 'spec.kubeless' : 'spec.function'}, not both`);
    }
    return undefined;
  }
  if (fn?.url !== undefined && fn.service !== undefined) {
    throw RenderError.at('spec.function', 'give exactly one of url and service, not both');
  }
  if (fn?.url !== undefined) return fn.url;
  if (fn?.service !== undefined) {
    const { name, namespace: serviceNamespace = namespace, port = 80, path = '/' } = fn.service;
    if (typeof name !== 'string' || name === '') throw RenderError.at('spec.function.service.name', 'is required');
    return serviceUrl(name, serviceNamespace, port, path);
  }
  if (isPreOneKubelessFunction(trigger.spec.kubeless) && isObject(trigger.spec.kubeless)) {
    return preOneFunction(trigger.spec.kubeless, namespace).url;
  }
  if (typeof legacy === 'string' && legacy !== '') return legacy;
  throw RenderError.at('spec.function', 'is required: give function.url or function.service, or spec.functionSelector (or kubeless.function)');
}

/** `t` → `persistent://public/default/t`, `tenant/ns/t` → `persistent://tenant/ns/t`. */
export function fullPulsarTopic(topic: string): string {
  if (topic.includes('://')) return topic;
  const parts = topic.split('/');
  return parts.length === 3 ? `persistent://${topic}` : `persistent://public/default/${topic}`;
}

function sourceBlock(trigger: Trigger, kind: KindTemplate, identity: Record<string, string>): JsonObject {
  const block = trigger.spec[kind.source];
  if (!isObject(block)) throw RenderError.at(`spec.${kind.source}`, `is required for a ${kind.kind}`);
  const preOne = kind.source === 'pulsar' && isPreOnePulsarTopic(block);
  const withDefaults: JsonObject = preOne ? withoutPreOneFields(block) : { ...block };
  if (preOne) {
    const topic = preOneTopicParts(block);
    withDefaults['topic'] = `${topic.type}://${topic.namespace}/${topic.name}`;
  }
  for (const [field, { value, unless }] of Object.entries(kind.defaults)) {
    const cancelled = unless !== undefined && block[unless] !== undefined && block[unless] !== null;
    if ((withDefaults[field] === undefined || withDefaults[field] === null) && !cancelled) withDefaults[field] = fill(value, identity);
  }
  if (kind.source === 'pulsar' && typeof withDefaults['topic'] === 'string') {
    withDefaults['topic'] = fullPulsarTopic(withDefaults['topic']);
  }
  return withDefaults;
}

/** What `KUBELESS_FUNCTION` meant in the trigger's generation: the name before 1.0, the URL since. */
function kubelessFunction(trigger: Trigger, url: string): string {
  const kubeless = trigger.spec.kubeless;
  return isPreOneKubelessFunction(kubeless) && typeof kubeless?.function === 'string' ? kubeless.function : url;
}

/** A kind's extra variable that names the one function: a fan-out has none to give it. */
const namesOneFunction = (value: string): boolean => value.includes('{functionUrl}') || value.includes('{kubelessFunction}');

function ownedEnv(trigger: Trigger, kind: KindTemplate, url: string | undefined, metricsPort: number, namespace: string): EnvVar[] {
  const identity: Record<string, string> = { name: trigger.metadata.name, namespace };
  if (url !== undefined) Object.assign(identity, { functionUrl: url, kubelessFunction: kubelessFunction(trigger, url) });
  const env: EnvVar[] = [
    { name: 'TRIGGER_KIND', value: kind.kind },
    { name: 'TRIGGER_NAME', value: trigger.metadata.name },
    { name: 'TRIGGER_NAMESPACE', value: namespace },
  ];
  if (trigger.metadata.uid !== undefined) env.push({ name: 'TRIGGER_UID', value: trigger.metadata.uid });
  env.push(url === undefined ? { name: FUNCTION_TARGETS_FILE, value: TARGETS_FILE_PATH } : { name: FUNCTION_URL, value: url });
  const block = sourceBlock(trigger, kind, identity);
  env.push(...blockEnv(kind.source.toUpperCase(), block, `spec.${kind.source}`));
  if (kind.source === 'pulsar' && typeof block['topic'] === 'string') {
    env.push(...compatibilityEnv(block['topic'], url === undefined ? undefined : functionParts(trigger.spec, namespace)));
  }
  const delivery = trigger.spec.delivery;
  if (delivery !== undefined) {
    if (!isObject(delivery)) throw RenderError.at('spec.delivery', 'must be an object');
    env.push(...blockEnv('DELIVERY', delivery, 'spec.delivery'));
  }
  env.push({ name: 'METRICS_PORT', value: String(metricsPort) });
  const extra = url === undefined ? kind.env.filter((variable) => !namesOneFunction(variable.value)) : kind.env;
  env.push(...extra.map((variable) => ({ name: variable.name, value: fill(variable.value, identity) })));
  return env;
}

/** The pod spec of a merged Deployment (every template has one). */
function podSpecOf(deployment: JsonObject): JsonObject {
  return (((deployment['spec'] as JsonObject | undefined)?.['template'] as JsonObject | undefined)?.['spec'] ?? {}) as JsonObject;
}

function containersOf(deployment: JsonObject): JsonObject[] {
  const containers = podSpecOf(deployment)['containers'];
  return Array.isArray(containers) ? containers.filter(isObject) : [];
}

function targetNamespace(override: JsonObject, triggerNamespace: string): string {
  const metadata = own(override, 'metadata');
  const requested = isObject(metadata) ? own(metadata, 'namespace') : undefined;
  return typeof requested === 'string' && requested !== '' ? requested : triggerNamespace;
}

/** The admin's policy with the command-line relaxation applied. */
export function effectivePolicy(templates: Templates, options: RenderOptions): OverridePolicy {
  return { ...templates.policy, allowCrossNamespace: templates.policy.allowCrossNamespace || options.allowCrossNamespace === true };
}

function checkRenderable(trigger: Trigger): void {
  if (typeof trigger.metadata.name !== 'string' || trigger.metadata.name === '') {
    throw RenderError.at('metadata.name', 'is required');
  }
  const override = trigger.spec.deployment;
  if (override !== undefined && override !== null && !isObject(override)) throw RenderError.at('spec.deployment', 'must be an object');
  const replicas = trigger.spec.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0)) {
    throw RenderError.at('spec.replicas', 'must be a whole number ≥ 0');
  }
}

function ownedFields(trigger: Trigger, kind: KindTemplate, namespace: string, triggerNamespace: string): JsonObject {
  const selector: Record<string, string> = {
    [LABEL_TRIGGER]: labelValue(trigger.metadata.name),
    [LABEL_KIND]: kind.kind.toLowerCase(),
    [LABEL_TRIGGER_NAMESPACE]: triggerNamespace,
  };
  const sameNamespace = namespace === triggerNamespace;
  const name = deploymentName(trigger.metadata.name, kind.source, sameNamespace ? undefined : triggerNamespace);
  const metadata: JsonObject = {
    name,
    namespace,
    labels: { ...selector, [LABEL_MANAGED_BY]: MANAGER, 'app.kubernetes.io/instance': name },
  };
  // Only the controller sets owner references; across namespaces Kubernetes ignores them (finalizer instead).
  metadata['ownerReferences'] = null;
  if (sameNamespace && trigger.metadata.uid !== undefined) {
    metadata['ownerReferences'] = [
      { apiVersion: trigger.apiVersion, kind: trigger.kind, name: trigger.metadata.name, uid: trigger.metadata.uid, controller: true, blockOwnerDeletion: true },
    ];
  }
  const spec: JsonObject = { template: { metadata: { labels: { ...selector, 'app.kubernetes.io/instance': name } } } };
  if (trigger.spec.replicas !== undefined) spec['replicas'] = trigger.spec.replicas;
  if (kind.singleton) {
    spec['replicas'] = Math.min(1, typeof spec['replicas'] === 'number' ? spec['replicas'] : 1);
    spec['strategy'] = { type: 'Recreate', rollingUpdate: null };
  }
  return { metadata, spec, selector };
}

function podLabelsOf(deployment: JsonObject): JsonObject {
  const template = (own(deployment, 'spec') as JsonObject | undefined)?.['template'];
  const labels = isObject(template) && isObject(template['metadata']) ? template['metadata']['labels'] : undefined;
  return isObject(labels) ? labels : {};
}

/** The pod labels the templates and the controller set, which an override may not change. */
function podLabels(defaults: JsonObject, owned: JsonObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...podLabelsOf(defaults), ...podLabelsOf(owned) })) {
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}

/**
 * Sets the spec-hash annotation from the Deployment's labels, other annotations and spec: the
 * controller compares it with the live Deployment's to know the trigger changed.
 */
export function stampSpecHash(deployment: Deployment): void {
  const metadata = deployment['metadata'];
  const annotations = (isObject(metadata['annotations']) ? metadata['annotations'] : {}) as Record<string, string>;
  const { [SPEC_HASH_ANNOTATION]: _previous, ...others } = annotations;
  metadata['annotations'] = { ...others, [SPEC_HASH_ANNOTATION]: contentHash({ labels: metadata['labels'] ?? null, annotations: others, spec: deployment['spec'] }) };
}

/**
 * Renders a trigger's dispatcher Deployment: the default template ⊕ the kind's container ⊕
 * `spec.deployment` ⊕ the fields the controller owns (name, labels and selector, owner reference,
 * env contract, spec-hash). Pure: the controller, `kurier render` and the tests call this one.
 * The override policy judges the result ({@link checkDeployment}), not the override.
 * Throws {@link RenderError} naming the field when the trigger is invalid or the result refused.
 */
export function render(trigger: Trigger, templates: Templates, options: RenderOptions = {}): Deployment {
  const kind = templates.kinds.get(trigger.kind);
  if (kind === undefined) {
    throw RenderError.at('kind', `unknown trigger kind "${trigger.kind}" (known: ${[...templates.kinds.keys()].join(', ')})`);
  }
  checkRenderable(trigger);
  const policy = effectivePolicy(templates, options);
  const triggerNamespace = trigger.metadata.namespace ?? 'default';
  const override = isObject(trigger.spec.deployment) ? trigger.spec.deployment : {};
  checkOverrideInput(override, policy);

  const namespace = targetNamespace(override, triggerNamespace);
  const url = functionUrl(trigger, triggerNamespace);
  const containerLayer: JsonObject = { spec: { template: { spec: { containers: [kind.container] } } } };
  const defaults = mergeLayers(templates.deployment, containerLayer);
  const merged = strategicMerge(defaults, override, 'spec.deployment');
  restoreSecurityDefaults(merged, defaults);

  const { selector, ...owned } = ownedFields(trigger, kind, namespace, triggerNamespace);
  const withOwned = strategicMerge(merged, owned);
  withOwned['apiVersion'] = 'apps/v1';
  withOwned['kind'] = 'Deployment';
  const { replicas, selector: _overridden, ...rest } = withOwned['spec'] as JsonObject;
  // Owned outright: a selector is immutable in Kubernetes and must be this trigger's alone.
  const spec: JsonObject = replicas === undefined ? {} : { replicas };
  spec['selector'] = { matchLabels: selector as JsonObject };
  Object.assign(spec, rest);
  withOwned['spec'] = spec;

  const dispatcher = containersOf(withOwned).find((container) => container['name'] === DISPATCHER_CONTAINER);
  if (dispatcher === undefined) {
    throw RenderError.at('spec.deployment.spec.template.spec.containers', 'the dispatcher container was removed');
  }
  if (typeof dispatcher['image'] !== 'string' || dispatcher['image'] === '') {
    throw RenderError.at('spec.deployment.spec.template.spec.containers[name=dispatcher].image', 'the dispatcher needs an image');
  }
  const fanOut = usesFunctionSelector(trigger.spec);
  checkTargetsOverride(podSpecOf(withOwned), dispatcher, fanOut);
  if (fanOut) mountTargets(podSpecOf(withOwned), dispatcher, targetsConfigMapName((withOwned['metadata'] as Deployment['metadata']).name));
  const metricsPort = settleMetricsPort(dispatcher);
  annotateMetricsPort(withOwned, override, metricsPort);
  fitHostNetwork(withOwned, override);
  const env = ownedEnv(trigger, kind, url, metricsPort, triggerNamespace);
  const withEnv = strategicMerge(dispatcher, { env: env as unknown as JsonValue[] });
  Object.assign(dispatcher, withEnv);

  stampSpecHash(withOwned as Deployment);

  const violations = checkDeployment(withOwned, { triggerNamespace, policy, baselinePodLabels: podLabels(defaults, owned) });
  if (violations.length > 0) throw new RenderError(violations);
  return withOwned as Deployment;
}
