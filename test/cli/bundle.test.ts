import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runKurier } from '../support/run-kurier.js';

const run = promisify(execFile);
const bundle = `${repoRoot}dist/kurier.mjs`;

async function runBundle(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bundle, ...args], { cwd: repoRoot, env: { PATH: process.env['PATH'] ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the image bundle (npm run build:bundle → dist/kurier.mjs and its chunks)', () => {
  beforeAll(async () => {
    await run('npm', ['run', '--silent', 'build:bundle'], { cwd: repoRoot });
  }, 60_000);

  it('renders the examples exactly as the sources do', async () => {
    const args = ['render', '-f', 'examples/', '--allow-cross-namespace'];
    const [fromBundle, fromSources] = await Promise.all([runBundle(args), runKurier(args)]);
    expect(fromBundle.code).toBe(0);
    expect(fromBundle.stdout).toBe(fromSources.stdout);
  });

  it('loads every dispatcher and names its missing variables', async () => {
    for (const source of ['kafka', 'nats', 'rabbitmq', 'cron', 'pulsar']) {
      const result = await runBundle(['dispatch', source]);
      expect(result.code, `${source}: ${result.stderr}`).toBe(1);
      expect(result.stderr).toContain(`kurier dispatch ${source}: FUNCTION_URL is required`);
    }
  });
});
