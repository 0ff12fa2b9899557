/**
 * kubeless-pulsar-trigger before 1.0 split its PulsarTrigger fields: `spec.pulsar.namespace` (+ the
 * unused `tenant` and optional `topic-type`) with `topic` as a bare name, and `spec.kubeless.namespace`,
 * `function` as a name, `port`, `scheme` (its CRD and README spelled it `schema`). This module reads
 * that form and derives the variables both generations' dispatcher images read.
 */
import type { EnvVar } from './env-contract.js';
import type { TriggerSpec } from './trigger.js';

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const given = (value: unknown): boolean => value !== undefined && value !== null;

/** Fields only the pre-1.0 form has; render leaves them out of the mechanical `PULSAR_*` variables. */
export function withoutPreOneFields<T extends Record<string, unknown>>(block: T): T {
  const { namespace: _namespace, tenant: _tenant, 'topic-type': _type, ...rest } = block;
  return rest as T;
}

/** True when `spec.pulsar` names the topic by namespace + name (the pre-1.0 form). */
export function isPreOnePulsarTopic(pulsar: unknown): boolean {
  return isObj(pulsar) && given(pulsar['namespace']);
}

/** True when `spec.kubeless` names the function by name + namespace + port (the pre-1.0 form). */
export function isPreOneKubelessFunction(kubeless: unknown): boolean {
  return isObj(kubeless) && (given(kubeless['namespace']) || given(kubeless['port']));
}

/** A Pulsar topic in its parts. */
export interface TopicParts {
  readonly type: string;
  /** `tenant/namespace`, the value an old image puts between `TYPE://` and `/NAME`. */
  readonly namespace: string;
  readonly name: string;
}

/**
 * The pre-1.0 topic. Its dispatcher built `TYPE://NAMESPACE/TOPIC`, which Pulsar 2 refuses unless
 * NAMESPACE already holds the tenant; the README meant `persistent://public/default/mytopic` for
 * `namespace: default`, so a namespace without `/` gets `tenant` (default `public`) in front.
 */
export function preOneTopicParts(pulsar: Obj): TopicParts {
  const namespace = String(pulsar['namespace']);
  const tenant = typeof pulsar['tenant'] === 'string' && pulsar['tenant'] !== '' ? pulsar['tenant'] : 'public';
  const type = typeof pulsar['topic-type'] === 'string' && pulsar['topic-type'] !== '' ? pulsar['topic-type'] : 'persistent';
  return { type, namespace: namespace.includes('/') ? namespace : `${tenant}/${namespace}`, name: String(pulsar['topic']) };
}

/** `TYPE://TENANT/NAMESPACE/NAME` split into its parts, or undefined if it is not of that shape. */
export function splitFullTopic(topic: string): TopicParts | undefined {
  const match = /^([a-z-]+):\/\/([^/]+\/[^/]+)\/([^/]+)$/.exec(topic);
  if (match === null) return undefined;
  const [, type = '', namespace = '', name = ''] = match;
  return { type, namespace, name };
}

/** The scheme of a pre-1.0 function: `scheme` (its controller) or `schema` (its CRD and README), else http. */
function preOneScheme(kubeless: Obj): string {
  for (const field of ['scheme', 'schema']) {
    const value = kubeless[field];
    if (typeof value === 'string' && value !== '') return value;
  }
  return 'http';
}

/** A function in its parts, as the pre-1.0 variables carry it. */
export interface FunctionParts {
  readonly name: string;
  readonly namespace: string;
  readonly port: string;
  readonly scheme: string;
}

/** The pre-1.0 function: `SCHEME://FUNCTION.NAMESPACE:PORT`, the URL its dispatcher posted to. */
export function preOneFunction(kubeless: Obj, triggerNamespace: string): { url: string; parts: FunctionParts } {
  const parts: FunctionParts = {
    name: String(kubeless['function']),
    namespace: typeof kubeless['namespace'] === 'string' && kubeless['namespace'] !== '' ? kubeless['namespace'] : triggerNamespace,
    port: typeof kubeless['port'] === 'number' ? String(kubeless['port']) : '8080',
    scheme: preOneScheme(kubeless),
  };
  return { url: `${parts.scheme}://${parts.name}.${parts.namespace}:${parts.port}`, parts };
}

/** The function parts of `spec.function.service` or of a pre-1.0 `spec.kubeless`, when the spec names one that way. */
export function functionParts(spec: TriggerSpec, triggerNamespace: string): FunctionParts | undefined {
  if (isPreOneKubelessFunction(spec.kubeless) && isObj(spec.kubeless)) return preOneFunction(spec.kubeless, triggerNamespace).parts;
  const service = spec.function?.service;
  if (service === undefined) return undefined;
  return { name: service.name, namespace: service.namespace ?? triggerNamespace, port: String(service.port ?? 80), scheme: 'http' };
}

/**
 * The variables of both generations that the mechanical `PULSAR_*` derivation does not give:
 * `PULSAR_TOPIC_TYPE`/`_NAMESPACE`/`_NAME` from the full topic, and `KUBELESS_FUNCTION_NAMESPACE`/
 * `_PORT`/`_SCHEME` plus the misspelt `_SCHEMA` its dispatcher read, when the function has those parts.
 */
export function compatibilityEnv(fullTopic: string, fn: FunctionParts | undefined): EnvVar[] {
  const env: EnvVar[] = [];
  const topic = splitFullTopic(fullTopic);
  if (topic !== undefined) {
    env.push(
      { name: 'PULSAR_TOPIC_NAME', value: topic.name },
      { name: 'PULSAR_TOPIC_NAMESPACE', value: topic.namespace },
      { name: 'PULSAR_TOPIC_TYPE', value: topic.type },
    );
  }
  if (fn !== undefined) {
    env.push(
      { name: 'KUBELESS_FUNCTION_NAMESPACE', value: fn.namespace },
      { name: 'KUBELESS_FUNCTION_PORT', value: fn.port },
      { name: 'KUBELESS_FUNCTION_SCHEMA', value: fn.scheme },
      { name: 'KUBELESS_FUNCTION_SCHEME', value: fn.scheme },
    );
  }
  return env;
}
