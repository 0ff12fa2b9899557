import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerDouble } from '../support/apiserver/index.js';
import { repoRoot } from '../support/run-kurier.js';

const run = promisify(execFile);
const kubectl = process.env.KUBECTL ?? 'kubectl';
const hasKubectl = await run(kubectl, ['version', '--client']).then(() => true, () => false);
const examples = readdirSync(`${repoRoot}examples`).filter((file) => file.endsWith('.yaml')).sort();

// kubectl needs a server for discovery even with --dry-run=client; it talks to the in-process API server double.
describe.skipIf(!hasKubectl)('crd.yaml with kubectl (against the API server double; set KUBECTL to point at kubectl)', () => {
  let server: ApiServerDouble;
  const kc = async (args: string[], input?: string): Promise<{ code: number; out: string }> => {
    const child = run(kubectl, ['--kubeconfig', server.kubeconfigPath, ...args], { cwd: repoRoot });
    if (input !== undefined) child.child.stdin?.end(input);
    try {
      const { stdout, stderr } = await child;
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const failed = err as { code: number; stdout: string; stderr: string };
      return { code: failed.code, out: failed.stdout + failed.stderr };
    }
  };

  beforeAll(async () => {
    server = await startApiServer({ autoCreateNamespaces: true });
  });
  afterAll(async () => {
    await server.close();
  });

  it('applies crd.yaml as five CRDs, client dry run first', async () => {
    const dry = await kc(['apply', '--dry-run=client', '-f', 'crd.yaml']);
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out.trim().split('\n')).toHaveLength(5);
    const applied = await kc(['apply', '-f', 'crd.yaml']);
    expect(applied.code, applied.out).toBe(0);
    expect(applied.out).toContain('customresourcedefinition.apiextensions.k8s.io/crontriggers.kurier.dev created');
  });

  it.each(examples)('accepts examples/%s through kubectl apply', async (file) => {
    const result = await kc(['apply', '-f', `examples/${file}`]);
    expect(result.code, result.out).toBe(0);
  });

  it('lists every kind under the triggers category with the Source column', async () => {
    const result = await kc(['get', 'triggers', '-A']);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain('SOURCE');
    for (const name of ['kafkatrigger.kurier.dev/orders', 'pulsartrigger.kurier.dev/mytrigger', 'natstrigger.kurier.dev/sensors', 'rabbitmqtrigger.kurier.dev/emails', 'crontrigger.kurier.dev/morning-report']) {
      expect(result.out).toContain(name);
    }
  });

  it('rejects a typo in a trigger with the unknown field named', async () => {
    const typo = 'apiVersion: kurier.dev/v1alpha1\nkind: KafkaTrigger\nmetadata: {name: typo, namespace: shop}\nspec:\n  kafka: {brokers: ["a:1"], topc: x}\n  function: {url: "http://x"}\n';
    const result = await kc(['apply', '-f', '-'], typo);
    expect(result.code).not.toBe(0);
    expect(result.out).toContain('unknown field "spec.kafka.topc"');
  });
});
