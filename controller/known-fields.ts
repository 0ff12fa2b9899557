/**
 * The fields an apps/v1 Deployment has, from client-node's generated models (the Kubernetes
 * OpenAPI). Server-side apply refuses an apply configuration with a field the type does not
 * declare (500 `failed to create typed patch object … field not declared in schema`), where a PUT
 * or POST would silently drop it: a misspelt field in a trigger's `spec.deployment` override is
 * dropped here instead, and named, before the apply.
 */
import * as models from '@kubernetes/client-node';

interface ModelClass {
  getAttributeTypeMap(): { baseName: string; type: string }[];
}

function model(name: string): ModelClass | undefined {
  const m = (models as unknown as Record<string, unknown>)[name];
  return typeof m === 'function' && 'getAttributeTypeMap' in m ? (m as unknown as ModelClass) : undefined;
}

/** What a type name means: a list or map of another type, a model's fields by JSON name, or nothing to check. */
type Shape = { list: string } | { map: string } | { fields: ReadonlyMap<string, string> } | undefined;

/** Every Deployment rendered walks the same few dozen types: their shapes are worked out once. */
const shapes = new Map<string, Shape>();

function shapeOf(type: string): Shape {
  if (shapes.has(type)) return shapes.get(type);
  let shape: Shape;
  const list = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (list !== null) shape = { list: list[1] ?? '' };
  else if (map !== null) shape = { map: map[1] ?? '' };
  else {
    const m = model(type);
    shape = m === undefined ? undefined : { fields: new Map(m.getAttributeTypeMap().map((a) => [a.baseName, a.type])) };
  }
  shapes.set(type, shape);
  return shape;
}

/** `path` is built only for a dropped field: most renders drop nothing. */
function walk(value: unknown, type: string, path: () => string, dropped: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const shape = shapeOf(type);
  if (shape === undefined) return;
  if ('list' in shape) {
    if (Array.isArray(value)) {
      value.forEach((item: unknown, i) => {
        const name = typeof item === 'object' && item !== null ? (item as { name?: unknown }).name : undefined;
        walk(item, shape.list, () => `${path()}[${typeof name === 'string' ? `name="${name}"` : String(i)}]`, dropped);
      });
    }
    return;
  }
  if ('map' in shape) {
    for (const [k, v] of Object.entries(value)) walk(v, shape.map, () => `${path()}.${k}`, dropped);
    return;
  }
  if (Array.isArray(value)) return;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const t = shape.fields.get(key);
    if (t === undefined) {
      dropped.push(`${path()}.${key}`);
      delete obj[key]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
    } else walk(obj[key], t, () => `${path()}.${key}`, dropped);
  }
}

/** Removes, in place, every field an apps/v1 Deployment does not have; returns their paths (`.spec.template.spec.nodeSelectr`). */
export function dropUnknownDeploymentFields(deployment: object): string[] {
  const dropped: string[] = [];
  walk(deployment, 'V1Deployment', () => '', dropped);
  return dropped;
}
