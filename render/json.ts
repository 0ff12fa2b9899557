/** Plain-JSON comparison helpers for objects read from the API server. */
import { isObject } from './merge.js';

type Json = unknown;

/** JSON with object keys sorted, so equal objects give equal strings. */
export function stableStringify(value: Json): string {
  // one string built in place: the controller hashes every rendered Deployment with this
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + stableStringify(value[i]);
    return `${out}]`;
  }
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    let out = '{';
    let first = true;
    for (const k of keys) {
      const member = value[k];
      if (member === undefined) continue;
      out += `${first ? '' : ','}${JSON.stringify(k)}:${stableStringify(member)}`;
      first = false;
    }
    return `${out}}`;
  }
  const text = JSON.stringify(value) as string | undefined;
  return text ?? 'null';
}

/** Deep equality of two JSON values (key order ignored, `undefined` members ignored). */
export function jsonEqual(a: Json, b: Json): boolean {
  return stableStringify(a) === stableStringify(b);
}

/**
 * True when every field set in `want` has the same value in `have`. `have` may carry extra
 * object members (the API server fills in defaults), but lists must have the same length, so an
 * added container or env var counts as a difference.
 */
export function isSubset(want: Json, have: Json): boolean {
  // the API server drops empty maps and lists it is sent
  if (want === null && have === undefined) return true;
  if (have === undefined && (Array.isArray(want) ? want.length === 0 : isObject(want) && Object.keys(want).length === 0)) {
    return true;
  }
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => isSubset(w, have[i]));
  }
  if (isObject(want)) {
    if (!isObject(have)) return false;
    // Values read from JavaScript objects may be undefined even where the JSON type says not.
    return Object.entries(want as Record<string, Json>).every(([k, w]) => w === undefined || isSubset(w, have[k]));
  }
  return want === have;
}
