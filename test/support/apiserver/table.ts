import type { PrinterColumn, ResourceType } from './resources.js';
import type { KObj } from './store.js';

/** kubectl asks for server-side printing with `Accept: application/json;as=Table;...`. */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept.split(',')[0] ?? '');
}

function age(ts: string | undefined): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h` : `${Math.floor(h / 24)}d`;
}

/** A small JSONPath: `.a.b`, `[0]`, `[*]` and `[?(@.type=="Ready")]`, as printer columns use. */
export function jsonPath(obj: unknown, path: string): unknown {
  const tokens = path.replace(/^\{|\}$/g, '').match(/\.[^.[]+|\[[^\]]*\]/g) ?? [];
  let cur: unknown[] = [obj];
  for (const tok of tokens) {
    const next: unknown[] = [];
    for (const c of cur) {
      if (c === null || typeof c !== 'object') continue;
      if (tok.startsWith('.')) next.push((c as Record<string, unknown>)[tok.slice(1)]);
      else if (tok === '[*]') next.push(...(Array.isArray(c) ? c : Object.values(c)));
      else if (/^\[\d+\]$/.test(tok)) next.push((c as unknown[])[Number(tok.slice(1, -1))]);
      else {
        const m = /^\[\?\(@\.([\w.]+)\s*==\s*["']?([^"')]*)["']?\)\]$/.exec(tok);
        if (m && Array.isArray(c)) next.push(...c.filter((it) => String(jsonPath(it, `.${m[1]!}`)) === m[2]));
      }
    }
    cur = next.filter((v) => v !== undefined);
  }
  return cur.length === 0 ? undefined : cur.length === 1 ? cur[0] : cur;
}

function builtinColumns(rt: ResourceType): { defs: PrinterColumn[]; cells: (o: KObj) => unknown[] } | undefined {
  if (rt.resource === 'deployments') {
    return {
      defs: [
        { name: 'Ready', type: 'string', jsonPath: '' },
        { name: 'Up-to-date', type: 'integer', jsonPath: '' },
        { name: 'Available', type: 'integer', jsonPath: '' },
        { name: 'Containers', type: 'string', jsonPath: '', priority: 1 },
        { name: 'Images', type: 'string', jsonPath: '', priority: 1 },
        { name: 'Selector', type: 'string', jsonPath: '', priority: 1 },
      ],
      cells: (o) => {
        const s = (o.status ?? {}) as Record<string, number | undefined>;
        const spec = (o.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> }; template?: { spec?: { containers?: { name?: string; image?: string }[] } } };
        const cs = spec.template?.spec?.containers ?? [];
        const selector = Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
        return [`${s.readyReplicas ?? 0}/${spec.replicas ?? 0}`, s.updatedReplicas ?? 0, s.availableReplicas ?? 0, cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(','), selector];
      },
    };
  }
  if (rt.resource === 'namespaces') return { defs: [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }], cells: (o) => [jsonPath(o, '.status.phase') ?? ''] };
  if (rt.resource === 'configmaps' || rt.resource === 'secrets') {
    const pre = rt.resource === 'secrets' ? [{ name: 'Type', type: 'string', jsonPath: '.type' }] : [];
    return {
      defs: [...pre, { name: 'Data', type: 'integer', jsonPath: '' }],
      cells: (o) => [...(rt.resource === 'secrets' ? [o.type ?? ''] : []), Object.keys((o.data ?? {})).length + Object.keys((o.binaryData ?? {})).length],
    };
  }
  return undefined;
}

/** A meta.k8s.io/v1 Table of the objects, with the CRD's printer columns when it has them. */
export function renderTable(rt: ResourceType, objs: KObj[], resourceVersion: string, includeObject: string | null): object {
  const custom = rt.printerColumns;
  const builtin = custom ? undefined : builtinColumns(rt);
  const columnDefinitions: object[] = [{ name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 }];
  const extra = custom ?? builtin?.defs ?? [];
  for (const c of extra) columnDefinitions.push({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 });
  const addAge = !custom;
  // built-in tables put Age after the always-shown columns, before the -o wide ones
  const firstWide = extra.findIndex((c) => (c.priority ?? 0) > 0);
  const agePos = 1 + (firstWide < 0 ? extra.length : firstWide);
  if (addAge) columnDefinitions.splice(agePos, 0, { name: 'Age', type: 'string', format: '', description: 'CreationTimestamp', priority: 0 });
  const rows = objs.map((o) => {
    let cells: unknown[];
    if (custom) {
      cells = custom.map((c) => {
        const v = jsonPath(o, c.jsonPath);
        if (v === undefined) return null;
        if (c.type === 'date') return age(typeof v === 'string' ? v : undefined);
        return typeof v === 'object' ? JSON.stringify(v) : v;
      });
    } else cells = builtin ? builtin.cells(o) : [];
    cells = [o.metadata.name, ...cells];
    if (addAge) cells.splice(agePos, 0, age(o.metadata.creationTimestamp));
    const object =
      includeObject === 'None' ? undefined : includeObject === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return object ? { cells, object } : { cells };
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion }, columnDefinitions, rows };
}
