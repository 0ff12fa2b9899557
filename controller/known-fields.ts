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

function walk(value: unknown, type: string, path: string, dropped: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const list = /^Array<(.+)>$/.exec(type);
  if (list !== null) {
    if (Array.isArray(value)) {
      value.forEach((item: unknown, i) => {
        const name = typeof item === 'object' && item !== null ? (item as { name?: unknown }).name : undefined;
        walk(item, list[1] ?? '', `${path}[${typeof name === 'string' ? `name="${name}"` : String(i)}]`, dropped);
      });
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map !== null) {
    for (const [k, v] of Object.entries(value)) walk(v, map[1] ?? '', `${path}.${k}`, dropped);
    return;
  }
  const m = model(type);
  if (m === undefined || Array.isArray(value)) return;
  const attributes = new Map(m.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const child = `${path}.${key}`;
    const t = attributes.get(key);
    if (t === undefined) {
      dropped.push(child);
      delete obj[key]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
    } else walk(obj[key], t, child, dropped);
  }
}

/** Removes, in place, every field an apps/v1 Deployment does not have; returns their paths (`.spec.template.spec.nodeSelectr`). */
export function dropUnknownDeploymentFields(deployment: object): string[] {
  const dropped: string[] = [];
  walk(deployment, 'V1Deployment', '', dropped);
  return dropped;
}
