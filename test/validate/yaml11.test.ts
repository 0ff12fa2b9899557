import { readFileSync, readdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/run-kurier.js';

// kubectl, Helm, kustomize and Argo CD read YAML 1.1, where `on`, `off`, `yes`, `no`, `y` and `n`
// are booleans: every manifest we ship must mean the same to them as to a YAML 1.2 reader.
const shipped = [
  'crd.yaml',
  'chart/crds/crd.yaml',
  ...readdirSync(`${repoRoot}examples`).filter((file) => file.endsWith('.yaml')).map((file) => `examples/${file}`),
  ...readdirSync(`${repoRoot}templates`, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.yaml')).map((file) => `templates/${file}`),
];

function read(file: string, version: '1.1' | '1.2'): unknown[] {
  return parseAllDocuments(readFileSync(`${repoRoot}${file}`, 'utf8'), { version }).map((doc) => doc.toJS() as unknown);
}

describe('shipped manifests read the same in YAML 1.1 (kubectl) and YAML 1.2', () => {
  it.each(shipped)('%s', (file) => {
    expect(read(file, '1.1')).toEqual(read(file, '1.2'));
  });
});
