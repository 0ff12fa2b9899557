/**
 * The default template's security settings are a floor, not a suggestion: after the override is
 * merged, whatever it removed (`securityContext: null`, `runAsNonRoot: null`, a re-added dispatcher)
 * comes back, and every sidecar and init container gets the dispatcher's default container
 * securityContext for the fields it does not set. Values an override sets are kept and judged
 * by the policy.
 */
import { DISPATCHER_CONTAINER, isObject, own } from './merge.js';
import type { JsonObject, JsonValue } from './trigger.js';

const POD_FIELDS = ['automountServiceAccountToken'] as const;
const CONTAINER_LISTS = ['containers', 'initContainers'] as const;

function podSpecOf(deployment: JsonObject): JsonObject | undefined {
  const template = (isObject(own(deployment, 'spec')) ? (deployment['spec'] as JsonObject) : {})['template'];
  const spec = isObject(template) ? own(template, 'spec') : undefined;
  return isObject(spec) ? spec : undefined;
}

/** `target[field]` with every field of `floor` it lacks, copied. */
function withFloor(value: JsonValue | undefined, floor: JsonObject): JsonObject {
  const target: JsonObject = isObject(value) ? value : {};
  for (const [field, fallback] of Object.entries(floor)) {
    if (!Object.hasOwn(target, field)) target[field] = structuredClone(fallback);
  }
  return target;
}

/** Restores in `rendered` (changed in place) the security settings of `defaults` an override removed. */
export function restoreSecurityDefaults(rendered: JsonObject, defaults: JsonObject): void {
  const floorPod = podSpecOf(defaults);
  const pod = podSpecOf(rendered);
  if (floorPod === undefined || pod === undefined) return;
  for (const field of POD_FIELDS) {
    const fallback = own(floorPod, field);
    if (fallback !== undefined && !Object.hasOwn(pod, field)) pod[field] = fallback;
  }
  const podSecurity = own(floorPod, 'securityContext');
  if (isObject(podSecurity)) pod['securityContext'] = withFloor(own(pod, 'securityContext'), podSecurity);
  const dispatcher = (Array.isArray(floorPod['containers']) ? floorPod['containers'] : []).find(
    (container) => isObject(container) && own(container, 'name') === DISPATCHER_CONTAINER,
  );
  const containerSecurity = isObject(dispatcher) ? own(dispatcher, 'securityContext') : undefined;
  if (!isObject(containerSecurity)) return;
  for (const list of CONTAINER_LISTS) {
    const containers = own(pod, list);
    if (!Array.isArray(containers)) continue;
    for (const container of containers) {
      if (isObject(container)) container['securityContext'] = withFloor(own(container, 'securityContext'), containerSecurity);
    }
  }
}
