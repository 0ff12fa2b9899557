import { mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { repoRoot } from './run-kurier.js';

/**
 * Writes files into `dir` exactly as the kubelet mounts a ConfigMap volume (its AtomicWriter):
 * the payload goes into a fresh `..<timestamp>/` folder, a `..data_tmp` symlink to it is renamed
 * over `..data` (the atomic swap), every top-level entry of the payload is a symlink
 * `name → ..data/name`, and the previous `..<timestamp>/` and stale top-level links are removed.
 * Call it again with new files to play a ConfigMap update.
 */
export async function writeConfigMapMount(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const previous = await readlink(join(dir, '..data')).catch(() => undefined);
  const stamp = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace(/\.(\d+)Z$/, '.$1');
  const version = `..${stamp}${String(process.hrtime.bigint() % 1_000_000n)}`;
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, version, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content, { mode: 0o644 });
  }
  await symlink(version, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  const wanted = new Set(Object.keys(files).map((path) => path.split('/')[0] ?? path));
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..')) continue;
    if (!wanted.has(entry)) await rm(join(dir, entry));
  }
  for (const entry of wanted) {
    await symlink(join('..data', entry), join(dir, entry)).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    });
  }
  if (previous !== undefined) await rm(join(dir, previous), { recursive: true });
}

/**
 * The files the chart's templates ConfigMap projects (chart/templates/configmap.yaml and the
 * volume's items): templates/ as `<source>/<file>` paths, with policy.yaml written from values.
 */
export async function chartTemplatesPayload(policy = 'allowCrossNamespace: false\n'): Promise<Record<string, string>> {
  const root = join(repoRoot, 'templates');
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  const files: Record<string, string> = { 'policy.yaml': policy };
  for (const entry of entries.filter((e) => e.isFile())) {
    const path = relative(root, join(entry.parentPath, entry.name));
    if (path !== 'policy.yaml') files[path] = await readFile(join(root, path), 'utf8');
  }
  return files;
}
