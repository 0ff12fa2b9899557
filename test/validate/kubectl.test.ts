import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerDouble } from '../support/apiserver/index.js';
import { readDocuments } from '../../cli/input.js';
import { parseKubectlYaml } from '../../cli/kubectl-yaml.js';
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

  /** What kubectl makes of a manifest, without sending it: `create --dry-run=client -o json`. */
  const kubectlReads = async (args: string[], input?: string): Promise<unknown[]> => {
    const result = await kc(['create', '--dry-run=client', '--validate=false', '-o', 'json', ...args], input);
    expect(result.code, result.out).toBe(0);
    const parsed = JSON.parse(result.out) as { kind?: string; items?: unknown[] };
    return parsed.kind === 'List' && Array.isArray(parsed.items) ? parsed.items : [parsed];
  };
  // kubectl fills in the namespace of its context for a namespaced object that names none.
  const withNamespace = (value: unknown): unknown => {
    const doc = value as { metadata?: Record<string, unknown> };
    return { ...doc, metadata: { namespace: 'default', ...doc.metadata } };
  };

  it.each(examples)('reads examples/%s exactly as kubectl create --dry-run=client -o json does', async (file) => {
    const ours = (await readDocuments(`${repoRoot}examples/${file}`)).map((document) => withNamespace(document.value));
    expect(ours).toEqual(await kubectlReads(['-f', `examples/${file}`]));
  });

  it('reads YAML 1.1 scalars as kubectl does: on/yes/y booleans, octal, binary, underscores; 1:30 and dates stay strings', async () => {
    const manifest = [
      'apiVersion: v1', 'kind: ConfigMap', 'metadata: { name: yaml11 }', 'data:',
      '  a: on', '  b: Off', '  c: yes', '  d: N', '  e: y', '  f: 0755', '  g: 0b101', '  h: 1_000', '  i: 0x1F',
      '  j: 1:30', '  k: 2001-12-14', '  l: "on"', '  m: +12', '  n: .5', '  o: ~', '  yes: key', '',
    ].join('\n');
    const [ours] = parseKubectlYaml(manifest);
    const [theirs] = await kubectlReads(['-f', '-'], manifest);
    expect(withNamespace(ours?.value)).toEqual(theirs);
    expect((theirs as { data: Record<string, unknown> }).data).toMatchObject({ a: true, b: false, f: 493, j: '1:30', k: '2001-12-14', l: 'on', true: 'key' });
  });

  it('reads a trigger with retry.on: unquoted as kubectl does (the key true), and says so with the field\'s name', async () => {
    const manifest = 'apiVersion: kurier.dev/v1alpha1\nkind: NATSTrigger\nmetadata: { name: on-key, namespace: team }\nspec:\n  nats: { url: "nats://nats:4222", subject: a }\n  function: { url: "http://fn:8080/" }\n  delivery:\n    retry:\n      on: [5xx]\n';
    const [ours] = parseKubectlYaml(manifest);
    expect(ours?.value).toEqual(await kubectlReads(['-f', '-'], manifest).then(([value]) => value));
    expect(ours?.ambiguous.map((scalar) => [scalar.path, scalar.line, scalar.column])).toEqual([['spec.delivery.retry.true', 9, 7]]);
  });

  it('lists every kind under the triggers category with the Source column', async () => {
    const result = await kc(['get', 'triggers', '-A']);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain('SOURCE');
    for (const name of ['kafkatrigger.kurier.dev/orders', 'pulsartrigger.kurier.dev/mytrigger', 'pulsartrigger.kurier.dev/mytrigger-minimal', 'natstrigger.kurier.dev/sensors', 'rabbitmqtrigger.kurier.dev/emails', 'crontrigger.kurier.dev/morning-report']) {
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
