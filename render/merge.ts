import type { JsonObject, JsonValue } from './trigger.js';

/**
 * Merge keys of lists of objects, by field name, as in Kubernetes' strategic merge patch for the
 * Deployment types. Lists not named here are replaced whole by the overriding side.
 */
export const MERGE_KEYS: Readonly<Record<string, string>> = Object.freeze({
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  imagePullSecrets: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
});

/** The container every override container without a name merges into. */
export const DISPATCHER_CONTAINER = 'dispatcher';

const PATCH_DIRECTIVE = '$patch';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutDirective(item: JsonObject): JsonObject {
  const { [PATCH_DIRECTIVE]: _directive, ...rest } = item;
  return rest;
}

// The helpers below take `base` as theirs to change (a fresh copy made once, at the top) and never
// change `override`: whatever they take from it is copied.

function mergeKeyedList(field: string, key: string, base: JsonValue[], override: JsonValue[]): JsonValue[] {
  for (const item of override) {
    if (!isObject(item)) {
      base.push(structuredClone(item));
      continue;
    }
    // kubeless-pulsar-trigger treated the first container as the dispatcher: an unnamed one merges into it.
    const itemKey = field === 'containers' && item[key] === undefined ? DISPATCHER_CONTAINER : item[key];
    const index = base.findIndex((existing) => isObject(existing) && existing[key] === itemKey);
    if (item[PATCH_DIRECTIVE] === 'delete') {
      if (index >= 0) base.splice(index, 1);
      continue;
    }
    const keyed = itemKey === undefined ? withoutDirective(item) : { ...withoutDirective(item), [key]: itemKey };
    if (index >= 0) base[index] = mergeValues(base[index] ?? null, keyed);
    else base.push(mergeValues({}, keyed));
  }
  return base;
}

function mergeValues(base: JsonValue, override: JsonValue, field?: string): JsonValue {
  if (isObject(base) && isObject(override)) return mergeInto(base, override);
  if (Array.isArray(base) && Array.isArray(override) && field !== undefined) {
    const key = MERGE_KEYS[field];
    if (key !== undefined) return mergeKeyedList(field, key, base, override);
  }
  if (isObject(override)) return mergeInto({}, override);
  return structuredClone(override);
}

function mergeInto(base: JsonObject, override: JsonObject): JsonObject {
  for (const [field, value] of Object.entries(override)) {
    if (field === PATCH_DIRECTIVE) continue;
    // `null` removes a field, as in a merge patch.
    if (value === null) {
      Reflect.deleteProperty(base, field);
      continue;
    }
    const existing = base[field];
    base[field] = existing === undefined ? mergeValues(Array.isArray(value) ? [] : {}, value, field) : mergeValues(existing, value, field);
  }
  return base;
}

/**
 * Merges `override` over `base` with Kubernetes strategic-merge rules: maps merge deeply, lists
 * of objects merge by key ({@link MERGE_KEYS}), other lists and scalars are replaced, `null`
 * removes a field and `$patch: delete` on a keyed item removes that item. Inputs are not changed.
 */
export function strategicMerge(base: JsonObject, override: JsonObject): JsonObject {
  return mergeInto(structuredClone(base), override);
}

/** Merges every layer in order, later wins. */
export function mergeLayers(...layers: readonly JsonObject[]): JsonObject {
  return layers.reduce<JsonObject>((merged, layer) => mergeInto(merged, layer), {});
}
