import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readDocuments } from '../../cli/input.js';
import { repoRoot } from '../support/run-kurier.js';

interface Meta { kind: string; metadata: { name: string; namespace?: string }; spec?: { deployment?: { metadata?: { namespace?: string } } } }

describe('examples/ applied at once (kubectl apply -f examples/)', () => {
  it('defines every trigger once: no file overwrites another', async () => {
    const ids = (await readDocuments(`${repoRoot}examples`)).map((document) => {
      const value = document.value as Meta;
      return `${value.kind} ${value.metadata.namespace ?? 'default'}/${value.metadata.name}`;
    });
    expect(ids.length).toBeGreaterThanOrEqual(8);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
  });

  it('uses only namespaces that exist by default or that the README creates', async () => {
    const readme = readFileSync(`${repoRoot}README.md`, 'utf8');
    const created = new Set([
      'default',
      ...[...readme.matchAll(/^kubectl create namespace ([a-z0-9-]+)$/gm)].map((match) => match[1]),
      ...(/for ns in ([a-z0-9 -]+); do kubectl create namespace/.exec(readme)?.[1]?.split(' ') ?? []),
    ]);
    const used = (await readDocuments(`${repoRoot}examples`)).map((document) => (document.value as Meta).metadata.namespace ?? 'default');
    expect(used.filter((namespace) => !created.has(namespace))).toEqual([]);
    expect(readme).toContain('kubectl create namespace iot\nkubectl apply -f examples/nats.yaml');
  });
});
