import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSegment } from '../../render/env-contract.js';
import { loadSchemas, type SchemaNode } from '../../render/schema.js';
import { repoRoot } from '../support/run-kurier.js';

const reference = readFileSync(`${repoRoot}docs/reference.md`, 'utf8');
const schemas = [...loadSchemas(`${repoRoot}crd.yaml`).kinds.values()];

/** The part of the reference under the `## ` heading that starts with `title`. */
function section(title: string): string {
  const found = reference.split(/^## /m).find((part) => part.startsWith(title));
  if (found === undefined) throw new Error(`docs/reference.md has no section "${title}"`);
  return found;
}

/** Leaf fields of a block as [relative path, env suffix]; a secret ref is a leaf named without SecretRef. */
function leaves(node: SchemaNode, path: string[] = []): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const here = [...path, key];
    if (key.endsWith('SecretRef')) out.push([here.join('.'), [...path, key.slice(0, -'SecretRef'.length)].map(envSegment).join('_')]);
    else if (child.type === 'object' && child.properties !== undefined) out.push(...leaves(child, here));
    else out.push([here.join('.'), here.map(envSegment).join('_')]);
  }
  return out;
}

describe('docs/reference.md', () => {
  it.each(schemas.map((kind) => [kind.kind, kind] as const))('documents every %s source field with its env name', (name, kind) => {
    const text = section(name);
    const block = kind.openAPIV3Schema.properties?.spec?.properties?.[kind.source];
    const fields = leaves(block!);
    expect(fields.length).toBeGreaterThan(3);
    for (const [field, env] of fields) {
      expect(text, `${name}: spec.${kind.source}.${field}`).toContain(`| \`${field}\` |`);
      expect(text, `${name}: ${field} → ${kind.source.toUpperCase()}_${env}`).toContain(`\`${kind.source.toUpperCase()}_${env}\``);
    }
  });

  it('documents every common field, and every delivery field with its env name', () => {
    const text = section('Common fields');
    const spec = schemas[0]!.openAPIV3Schema.properties!.spec!;
    for (const [field, env] of leaves(spec.properties!.delivery!)) {
      expect(text).toContain(`| \`spec.delivery.${field}\` |`);
      expect(text).toContain(`\`DELIVERY_${env}\``);
    }
    for (const [field] of leaves(spec.properties!.function!)) expect(text).toContain(`| \`spec.function.${field}\` |`);
    for (const field of ['replicas', 'deployment']) expect(text).toContain(`| \`spec.${field}\` |`);
  });

  it('documents the kubeless-pulsar-trigger fields and the status fields', () => {
    expect(section('PulsarTrigger')).toContain('| `spec.kubeless.function` |');
    const status = section('Status');
    for (const field of Object.keys(schemas[0]!.openAPIV3Schema.properties!.status!.properties!)) expect(status).toContain(`status.${field}`);
  });
});
