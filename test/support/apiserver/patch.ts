import { ApiError } from './errors.js';

type J = unknown;
type JMap = Record<string, unknown>;

const isMap = (v: J): v is JMap => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deep copy of JSON data. */
export const clone = <T>(v: T): T => structuredClone(v);

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: J, patch: J): J {
  if (!isMap(patch)) return clone(patch);
  const out: JMap = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const patchError = (message: string): ApiError => new ApiError(422, 'Invalid', message);

function decodePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw patchError(`invalid JSON pointer: "${p}"`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

interface JsonPatchOp { op: string; path: string; value?: unknown; from?: string }

function parentOf(doc: J, parts: string[], path: string): { parent: JMap | unknown[]; key: string } {
  let cur: J = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isMap(cur)) cur = cur[p];
    else cur = undefined;
    if (cur === undefined) throw patchError(`doc is missing path: "${path}": missing value`);
  }
  if (!Array.isArray(cur) && !isMap(cur)) throw patchError(`doc is missing path: "${path}": missing value`);
  return { parent: cur, key: parts[parts.length - 1]! };
}

function getAt(doc: J, path: string): J {
  let cur: J = doc;
  for (const p of decodePointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isMap(cur)) cur = cur[p];
    else return undefined;
  }
  return cur;
}

function removeAt(doc: J, path: string): J {
  const parts = decodePointer(path);
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw patchError(`unable to remove nonexistent key: ${key}: missing value`);
    return parent.splice(i, 1)[0];
  }
  if (!Object.hasOwn(parent, key)) throw patchError(`unable to remove nonexistent key: ${key}: missing value`);
  const v = parent[key];
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
  delete parent[key];
  return v;
}

function addAt(doc: J, path: string, value: J, replace: boolean): J {
  const parts = decodePointer(path);
  if (parts.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    if (key === '-' && !replace) parent.push(clone(value));
    else {
      const i = Number(key);
      if (!Number.isInteger(i) || i < 0 || i > parent.length - (replace ? 1 : 0)) throw patchError(`add operation does not apply: doc is missing path: "${path}": missing value`);
      if (replace) parent[i] = clone(value);
      else parent.splice(i, 0, clone(value));
    }
  } else {
    if (replace && !Object.hasOwn(parent, key)) throw patchError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
    parent[key] = clone(value);
  }
  return doc;
}

/** RFC 6902 JSON patch. */
export function jsonPatch(target: J, ops: J): J {
  if (!Array.isArray(ops)) throw new ApiError(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, raw.path, raw.value, false);
        break;
      case 'replace':
        doc = addAt(doc, raw.path, raw.value, true);
        break;
      case 'remove':
        removeAt(doc, raw.path);
        break;
      case 'move': {
        const v = removeAt(doc, raw.from ?? '');
        doc = addAt(doc, raw.path, v, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, raw.path, getAt(doc, raw.from ?? ''), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, raw.path)) !== JSON.stringify(raw.value)) throw patchError(`testing value ${raw.path} failed: test failed`);
        break;
      default:
        throw patchError(`Unexpected kind: ${raw.op}`);
    }
  }
  return doc;
}

/**
 * Merge keys of the built-in kinds' lists (Kubernetes' `patchMergeKey` tags), by field name.
 * Lists not named here are atomic and replaced whole, as in the real strategic merge patch.
 */
export const STRATEGIC_MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  ports: 'containerPort',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
};

/** Lists of scalars merged as sets by strategic merge patch. */
const STRATEGIC_SETS = new Set(['finalizers']);

function keyOf(item: J, key: string): string | undefined {
  return isMap(item) && item[key] !== undefined ? JSON.stringify(item[key]) : undefined;
}

function strategicList(field: string, target: unknown[], patch: unknown[]): unknown[] {
  const key = STRATEGIC_MERGE_KEYS[field];
  if (STRATEGIC_SETS.has(field)) {
    const out = [...target];
    for (const v of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
    return out;
  }
  if (!key) return clone(patch.filter((p) => !(isMap(p) && p.$patch !== undefined)));
  const out = target.map((t) => clone(t));
  for (const p of patch) {
    if (isMap(p) && p.$patch === 'replace') return clone(patch.filter((x) => !(isMap(x) && x.$patch === 'replace')));
    const k = keyOf(p, key);
    const idx = k === undefined ? -1 : out.findIndex((o) => keyOf(o, key) === k);
    if (isMap(p) && p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], p);
    else out.push(strategicMerge(undefined, p));
  }
  return out;
}

/** Kubernetes strategic merge patch for the built-in kinds (merge keys above; `$patch`, `$retainKeys`, `$deleteFromPrimitiveList`). */
export function strategicMerge(target: J, patch: J): J {
  if (!isMap(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return strategicMerge(undefined, rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: JMap = isMap(target) ? { ...target } : {};
  const retain = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.some((d) => JSON.stringify(d) === JSON.stringify(x)));
      continue;
    }
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = strategicList(k, Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v);
    else if (isMap(v)) {
      const merged = strategicMerge(out[k], v);
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
  return out;
}

/** JSON with object keys sorted: equal data gives equal text whatever the key order. */
export function stableStringify(v: unknown): string {
  const text = JSON.stringify(v, (_k, val: unknown) => (isMap(val) ? Object.fromEntries(Object.keys(val).sort().map((k) => [k, val[k]])) : val)) as
    | string
    | undefined;
  return text ?? 'undefined';
}
