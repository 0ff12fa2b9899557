import { badRequest } from './errors.js';

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

/** A parsed label selector; `matches` follows apimachinery's labels.Selector semantics. */
export interface LabelSelector {
  matches(labels: Record<string, string> | undefined): boolean;
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

/** Splits on commas that are not inside a `(...)` value set. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function checkKey(key: string, expr: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${expr}"`);
  return key;
}

function parseRequirement(expr: string): Requirement {
  let m = /^(!?)\s*([^\s!=(),]+)$/.exec(expr);
  if (m) return { key: checkKey(m[2]!, expr), op: m[1] === '!' ? '!exists' : 'exists' };
  m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(expr);
  if (m) return { key: checkKey(m[1]!, expr), op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]!] };
  m = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(expr);
  if (m) {
    const values = m[3]!.split(',').map((v) => v.trim());
    return { key: checkKey(m[1]!, expr), op: m[2] as 'in' | 'notin', values };
  }
  throw badRequest(`unable to parse requirement: found '${expr}', expected: label selector`);
}

/** Parses `a=b,c!=d,e in (f,g),h notin (i),j,!k`. */
export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  const reqs = text ? splitTop(text).map(parseRequirement) : [];
  return {
    matches(labels) {
      const l = labels ?? {};
      return reqs.every((r) => {
        const has = Object.hasOwn(l, r.key);
        switch (r.op) {
          case 'exists':
            return has;
          case '!exists':
            return !has;
          case 'in':
            return has && r.values.includes(l[r.key]!);
          case 'notin':
            return !has || !r.values.includes(l[r.key]!);
        }
      });
    },
  };
}

/** A parsed field selector over the fields a resource supports (always metadata.name and metadata.namespace). */
export interface FieldSelector {
  matches(obj: object): boolean;
}

/** Reads a dotted path like `spec.type` out of an object. */
export function fieldValue(obj: object, path: string): string | undefined {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'string' ? cur : JSON.stringify(cur);
}

/** Parses `metadata.name=x,metadata.namespace!=y`; `supported` lists the resource's selectable fields. */
export function parseFieldSelector(text: string | null | undefined, supported: readonly string[]): FieldSelector {
  const reqs = (text ? splitTop(text) : []).map((expr) => {
    const m = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(expr);
    if (!m) throw badRequest(`invalid selector: '${expr}'; can't understand '${expr}'`);
    const field = m[1]!;
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, neg: m[2] === '!=', value: m[3]! };
  });
  return {
    matches(obj) {
      return reqs.every((r) => ((fieldValue(obj, r.field) ?? '') === r.value) !== r.neg);
    },
  };
}
