import * as models from '@kubernetes/client-node';

interface AttributeType {
  baseName: string;
  type: string;
}
interface ModelClass {
  getAttributeTypeMap(): AttributeType[];
}

// The built-in kinds' field lists come from client-node's generated models (the same OpenAPI).
const ROOTS: Readonly<Record<string, string>> = {
  '/Namespace': 'V1Namespace',
  '/ConfigMap': 'V1ConfigMap',
  '/Secret': 'V1Secret',
  '/Service': 'V1Service',
  '/Event': 'CoreV1Event',
  'events.k8s.io/Event': 'CoreV1Event', // stored (and pruned) in the core/v1 form
  'apps/Deployment': 'V1Deployment',
  'coordination.k8s.io/Lease': 'V1Lease',
  'apiextensions.k8s.io/CustomResourceDefinition': 'V1CustomResourceDefinition',
};

// Schemas are data: everything under them is kept as sent.
const OPAQUE = new Set(['V1JSONSchemaProps', 'V1JSON', 'V1CustomResourceValidation']);

function model(name: string): ModelClass | undefined {
  if (OPAQUE.has(name)) return undefined;
  const m = (models as unknown as Record<string, unknown>)[name];
  return typeof m === 'function' && 'getAttributeTypeMap' in m ? (m as unknown as ModelClass) : undefined;
}

function walk(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (Array.isArray(value)) value.forEach((v, i) => { walk(v, arr[1]!, `${path}[${i}]`, out); });
    return;
  }
  const dict = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (dict) {
    for (const [k, v] of Object.entries(value)) walk(v, dict[1]!, `${path}.${k}`, out);
    return;
  }
  const m = model(type);
  if (!m || Array.isArray(value)) return;
  const attrs = new Map(m.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const t = attrs.get(k);
    const child = path ? `${path}.${k}` : k;
    if (t === undefined) {
      out.push(child);
      delete obj[k]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
    } else if (obj[k] === null) {
      // a null decodes to the Go zero value, which is not written back: the field is gone
      delete obj[k]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
    } else walk(obj[k], t, child, out);
  }
}

/** Drops the fields a built-in kind does not have and nulls (as decoding into Go structs does); returns the unknown fields' paths. */
export function pruneBuiltin(group: string, kind: string, obj: object): string[] {
  const root = ROOTS[`${group}/${kind}`];
  const out: string[] = [];
  if (root) walk(obj, root, '', out);
  return out;
}
