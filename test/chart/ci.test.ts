/**
 * The CI workflow for forks with the infrastructure cannot run here (no registry, no kind): check
 * that it and its end-to-end files are well-formed and consistent with the repository.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Deployment } from 'kubernetes-models/apps/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot, runKurier } from '../support/run-kurier.js';

const run = promisify(execFile);
const read = (path: string): Promise<string> => readFile(join(repoRoot, path), 'utf8');

interface Step {
  uses?: string;
  run?: string;
  name?: string;
}
interface Job {
  'runs-on': string;
  needs?: string | string[];
  services?: Record<string, { image: string }>;
  steps: Step[];
}

describe('.github/workflows/ci.yaml', () => {
  it('has the test, images and e2e jobs, each on a hosted runner with steps', async () => {
    const workflow = parse(await read('.github/workflows/ci.yaml')) as { on: unknown; jobs: Record<string, Job> };
    expect(workflow.on).toBeDefined();
    expect(Object.keys(workflow.jobs)).toEqual(['test', 'images', 'e2e']);
    for (const [name, job] of Object.entries(workflow.jobs)) {
      expect(job['runs-on'], name).toMatch(/^ubuntu-/);
      expect(job.steps.length, name).toBeGreaterThan(0);
      for (const step of job.steps) expect(step.uses !== undefined || step.run !== undefined, `${name}: ${JSON.stringify(step)}`).toBe(true);
    }
    const runs = (job: Job): string => job.steps.map((s) => s.run ?? '').join('\n');
    expect(runs(workflow.jobs['test']!)).toContain('npm test');
    expect(runs(workflow.jobs['images']!)).toContain('make images');
    expect(workflow.jobs['e2e']?.needs).toBe('images');
    expect(runs(workflow.jobs['e2e']!)).toContain('bash .github/e2e/run.sh');
  });

  it('runs an end-to-end script that is valid bash and uses make targets that exist', async () => {
    await run('bash', ['-n', join(repoRoot, '.github/e2e/run.sh')]);
    const script = await read('.github/e2e/run.sh');
    const makefile = await read('Makefile');
    for (const target of ['install', 'kind-load', 'images']) expect(makefile).toMatch(new RegExp(`^${target}:`, 'm'));
    expect(script).toContain('make install');
  });

  it('e2e: the brokers and the function are valid Deployments, and there is one valid trigger per broker', async () => {
    const objects = parseAllDocuments(await read('.github/e2e/brokers.yaml')).map((d) => d.toJSON() as { kind: string; metadata: { name: string } });
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['function', 'kafka', 'nats', 'pulsar', 'rabbitmq']);
    for (const deployment of deployments) expect(() => { new Deployment(deployment).validate(); }, deployment.metadata.name).not.toThrow();
    const result = await runKurier(['validate', '-f', join(repoRoot, '.github/e2e/triggers.yaml')]);
    expect(result.stdout + result.stderr).toContain('4 of 4 triggers valid');
    expect(result.code).toBe(0);
    const kinds = parseAllDocuments(await read('.github/e2e/triggers.yaml')).map((d) => (d.toJSON() as { kind: string }).kind).sort();
    expect(kinds).toEqual(['KafkaTrigger', 'NATSTrigger', 'PulsarTrigger', 'RabbitMQTrigger']);
  });
});
