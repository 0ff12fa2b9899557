import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, loadPolicy, PolicyError } from '../../render/policy-settings.js';
import { repoRoot } from '../support/run-kurier.js';

function policyFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kurier-policy-')), 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

describe('the admin policy file', () => {
  it('ships templates/policy.yaml with every setting at its restricted default', async () => {
    expect(await loadPolicy(join(repoRoot, 'templates/policy.yaml'))).toEqual(DEFAULT_POLICY);
  });

  it.each([
    ['allowPrivileged: yes please', 'allowPrivileged must be true or false'],
    ['allowedVolumeTypes: nfs', 'allowedVolumeTypes must be a list of names'],
    ['maxOverrideBytes: -1', 'maxOverrideBytes must be a whole number of bytes greater than 0'],
    ['allowPriviledged: true', 'unknown policy setting "allowPriviledged"'],
    ['[1, 2]', 'must be a YAML mapping of policy settings'],
  ])('refuses %s, naming the setting', async (text, message) => {
    const file = policyFile(text);
    await expect(loadPolicy(file)).rejects.toThrow(PolicyError);
    await expect(loadPolicy(file)).rejects.toThrow(`${file}: ${message}`);
  });

  it('keeps the default for every setting a file leaves out', async () => {
    expect(await loadPolicy(policyFile('allowedVolumeTypes: [persistentVolumeClaim]\n'))).toEqual({ ...DEFAULT_POLICY, allowedVolumeTypes: ['persistentVolumeClaim'] });
  });
});
