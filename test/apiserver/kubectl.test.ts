/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-class-instance-assignment -- kubectl JSON output is read untyped; manifests are written as literals */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../support/apiserver/index.js';
import type { ApiServerDouble } from '../support/apiserver/index.js';
import { deployment, unique } from './helpers.js';

const run = promisify(execFile);
const kubectl = process.env.KUBECTL ?? 'kubectl';
const hasKubectl = await run(kubectl, ['version', '--client']).then(
  () => true,
  () => false,
);
const WIDGETS_CRD = fileURLToPath(new URL('./fixtures/widgets-crd.yaml', import.meta.url));
const TRIGGERS_CRD = fileURLToPath(new URL('../../crd.yaml', import.meta.url));

describe.skipIf(!hasKubectl)('the real kubectl against the double (skipped only when no kubectl is found; KUBECTL=path picks one)', () => {
  let server: ApiServerDouble;
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-double-'));
  const kc = async (args: string[], input?: string): Promise<{ code: number; out: string; err: string }> => {
    // a private discovery cache: CRDs come and go between tests on a fresh port
    const child = run(kubectl, ['--kubeconfig', server.kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args]);
    if (input !== undefined) child.child.stdin?.end(input);
    try {
      const { stdout, stderr } = await child;
      return { code: 0, out: stdout, err: stderr };
    } catch (e) {
      const f = e as { code: number; stdout: string; stderr: string };
      return { code: f.code, out: f.stdout, err: f.stderr };
    }
  };
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await kc(args, input);
    expect(r.code, `kubectl ${args.join(' ')}\n${r.out}${r.err}`).toBe(0);
    return r.out;
  };

  beforeAll(async () => {
    server = await startApiServer({ crds: [WIDGETS_CRD] });
  });
  afterAll(async () => {
    await server.close();
  });

  const widget = (ns: string, name: string, spec: string) => `apiVersion: example.test/v1\nkind: Widget\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n  labels: {tier: a}\nspec: ${spec}\n`;

  it('create -f, get -o json, get -l, get by short name and by category', async () => {
    const ns = unique('ns');
    await ok(['create', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
    expect(await ok(['create', '-f', file(`${ns}-w.yaml`, widget(ns, 'w1', '{size: 3, color: red}'))])).toContain('widget.example.test/w1 created');
    const json = JSON.parse(await ok(['get', 'widget', 'w1', '-n', ns, '-o', 'json']));
    expect(json).toMatchObject({ apiVersion: 'example.test/v1', kind: 'Widget', spec: { size: 3, color: 'red', mode: 'normal' } });
    const table = await ok(['get', 'wd', '-n', ns, '-l', 'tier=a']);
    expect(table).toMatch(/NAME\s+SIZE\s+READY\s+AGE/);
    expect(table).toMatch(/w1\s+3/);
    expect(await ok(['get', 'wd', '-n', ns, '-l', 'tier=b', '-o', 'name'])).toBe('');
    expect(await ok(['get', 'gadgets', '-n', ns, '-o', 'name'])).toBe('widget.example.test/w1\n');
  });

  it('kubectl create namespace|configmap|secret|deployment (protobuf bodies) work', async () => {
    const ns = unique('ns');
    expect(await ok(['create', 'namespace', ns])).toContain(`namespace/${ns} created`);
    await ok(['create', 'configmap', 'cm', '--from-literal=a=b', '-n', ns]);
    await ok(['create', 'secret', 'generic', 's', '--from-literal=p=q', '-n', ns]);
    await ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--port=80', '-n', ns]);
    expect(server.store.get('v1', 'ConfigMap', ns, 'cm')).toMatchObject({ data: { a: 'b' } });
    expect(server.store.get('v1', 'Secret', ns, 's')).toMatchObject({ data: { p: Buffer.from('q').toString('base64') }, type: 'Opaque' });
    expect(server.store.get('apps/v1', 'Deployment', ns, 'web')).toMatchObject({
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } } },
    });
  });

  it('rejects a typo with the unknown field named, and an invalid value with its field', async () => {
    const ns = unique('ns');
    await ok(['create', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
    const typo = await kc(['create', '-f', '-'], widget(ns, 'typo', '{size: 3, colour: red}'));
    expect(typo.code).not.toBe(0);
    expect(typo.err).toContain('unknown field "spec.colour"');
    const bad = await kc(['create', '-f', '-'], widget(ns, 'bad', '{size: 30}'));
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('spec.size: Invalid value: 30');
  });

  it('apply --server-side creates, and re-applying a smaller object removes what was dropped', async () => {
    const ns = unique('ns');
    await ok(['create', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
    expect(await ok(['apply', '--server-side', '-f', '-'], widget(ns, 'w', '{size: 2, color: blue, tags: [x]}'))).toContain('serverside-applied');
    await ok(['apply', '--server-side', '-f', '-'], widget(ns, 'w', '{size: 4}'));
    const json = JSON.parse(await ok(['get', 'widget', 'w', '-n', ns, '-o', 'json', '--show-managed-fields']));
    expect(json.spec).toEqual({ size: 4, mode: 'normal' });
    expect(json.metadata.managedFields.map((m: any) => `${m.manager}/${m.operation}`)).toContain('kubectl/Apply');
  });

  it('client-side apply works too (last-applied annotation, merge patch for custom resources)', async () => {
    const ns = unique('ns');
    await ok(['create', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
    await ok(['apply', '-f', '-'], widget(ns, 'w', '{size: 2, color: blue}'));
    expect(await ok(['apply', '-f', '-'], widget(ns, 'w', '{size: 5}'))).toContain('configured');
    const json = JSON.parse(await ok(['get', 'widget', 'w', '-n', ns, '-o', 'json']));
    expect(json.spec).toEqual({ size: 5, mode: 'normal' });
  });

  it('patch --type merge / json / strategic, replace, and delete (which waits for the object to go)', async () => {
    const ns = unique('ns');
    await ok(['create', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
    await ok(['create', '-f', '-'], widget(ns, 'w', '{size: 1}'));
    await ok(['patch', 'widget', 'w', '-n', ns, '--type', 'merge', '-p', '{"spec":{"size":2}}']);
    await ok(['patch', 'widget', 'w', '-n', ns, '--type', 'json', '-p', '[{"op":"replace","path":"/spec/size","value":3}]']);
    const got = JSON.parse(await ok(['get', 'widget', 'w', '-n', ns, '-o', 'json']));
    expect(got.spec.size).toBe(3);
    expect(got.metadata.generation).toBe(3);
    got.spec.size = 7;
    await ok(['replace', '-f', file(`${ns}-replace.json`, JSON.stringify(got))]);
    const stale = await kc(['replace', '-f', join(dir, `${ns}-replace.json`)]);
    expect(stale.code).not.toBe(0);
    expect(stale.err).toContain('the object has been modified');
    await ok(['create', '-n', ns, '-f', '-'], JSON.stringify(deployment('web', { spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } } })));
    await ok(['patch', 'deployment', 'web', '-n', ns, '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}']);
    const d = JSON.parse(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'json']));
    expect(d.spec.template.spec.containers.map((c: any) => `${c.name}=${c.image}`)).toEqual(['nginx=nginx:1.28']);
    await ok(['scale', 'deployment', 'web', '-n', ns, '--replicas=3']);
    expect(server.store.get('apps/v1', 'Deployment', ns, 'web')).toMatchObject({ spec: { replicas: 3 } });
    const refused = await kc(['scale', 'deployment', 'web', '-n', ns, '--replicas=5', '--current-replicas=2']);
    expect(refused.code).not.toBe(0);
    expect(await ok(['get', 'deploy', 'web', '-n', ns, '-o', 'wide'])).toMatch(/NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\nweb\s+0\/3\s+0\s+0\s+\S+\s+nginx\s+nginx:1.28\s+app=web/);
    await ok(['label', 'widget', 'w', '-n', ns, 'stage=prod']);
    await ok(['annotate', 'widget', 'w', '-n', ns, 'note=hi']);
    expect(await ok(['wait', '--for=jsonpath={.spec.size}=7', 'widget/w', '-n', ns, '--timeout=5s'])).toContain('condition met');
    expect(await ok(['get', 'widgets', '-n', ns, '-l', 'stage=prod', '-o', 'name'])).toBe('widget.example.test/w\n');
    expect(await ok(['delete', 'widget', 'w', '-n', ns])).toContain('deleted');
    expect(server.store.get('example.test/v1', 'Widget', ns, 'w')).toBeUndefined();
    await ok(['delete', 'namespace', ns]);
  });

  it('kubectl rollout status sees setDeploymentReady play the Deployment controller', async () => {
    const ns = unique('ns');
    await ok(['create', 'namespace', ns]);
    await ok(['create', 'deployment', 'web', '--image=nginx:1.27', '-n', ns]);
    const waiting = kc(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=10s']);
    await server.setDeploymentReady(ns, 'web', true);
    const r = await waiting;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('deployment "web" successfully rolled out');
  });

  it('npm run apiserver: the standalone server writes a kubeconfig kubectl can use', async () => {
    const kubeconfig = join(dir, 'standalone-kubeconfig');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const child = spawn(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'test/support/apiserver/main.ts'), '--port', '0', '--kubeconfig', kubeconfig, '--crd', WIDGETS_CRD], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => {
          reject(new Error(`apiserver exited with ${code}: ${out}`));
        });
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const { stdout } = await run(kubectl, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache-standalone'), 'get', 'namespaces,crd', '-o', 'name']);
      expect(stdout).toContain('namespace/default');
      expect(stdout).toContain('customresourcedefinition.apiextensions.k8s.io/widgets.example.test');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('lists every trigger kind of the repository crd.yaml with kubectl get triggers', async () => {
    const ns = unique('ns');
    await ok(['apply', '--server-side', '-f', TRIGGERS_CRD]);
    await ok(['create', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
    const fn = '{url: "http://fn:8080/"}';
    const docs = [
      `kind: KafkaTrigger\nmetadata: {name: k}\nspec: {kafka: {brokers: ["k:9092"], topic: t}, function: ${fn}}`,
      `kind: NATSTrigger\nmetadata: {name: nt}\nspec: {nats: {url: "nats://n:4222", subject: s}, function: ${fn}}`,
      `kind: CronTrigger\nmetadata: {name: c}\nspec: {cron: {schedule: "* * * * *"}, function: ${fn}}`,
    ].map((d) => `apiVersion: kurier.dev/v1alpha1\n${d}\n`);
    await ok(['create', '-n', ns, '-f', '-'], docs.join('---\n'));
    const names = (await ok(['get', 'triggers', '-n', ns, '-o', 'name'])).trim().split('\n').sort();
    expect(names).toEqual(['crontrigger.kurier.dev/c', 'kafkatrigger.kurier.dev/k', 'natstrigger.kurier.dev/nt']);
  });
});
