/** Checks on `spec.deployment` as input, before any work is done with it: size, depth, prototype keys. */
import { FORBIDDEN_KEYS, isObject } from './merge.js';
import type { OverridePolicy } from './policy-settings.js';
import { RenderError } from './render-error.js';
import type { JsonValue } from './trigger.js';

const ROOT = 'spec.deployment';
/** A Deployment nests about 12 levels deep; anything far deeper is an attack on the recursion. */
export const MAX_OVERRIDE_DEPTH = 64;

function sizeOf(override: JsonValue): number {
  try {
    return Buffer.byteLength(JSON.stringify(override), 'utf8');
  } catch (err) {
    throw RenderError.at(ROOT, 'cannot be read as JSON: it refers to itself (a recursive YAML alias) or nests too deeply', { cause: err });
  }
}

/**
 * Refuses an override larger than the admin's `maxOverrideBytes`, nested deeper than
 * {@link MAX_OVERRIDE_DEPTH}, or with a key that reaches an object's prototype (`__proto__`,
 * `constructor`, `prototype`), naming the field. Linear in the size of the override.
 */
export function checkOverrideInput(override: JsonValue, policy: OverridePolicy): void {
  const bytes = sizeOf(override);
  if (bytes > policy.maxOverrideBytes) {
    throw RenderError.at(ROOT, `is ${bytes} bytes as JSON; the limit is ${policy.maxOverrideBytes} (policy maxOverrideBytes)`);
  }
  const pending: { value: JsonValue; path: string; depth: number }[] = [{ value: override, path: ROOT, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path, depth } = next;
    if (depth > MAX_OVERRIDE_DEPTH) throw RenderError.at(path, `nests deeper than ${MAX_OVERRIDE_DEPTH} levels`);
    if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, path: `${path}[${index}]`, depth: depth + 1 }));
    } else if (isObject(value)) {
      for (const key of Object.keys(value)) {
        if (FORBIDDEN_KEYS.has(key)) throw RenderError.at(`${path}.${key}`, `"${key}" is not allowed as a field name`);
        pending.push({ value: value[key] as JsonValue, path: `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
}
