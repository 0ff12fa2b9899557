import { mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

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
    await symlink(join('..data', entry), join(dir, entry)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  if (previous !== undefined) await rm(join(dir, previous), { recursive: true });
}
