import { isObject } from './merge.js';
import { RenderError } from './render-error.js';
import type { JsonObject, JsonValue } from './trigger.js';

/** A container environment variable as the Deployment carries it. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
}

const SECRET_REF_SUFFIX = 'SecretRef';

/** `groupId` → `GROUP_ID`, `auth-token` → `AUTH_TOKEN`, `maxInFlight` → `MAX_IN_FLIGHT`. */
export function envSegment(field: string): string {
  return field
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

function scalarText(value: JsonValue, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw RenderError.at(path, 'only scalars and lists of scalars can become environment variables');
}

function secretRef(value: JsonValue, path: string): { name: string; key: string } {
  if (!isObject(value) || typeof value['name'] !== 'string' || typeof value['key'] !== 'string') {
    throw RenderError.at(path, 'a secret reference needs string fields name and key');
  }
  return { name: value['name'], key: value['key'] };
}

function collect(prefix: string, block: JsonObject, path: string, out: EnvVar[]): void {
  for (const [field, value] of Object.entries(block)) {
    const fieldPath = `${path}.${field}`;
    if (value === null) continue;
    if (field.endsWith(SECRET_REF_SUFFIX) && field.length > SECRET_REF_SUFFIX.length) {
      const plain = field.slice(0, -SECRET_REF_SUFFIX.length);
      if (block[plain] !== undefined && block[plain] !== null) {
        throw RenderError.at(fieldPath, `give either ${plain} or ${field}, not both`);
      }
      out.push({ name: `${prefix}_${envSegment(plain)}`, valueFrom: { secretKeyRef: secretRef(value, fieldPath) } });
    } else if (isObject(value)) {
      collect(`${prefix}_${envSegment(field)}`, value, fieldPath, out);
    } else if (Array.isArray(value)) {
      // Arrays of scalars are comma-joined.
      out.push({ name: `${prefix}_${envSegment(field)}`, value: value.map((item, i) => scalarText(item, `${fieldPath}[${i}]`)).join(',') });
    } else {
      out.push({ name: `${prefix}_${envSegment(field)}`, value: scalarText(value, fieldPath) });
    }
  }
}

/**
 * The variables for one block of the spec, mechanically: every scalar leaf `a.bC` becomes
 * `<PREFIX>_A_B_C`, arrays of scalars are comma-joined, and `xSecretRef: {name, key}` becomes
 * `<PREFIX>_X` read from the Secret. Sorted by name, so reordering fields changes nothing.
 */
export function blockEnv(prefix: string, block: JsonObject, path: string): EnvVar[] {
  const out: EnvVar[] = [];
  collect(prefix, block, path, out);
  const seen = new Map<string, EnvVar>();
  for (const variable of out) {
    if (seen.has(variable.name)) throw RenderError.at(path, `two fields map to the same variable ${variable.name}`);
    seen.set(variable.name, variable);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The function's URL, set by the controller for `spec.function` (and `spec.kubeless.function`). */
export const FUNCTION_URL = 'FUNCTION_URL';
/** kubeless-pulsar-trigger's name for the function; a fan-out has no single one. */
export const KUBELESS_FUNCTION = 'KUBELESS_FUNCTION';
/** Set instead of FUNCTION_URL for `spec.functionSelector`: the file listing the targets. */
export const FUNCTION_TARGETS_FILE = 'FUNCTION_TARGETS_FILE';
/** The volume (a ConfigMap the controller writes) that holds the targets file. */
export const TARGETS_VOLUME = 'kurier-targets';
/** Where the targets volume is mounted, read-only, in the dispatcher container. */
export const TARGETS_MOUNT_PATH = '/etc/kurier/targets';
/** The ConfigMap key, and so the file name, of the targets. */
export const TARGETS_KEY = 'targets.json';
/** The value of FUNCTION_TARGETS_FILE. */
export const TARGETS_FILE_PATH = `${TARGETS_MOUNT_PATH}/${TARGETS_KEY}`;
