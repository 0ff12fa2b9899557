import { ApiError } from './errors.js';
import { stableStringify } from './patch.js';
import type { SchemaProps } from './schema.js';
import type { KObj, ManagedFieldsEntry } from './store.js';

type M = Record<string, unknown>;
const isMap = (v: unknown): v is M => v !== null && typeof v === 'object' && !Array.isArray(v);

/** How a field's lists and maps merge: Kubernetes' list-type / map-type markers. */
export interface FieldTypes {
  list(path: readonly string[]): { type: 'atomic' | 'set' | 'map'; keys: string[] };
  atomicMap(path: readonly string[]): boolean;
}

const BUILTIN_LIST_KEYS: Readonly<Record<string, string[]>> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  imagePullSecrets: ['name'],
  ports: ['containerPort', 'protocol'],
  conditions: ['type'],
  ownerReferences: ['uid'],
  hostAliases: ['ip'],
  topologySpreadConstraints: ['topologyKey', 'whenUnsatisfiable'],
};

const lastName = (path: readonly string[]): string => [...path].reverse().find((p) => p !== '[]') ?? '';

/** List and map semantics of the built-in kinds' fields. */
export const builtinFieldTypes: FieldTypes = {
  list(path) {
    const name = lastName(path);
    if (name === 'finalizers') return { type: 'set', keys: [] };
    const keys = BUILTIN_LIST_KEYS[name];
    return keys ? { type: 'map', keys } : { type: 'atomic', keys: [] };
  },
  atomicMap: () => false,
};

/** List and map semantics read from a CRD's structural schema (lists are atomic unless marked). */
export function schemaFieldTypes(root: SchemaProps): FieldTypes {
  const at = (path: readonly string[]): SchemaProps | undefined => {
    let s: SchemaProps | undefined = root;
    for (const p of path) {
      if (!s) return undefined;
      if (p === '[]') s = s.items;
      else if (path.length > 0 && p === 'metadata' && s === root) return undefined;
      else s = s.properties?.[p] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    }
    return s;
  };
  return {
    list(path) {
      if (path[0] === 'metadata') return builtinFieldTypes.list(path);
      const s = at(path);
      const t = s?.['x-kubernetes-list-type'];
      if (t === 'map') return { type: 'map', keys: s?.['x-kubernetes-list-map-keys'] ?? [] };
      if (t === 'set') return { type: 'set', keys: [] };
      return { type: 'atomic', keys: [] };
    },
    atomicMap(path) {
      if (path[0] === 'metadata') return false;
      return at(path)?.['x-kubernetes-map-type'] === 'atomic';
    },
  };
}

type Path = string[];
const enc = (p: Path): string => JSON.stringify(p);
const dec = (s: string): Path => JSON.parse(s) as Path;

function itemKey(item: unknown, keys: string[]): string {
  const o: M = {};
  if (isMap(item)) for (const k of keys) if (item[k] !== undefined) o[k] = item[k];
  return `k:${JSON.stringify(o)}`;
}

function collect(v: unknown, segs: Path, fpath: Path, types: FieldTypes, out: Set<string>): void {
  if (isMap(v)) {
    if (segs.length > 0 && (Object.keys(v).length === 0 || types.atomicMap(fpath))) {
      out.add(enc(segs));
      return;
    }
    for (const [k, child] of Object.entries(v)) collect(child, [...segs, `f:${k}`], [...fpath, k], types, out);
    return;
  }
  if (Array.isArray(v)) {
    const lt = types.list(fpath);
    if (lt.type === 'atomic') out.add(enc(segs));
    else if (lt.type === 'set') for (const item of v) out.add(enc([...segs, `v:${JSON.stringify(item)}`]));
    else {
      for (const item of v) {
        const seg = itemKey(item, lt.keys);
        out.add(enc([...segs, seg, '.']));
        if (isMap(item)) for (const [k, child] of Object.entries(item)) collect(child, [...segs, seg, `f:${k}`], [...fpath, '[]', k], types, out);
      }
    }
    return;
  }
  out.add(enc(segs));
}

/** The set of fields an object sets, in managed-fields path form; scoped to status or to everything else. */
export function fieldSet(obj: KObj, types: FieldTypes, scope: 'main' | 'status' | 'all'): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (scope === 'status' && k !== 'status') continue;
    if (scope === 'main' && k === 'status') continue;
    if (k === 'metadata') {
      for (const mk of ['labels', 'annotations', 'finalizers', 'ownerReferences']) {
        const mv = obj.metadata[mk];
        if (mv !== undefined) collect(mv, ['f:metadata', `f:${mk}`], ['metadata', mk], types, out);
      }
      continue;
    }
    collect(v, [`f:${k}`], [k], types, out);
  }
  return out;
}

/** Converts a path set to the FieldsV1 nested form. */
export function toFieldsV1(set: Set<string>): object {
  const root: M = {};
  for (const s of set) {
    let cur = root;
    for (const seg of dec(s)) {
      if (!isMap(cur[seg])) cur[seg] = {};
      cur = cur[seg] as M;
    }
  }
  return root;
}

/** Converts FieldsV1 to a path set. */
export function fromFieldsV1(f: object): Set<string> {
  const out = new Set<string>();
  const walk = (node: M, segs: Path): void => {
    const keys = Object.keys(node);
    if (keys.length === 0 && segs.length > 0) out.add(enc(segs));
    for (const k of keys) walk(isMap(node[k]) ? node[k] : {}, [...segs, k]);
  };
  walk(f as M, []);
  return out;
}

function findItem(list: unknown[], seg: string): number {
  if (seg.startsWith('k:')) {
    const want = JSON.parse(seg.slice(2)) as M;
    return list.findIndex((it) => isMap(it) && Object.entries(want).every(([k, v]) => stableStringify(it[k]) === stableStringify(v)));
  }
  if (seg.startsWith('v:')) {
    const want = seg.slice(2);
    return list.findIndex((it) => JSON.stringify(it) === want);
  }
  return -1;
}

/** The value at a managed-fields path, or undefined. */
function valueAt(obj: unknown, segs: Path): unknown {
  let cur: unknown = obj;
  for (const seg of segs) {
    if (seg === '.') return cur;
    if (seg.startsWith('f:')) cur = isMap(cur) ? cur[seg.slice(2)] : undefined;
    else if (Array.isArray(cur)) {
      const i = findItem(cur, seg);
      cur = i >= 0 ? cur[i] : undefined;
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function removeAt(obj: unknown, segs: Path): void {
  const last = segs[segs.length - 1];
  if (last === undefined) return;
  if (last === '.') {
    const list = valueAt(obj, segs.slice(0, -2));
    if (Array.isArray(list)) {
      const i = findItem(list, segs[segs.length - 2]!);
      if (i >= 0) list.splice(i, 1);
    }
    return;
  }
  const parent = valueAt(obj, segs.slice(0, -1));
  if (last.startsWith('f:') && isMap(parent)) delete parent[last.slice(2)]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
  else if (Array.isArray(parent)) {
    const i = findItem(parent, last);
    if (i >= 0) parent.splice(i, 1);
  }
  // a map emptied by the removal goes too (as `labels: {}` does not linger after the last applied label goes)
  if (isMap(parent) && Object.keys(parent).length === 0 && segs.length > 1 && segs[segs.length - 2]!.startsWith('f:')) removeAt(obj, segs.slice(0, -1));
}

function mergeApplied(live: unknown, applied: unknown, fpath: Path, types: FieldTypes): unknown {
  if (isMap(live) && isMap(applied) && !types.atomicMap(fpath)) {
    const out: M = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = mergeApplied(live[k], v, [...fpath, k], types);
    return out;
  }
  if (Array.isArray(live) && Array.isArray(applied)) {
    const lt = types.list(fpath);
    if (lt.type === 'set') return [...live, ...applied.filter((a) => !live.some((l) => JSON.stringify(l) === JSON.stringify(a)))];
    if (lt.type === 'map') {
      const out = [...live];
      for (const a of applied) {
        const i = findItem(out, itemKey(a, lt.keys));
        if (i >= 0) out[i] = mergeApplied(out[i], a, [...fpath, '[]'], types);
        else out.push(a);
      }
      return out;
    }
  }
  return structuredClone(applied);
}

const sameManager = (e: ManagedFieldsEntry, manager: string, op: string, sub: string | undefined): boolean =>
  e.manager === manager && e.operation === op && (e.subresource ?? '') === (sub ?? '');

function setsOf(obj: KObj | undefined): { entry: ManagedFieldsEntry; set: Set<string> }[] {
  return (obj?.metadata.managedFields ?? []).map((entry) => ({ entry, set: fromFieldsV1(entry.fieldsV1) }));
}

function writeManaged(obj: KObj, entries: { entry: ManagedFieldsEntry; set: Set<string> }[]): void {
  const kept = entries.filter((e) => e.set.size > 0).map((e) => ({ ...e.entry, fieldsV1: toFieldsV1(e.set) }));
  if (kept.length) obj.metadata.managedFields = kept;
  else delete obj.metadata.managedFields;
}

/** A path segment as the API server prints it in a conflict: `.spec`, `[name="main"]`, `[="a"]`. */
function prettySegment(seg: string): string {
  if (seg.startsWith('f:')) return `.${seg.slice(2)}`;
  if (seg.startsWith('k:')) {
    const keys = JSON.parse(seg.slice(2)) as M;
    return `[${Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
  }
  if (seg.startsWith('v:')) return `[=${seg.slice(2)}]`;
  return '';
}

const isPrefix = (pre: Path, p: Path): boolean => pre.length <= p.length && pre.every((s, i) => p[i] === s);

/**
 * Server-side apply: merges the applied configuration into the live object, removes the fields this manager
 * applied before and no longer applies (unless another manager owns them too), reports conflicts with other
 * managers as 409 unless `force`, and records the manager's Apply entry in managedFields.
 */
export function serverSideApply(p: {
  live: KObj | undefined;
  applied: KObj;
  manager: string;
  force: boolean;
  types: FieldTypes;
  apiVersion: string;
  scope: 'main' | 'status' | 'all';
  subresource?: string;
  now: string;
  describe: string;
}): KObj {
  const { live, applied, manager, types, scope } = p;
  const applySet = fieldSet(applied, types, scope);
  const entries = setsOf(live);
  const mine = entries.find((e) => sameManager(e.entry, manager, 'Apply', p.subresource));
  const others = entries.filter((e) => e !== mine);
  const conflicts: { manager: string; apiVersion: string; path: string }[] = [];
  for (const s of applySet) {
    const segs = dec(s);
    if (segs[segs.length - 1] === '.') continue;
    if (stableStringify(valueAt(live, segs)) === stableStringify(valueAt(applied, segs))) continue;
    for (const o of others) {
      if (o.set.has(s)) conflicts.push({ manager: o.entry.manager, apiVersion: o.entry.apiVersion, path: s });
    }
  }
  if (conflicts.length && !p.force) {
    const pretty = (s: string): string => dec(s).map(prettySegment).join('');
    const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: pretty(c.path) }));
    const lines = causes.map((c) => `- ${c.message}: ${c.field}`).join('\n');
    throw new ApiError(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${causes.length === 1 ? `${causes[0]!.message}: ${causes[0]!.field}` : `\n${lines}`}`, { causes });
  }
  if (p.force) for (const c of conflicts) for (const o of others) o.set.delete(c.path);

  const result: KObj = live ? structuredClone(live) : { metadata: {} };
  if (mine) {
    const removed = [...mine.set].filter((s) => !applySet.has(s)).map(dec);
    removed.sort((a, b) => b.length - a.length);
    for (const segs of removed) {
      const owner = dec(segs[segs.length - 1] === '.' ? enc(segs.slice(0, -1)) : enc(segs));
      const sharedWithOther = others.some((o) => [...o.set].some((s) => isPrefix(owner, dec(s))));
      if (!sharedWithOther) removeAt(result, segs);
    }
  }
  const { metadata: appliedMeta, ...appliedRest } = applied;
  const merged = mergeApplied(result, { ...appliedRest, metadata: pickManagedMeta(appliedMeta) }, [], types) as KObj;
  merged.metadata = { ...result.metadata, ...(merged.metadata as object) };
  const myEntry: ManagedFieldsEntry = { manager, operation: 'Apply', apiVersion: p.apiVersion, time: p.now, fieldsType: 'FieldsV1', fieldsV1: {} };
  if (p.subresource) myEntry.subresource = p.subresource;
  writeManaged(merged, [...others, { entry: myEntry, set: applySet }]);
  return merged;
}

function pickManagedMeta(meta: KObj['metadata']): KObj['metadata'] {
  const out: KObj['metadata'] = {};
  for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences']) if (meta[k] !== undefined) out[k] = meta[k];
  return out;
}

/** Records an Update operation: the manager owns what it changed; other managers lose those fields. */
export function trackUpdate(p: {
  old: KObj | undefined;
  next: KObj;
  manager: string;
  types: FieldTypes;
  apiVersion: string;
  scope: 'main' | 'status' | 'all';
  subresource?: string;
  now: string;
}): void {
  const { old, next, types, scope } = p;
  const nextSet = fieldSet(next, types, scope);
  const oldSet = old ? fieldSet(old, types, scope) : new Set<string>();
  const changed = new Set<string>();
  for (const s of nextSet) {
    if (!oldSet.has(s) || stableStringify(valueAt(old, dec(s))) !== stableStringify(valueAt(next, dec(s)))) changed.add(s);
  }
  const entries = setsOf(old);
  for (const e of entries) {
    for (const s of [...e.set]) {
      // a field removed by this write belongs to no one any more (only within this write's scope)
      const inScope = scope === 'all' || (scope === 'status') === s.startsWith('["f:status"');
      if (inScope && !nextSet.has(s)) e.set.delete(s);
      if (changed.has(s) && !sameManager(e.entry, p.manager, 'Update', p.subresource)) e.set.delete(s);
    }
  }
  let mine = entries.find((e) => sameManager(e.entry, p.manager, 'Update', p.subresource));
  if (!mine && changed.size > 0) {
    const entry: ManagedFieldsEntry = { manager: p.manager, operation: 'Update', apiVersion: p.apiVersion, time: p.now, fieldsType: 'FieldsV1', fieldsV1: {} };
    if (p.subresource) entry.subresource = p.subresource;
    mine = { entry, set: new Set() };
    entries.push(mine);
  }
  if (mine && changed.size > 0) {
    for (const s of changed) mine.set.add(s);
    mine.entry = { ...mine.entry, time: p.now };
  }
  writeManaged(next, entries);
}
