/**
 * kubeless-pulsar-trigger's PulsarTrigger (kubeless.io/v1), both generations, in Kurier's own form:
 * the topic as one full URL and the function as `spec.function`. Kurier also accepts either
 * generation as written (render/legacy-pulsar.ts); this reads the pre-1.0 fields the same way, so
 * the converted trigger reaches the same topic and function.
 */
import { isPreOneKubelessFunction, isPreOnePulsarTopic, preOneFunction, preOneTopicParts } from '../render/legacy-pulsar.js';
import { isObj, unmappedFields, type Note, type Obj, type Source } from './kubeless-source.js';

const BACKOFF_MAX = 'ERROR_BACKOFF_DELAY_MAX';
const BACKOFF_FACTOR = 'ERROR_BACKOFF_FACTOR';

function pulsarOf(pulsar: Obj, notes: Note[]): Obj {
  const preOne = isPreOnePulsarTopic(pulsar);
  unmappedFields(pulsar, preOne ? ['namespace', 'tenant', 'topic-type', 'topic', 'broker', 'auth-token'] : ['topic', 'broker', 'auth-token'], 'spec.pulsar', 'PulsarTrigger', notes);
  const out: Obj = {};
  if (preOne && typeof pulsar['topic'] === 'string') {
    const parts = preOneTopicParts(pulsar);
    out['topic'] = `${parts.type}://${parts.namespace}/${parts.name}`;
  } else if (pulsar['topic'] !== undefined) {
    out['topic'] = pulsar['topic'];
  }
  if (pulsar['broker'] !== undefined) out['broker'] = pulsar['broker'];
  // Kept inline as it was; the verdict on the output warns and recommends authTokenSecretRef.
  if (pulsar['auth-token'] !== undefined) out['auth-token'] = pulsar['auth-token'];
  return out;
}

function containerImage(deployment: unknown): unknown {
  const spec = isObj(deployment) ? deployment['spec'] : undefined;
  const template = isObj(spec) ? spec['template'] : undefined;
  const podSpec = isObj(template) ? template['spec'] : undefined;
  const containers = isObj(podSpec) ? podSpec['containers'] : undefined;
  return Array.isArray(containers) && isObj(containers[0]) ? containers[0]['image'] : undefined;
}

/**
 * `spec.function` for the function kubeless-pulsar-trigger called. A pre-1.0 trigger keeps
 * `spec.kubeless` when `spec.function` would change the variables a custom dispatcher image reads:
 * with its own image (KUBELESS_FUNCTION is the function's name only in the pre-1.0 form), or with a
 * scheme other than http (`spec.function.service` is http; a URL is not split into the variables).
 */
function functionOf(kubeless: Obj, source: Source, notes: Note[]): Obj {
  const preOne = isPreOneKubelessFunction(kubeless) || (typeof kubeless['function'] === 'string' && !/^https?:\/\//.test(kubeless['function']));
  unmappedFields(kubeless, preOne ? ['function', 'namespace', 'port', 'scheme', 'schema'] : ['function'], 'spec.kubeless', 'PulsarTrigger', notes);
  const fn = kubeless['function'];
  if (typeof fn !== 'string' || fn === '') {
    notes.push({ path: 'spec.kubeless.function', message: 'missing: kubeless-pulsar-trigger required it; fill in spec.function' });
    return {};
  }
  if (!preOne) return { function: { url: fn } };
  if (containerImage(source.spec['deployment']) !== undefined) {
    notes.push({ path: 'spec.kubeless', message: 'kept in the pre-1.0 form: spec.deployment sets a dispatcher image, and a pre-1.0 image reads KUBELESS_FUNCTION as the function name, which Kurier sets only for this form' });
    return { kubeless };
  }
  const { parts } = preOneFunction(kubeless, source.namespace ?? '');
  if (parts.scheme !== 'http') {
    notes.push({ path: 'spec.kubeless', message: `kept in the pre-1.0 form: spec.function.service is plain http, and spec.function.url would drop the KUBELESS_FUNCTION_NAMESPACE, _PORT and _SCHEME variables (${parts.scheme}) Kurier sets for this form` });
    return { kubeless };
  }
  const namespace = typeof kubeless['namespace'] === 'string' && kubeless['namespace'] !== '' ? { namespace: kubeless['namespace'] } : {};
  return { function: { service: { name: parts.name, ...namespace, port: Number(parts.port) } } };
}

function seconds(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * The dispatcher container's env, with the backoff variables of kubeless-pulsar-trigger's dispatcher
 * taken out and mapped. Its controllers replaced this env with their own, so none of it took effect
 * there; it is carried as what the trigger's author asked for.
 */
function mapEnv(env: unknown[], path: string, delivery: Obj, notes: Note[]): unknown[] {
  if (env.length > 0) notes.push({ path, message: "kubeless-pulsar-trigger replaced the dispatcher's env with its own, so none of this env had an effect there; Kurier applies it" });
  const kept: unknown[] = [];
  for (const entry of env) {
    const name = isObj(entry) ? entry['name'] : undefined;
    if (name === BACKOFF_MAX) {
      const max = seconds(isObj(entry) ? entry['value'] : undefined);
      if (max !== undefined) {
        delivery['retry'] = { maxDelay: `${max}s` };
        notes.push({ path: `${path}[${BACKOFF_MAX}]`, message: `became spec.delivery.retry.maxDelay: ${max}s (Kurier does not read ${BACKOFF_MAX})` });
        continue;
      }
      notes.push({ path: `${path}[${BACKOFF_MAX}]`, message: 'kept, but Kurier does not read it and its value is not a number of seconds: set spec.delivery.retry.maxDelay' });
    } else if (name === BACKOFF_FACTOR) {
      notes.push({ path: `${path}[${BACKOFF_FACTOR}]`, message: 'dropped: Kurier backs off exponentially per message, without an additive step; spec.delivery.retry.initialDelay sets how fast the delay grows (docs/pulsar.md)' });
      continue;
    }
    kept.push(entry);
  }
  return kept;
}

/**
 * `spec.deployment` as kubeless-pulsar-trigger applied it: only the first container, as the
 * dispatcher, and the Deployment in the trigger's namespace unless cross-namespace is allowed.
 */
function deploymentOf(deployment: unknown, options: Source['options'], delivery: Obj, notes: Note[]): Obj {
  if (!isObj(deployment)) return {};
  const out: Obj = structuredClone(deployment);
  const metadata = out['metadata'];
  if (isObj(metadata) && metadata['namespace'] !== undefined && !options.allowCrossNamespace) {
    notes.push({ path: 'spec.deployment.metadata.namespace', message: `dropped: the dispatcher Deployment lives in the trigger's namespace (Kurier's policy refuses moving it; an admin may allow it, then run with --allow-cross-namespace to keep ${JSON.stringify(metadata['namespace'])})` });
    delete metadata['namespace'];
    if (Object.keys(metadata).length === 0) delete out['metadata'];
  }
  const spec = out['spec'];
  const template = isObj(spec) ? spec['template'] : undefined;
  const podSpec = isObj(template) ? template['spec'] : undefined;
  const containers = isObj(podSpec) ? podSpec['containers'] : undefined;
  if (!isObj(podSpec) || !Array.isArray(containers) || containers.length === 0) return { deployment: out };
  const path = 'spec.deployment.spec.template.spec.containers';
  if (containers.length > 1) notes.push({ path: `${path}[1:]`, message: `dropped ${containers.length - 1} container(s): kubeless-pulsar-trigger ran only the first (in Kurier a named extra container would be a sidecar)` });
  const first: unknown = containers[0];
  if (!isObj(first)) return { deployment: out };
  if (first['name'] !== undefined && first['name'] !== 'dispatcher') {
    notes.push({ path: `${path}[0].name`, message: `renamed ${JSON.stringify(first['name'])} to dispatcher: kubeless-pulsar-trigger merged its first container into the dispatcher whatever its name; Kurier does so by the name dispatcher` });
  }
  const { name: _name, ...rest } = first;
  const dispatcher: Obj = { name: 'dispatcher', ...rest };
  if (Array.isArray(first['env'])) {
    const env = mapEnv(first['env'], `${path}[0].env`, delivery, notes);
    if (env.length > 0) dispatcher['env'] = env;
    else delete dispatcher['env'];
  }
  podSpec['containers'] = [dispatcher];
  return { deployment: out };
}

/** kubeless.io/v1 PulsarTrigger, 1.0 or pre-1.0 form (`spec.pulsar`, `spec.kubeless`, `spec.deployment`). */
export function convertPulsarTrigger(source: Source, notes: Note[]): { kind: string; spec: Obj } {
  const { spec } = source;
  unmappedFields(spec, ['pulsar', 'kubeless', 'deployment'], 'spec', 'PulsarTrigger', notes);
  const pulsar = isObj(spec['pulsar']) ? pulsarOf(spec['pulsar'], notes) : {};
  if (!isObj(spec['pulsar'])) notes.push({ path: 'spec.pulsar', message: 'missing: kubeless-pulsar-trigger required it (topic and broker)' });
  const kubeless = spec['kubeless'];
  const fn = isObj(kubeless) ? functionOf(kubeless, source, notes) : {};
  if (!isObj(kubeless)) notes.push({ path: 'spec.kubeless', message: 'missing: kubeless-pulsar-trigger required it (the function)' });
  const delivery: Obj = {};
  const deployment = deploymentOf(spec['deployment'], source.options, delivery, notes);
  return { kind: 'PulsarTrigger', spec: { pulsar, ...fn, ...(Object.keys(delivery).length > 0 ? { delivery } : {}), ...deployment } };
}
