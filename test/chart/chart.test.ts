import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/run-kurier.js';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name))).sort();
}

describe('Helm chart', () => {
  it('carries the same dispatcher templates as templates/ (policy.yaml comes from values)', async () => {
    const source = join(repoRoot, 'templates');
    const copy = join(repoRoot, 'chart/files/templates');
    const expected = (await filesUnder(source)).filter((file) => file !== 'policy.yaml');
    expect(await filesUnder(copy), 'run `make sync-chart`').toEqual(expected);
    for (const file of expected) {
      expect(await readFile(join(copy, file), 'utf8'), `chart/files/templates/${file} is stale: run \`make sync-chart\``).toBe(
        await readFile(join(source, file), 'utf8'),
      );
    }
  });

  it('installs the same CRDs as crd.yaml', async () => {
    expect(await readFile(join(repoRoot, 'chart/crds/crd.yaml'), 'utf8'), 'run `make sync-chart`').toBe(await readFile(join(repoRoot, 'crd.yaml'), 'utf8'));
  });

  it('exposes every override policy setting of templates/policy.yaml as a value', async () => {
    const policy = parse(await readFile(join(repoRoot, 'templates/policy.yaml'), 'utf8')) as Record<string, boolean>;
    const values = parse(await readFile(join(repoRoot, 'chart/values.yaml'), 'utf8')) as { allowCrossNamespace: boolean; policy: Record<string, boolean> };
    const { allowCrossNamespace, ...rest } = policy;
    expect(values.allowCrossNamespace).toBe(allowCrossNamespace);
    expect(values.policy).toEqual(rest);
    const configMap = await readFile(join(repoRoot, 'chart/templates/configmap.yaml'), 'utf8');
    for (const key of Object.keys(policy)) expect(configMap).toContain(`${key}:`);
  });
});
