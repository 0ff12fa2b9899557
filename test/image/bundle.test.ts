/** The one-file bundle the images run (npm run build:bundle): readable errors, no source map unless asked. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/run-kurier.js';

const run = promisify(execFile);
let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kurier-bundle-'));
  bundle = join(dir, 'kurier.mjs');
  await run('npm', ['run', '--silent', 'build:bundle', '--', `--outfile=${bundle}`], { cwd: repoRoot, timeout: 120_000 });
}, 150_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the bundle (dist/kurier.mjs)', () => {
  it('keeps class and function names: logged errors carry their type and readable stack frames', async () => {
    const result = await run(process.execPath, [bundle, 'controller', '--templates=/nonexistent/templates'], { cwd: dir }).catch((err: unknown) => err as { stdout: string; code: number });
    const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
    const logged = JSON.parse(line ?? '{}') as { err?: { type?: string; stack?: string } };
    expect(logged.err?.type).toBe('TemplateError');
    expect(logged.err?.stack).toMatch(/at (async )?loadTemplates \(/);
  });

  it('ships no source map unless built with --sourcemap (Dockerfile SOURCE_MAP=true)', async () => {
    expect(existsSync(`${bundle}.map`)).toBe(false);
    expect(await readFile(bundle, 'utf8')).not.toContain('sourceMappingURL');
  });
});
