/** Finds an optional tool for a test: the path in `envVar`, else `name` on PATH. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findExecutable(envVar: string, name: string): string | undefined {
  const candidates = [process.env[envVar], ...(process.env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, name))];
  return candidates.find((file): file is string => {
    if (file === undefined || file === '') return false;
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
