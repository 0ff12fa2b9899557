/** `--templates` pointing at a ConfigMap as the kubelet mounts it (the chart's layout), without Docker. */
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTemplates } from '../../render/templates.js';
import { chartTemplatesPayload as chartPayload, writeConfigMapMount } from '../support/configmap-mount.js';
import { repoRoot } from '../support/run-kurier.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function mountDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kurier-cm-'));
  dirs.push(dir);
  return dir;
}

describe('templates from a kubelet-mounted ConfigMap', () => {
  it('reproduces the kubelet layout: ..data, a ..<timestamp>/ folder and one symlink per entry', async () => {
    const dir = await mountDir();
    await writeConfigMapMount(dir, await chartPayload());
    const entries = (await readdir(dir)).sort();
    expect(entries.filter((e) => e.startsWith('..'))).toEqual([expect.stringMatching(/^\.\.\d{4}_\d\d_\d\d_/), '..data']);
    expect(await readlink(join(dir, 'nats'))).toBe('..data/nats');
    expect(await readlink(join(dir, 'deployment.yaml'))).toBe('..data/deployment.yaml');
  });

  it('loads the same kinds and defaults as the plain templates/ folder', async () => {
    const dir = await mountDir();
    await writeConfigMapMount(dir, await chartPayload('allowCrossNamespace: true\n'));
    const mounted = await loadTemplates(dir);
    const plain = await loadTemplates(join(repoRoot, 'templates'));
    expect([...mounted.kinds.keys()]).toEqual([...plain.kinds.keys()]);
    expect([...mounted.kinds.values()]).toEqual([...plain.kinds.values()]);
    expect(mounted.deployment).toEqual(plain.deployment);
    expect(mounted.policy.allowCrossNamespace).toBe(true);
  });

  it('reads the new version after the kubelet swaps in an updated ConfigMap', async () => {
    const dir = await mountDir();
    const payload = await chartPayload();
    await writeConfigMapMount(dir, payload);
    expect((await loadTemplates(dir)).kinds.get('NATSTrigger')?.container['image']).toBe('ghcr.io/kurier-dev/dispatcher:0.1.0');
    const nats = payload['nats/container.yaml'] ?? '';
    await writeConfigMapMount(dir, { ...payload, 'nats/container.yaml': nats.replace(/^image: .*$/m, 'image: registry.example/dispatcher:2') });
    expect((await loadTemplates(dir)).kinds.get('NATSTrigger')?.container['image']).toBe('registry.example/dispatcher:2');
    expect((await readdir(dir)).filter((e) => e.startsWith('..'))).toHaveLength(2);
  });

  it('drops a kind whose folder the update removed', async () => {
    const dir = await mountDir();
    const payload = await chartPayload();
    await writeConfigMapMount(dir, payload);
    const withoutCron = Object.fromEntries(Object.entries(payload).filter(([path]) => !path.startsWith('cron/')));
    await writeConfigMapMount(dir, withoutCron);
    expect((await loadTemplates(dir)).kinds.has('CronTrigger')).toBe(false);
  });
});
