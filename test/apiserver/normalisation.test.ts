/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-class-instance-assignment -- custom objects and raw responses are read untyped; client-node models written as literals */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { closeConnections, kubeApi, shareConnections } from '../../controller/kube.js';
import { canonicalQuantity } from '../support/apiserver/quantity.js';
import { startApiServer } from '../support/apiserver/index.js';
import { readAsKubectl } from '../support/apiserver/kubectl-read.js';
import { deployment, eventually, failure, raw, useApiServer } from './helpers.js';

// What a real kube-apiserver does to what it is sent, and the double must do too, or a controller
// comparing its desired object with the stored one is tested against something no cluster does.
const CRD_YAML = fileURLToPath(new URL('../../crd.yaml', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const G = 'kurier.dev';
const V = 'v1alpha1';
const kafkaTrigger = (name: string, kafka: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: `${G}/${V}`,
  kind: 'KafkaTrigger',
  metadata: { name },
  spec: { kafka, function: { url: 'http://fn.shop:8080/' } },
});

describe('resource quantities are stored in canonical form', () => {
  it.each([
    ['0.5', '500m'],
    [0.5, '500m'],
    ['1.5Gi', '1536Mi'],
    [4, '4'],
    ['1000', '1k'],
    ['1000m', '1'],
    ['0.5Ki', '512'],
    ['1024Ki', '1Mi'],
    ['1e3', '1e3'],
    ['0.0000000001', '1n'],
  ])('%j → %s', (given, stored) => {
    expect(canonicalQuantity(given)).toBe(stored);
  });

  const api = useApiServer();

  it('a Deployment written with 0.5 CPU, 1.5Gi and a JSON number comes back as 500m, 1536Mi and "4"', async () => {
    const ns = await api.namespace();
    const d = deployment('q');
    d.spec!.template.spec!.containers[0]!.resources = { requests: { cpu: 0.5 as unknown as string, memory: '1.5Gi' }, limits: { cpu: 4 as unknown as string, memory: '2Gi' } };
    d.spec!.template.spec!.volumes = [{ name: 'scratch', emptyDir: { sizeLimit: '0.5Gi' } }];
    const res = await raw(api.server.url, 'POST', `/apis/apps/v1/namespaces/${ns}/deployments`, d);
    expect(res.status).toBe(201);
    const spec = res.json.spec.template.spec;
    expect(spec.containers[0].resources).toEqual({ requests: { cpu: '500m', memory: '1536Mi' }, limits: { cpu: '4', memory: '2Gi' } });
    expect(spec.volumes[0].emptyDir.sizeLimit).toBe('512Mi');
    const read = await api.apps.readNamespacedDeployment({ namespace: ns, name: 'q' });
    expect(read.spec?.template.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '500m', memory: '1536Mi' });
  });

  it('a quantity that does not parse fails the whole decoding with 400, naming the expected form', async () => {
    const ns = await api.namespace();
    const d = deployment('bad-q');
    d.spec!.template.spec!.containers[0]!.resources = { requests: { cpu: 'half' } };
    const status = await failure(api.apps.createNamespacedDeployment({ namespace: ns, body: d }), 400);
    expect(status.reason).toBe('BadRequest');
    expect(status.message).toBe(`Deployment in version "v1" cannot be handled as a Deployment: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  });
});

describe('nulls and unknown fields are dropped before validation', () => {
  const api = useApiServer({ crds: [CRD_YAML] });

  it('a Deployment field sent as null is not stored (it decodes to the Go zero value)', async () => {
    const ns = await api.namespace();
    const d: any = deployment('nulls');
    d.spec.template.spec.nodeSelector = null;
    d.metadata.annotations = null;
    const res = await raw(api.server.url, 'POST', `/apis/apps/v1/namespaces/${ns}/deployments`, d);
    expect(res.status).toBe(201);
    expect(res.json.spec.template.spec).not.toHaveProperty('nodeSelector');
    expect(res.json.metadata).not.toHaveProperty('annotations');
  });

  it('a trigger field sent as null (not nullable in the schema) is dropped, not refused as the wrong type', async () => {
    const ns = await api.namespace();
    const res = await raw(api.server.url, 'POST', `/apis/${G}/${V}/namespaces/${ns}/kafkatriggers`, kafkaTrigger('nulls', { brokers: ['k:9092'], topic: null, topics: ['orders'] }));
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json.spec.kafka).toEqual({ brokers: ['k:9092'], topics: ['orders'] });
  });

  it('a misspelt Deployment field is dropped under fieldValidation=Ignore (no warning) and Warn (a Warning header)', async () => {
    const ns = await api.namespace();
    for (const [mode, warns] of [['Ignore', false], ['Warn', true]] as const) {
      const d: any = deployment(`typo-${mode.toLowerCase()}`);
      d.spec.template.spec.nodeSelectr = { disk: 'ssd' };
      const res = await raw(api.server.url, 'POST', `/apis/apps/v1/namespaces/${ns}/deployments?fieldValidation=${mode}`, d);
      expect(res.status).toBe(201);
      expect(res.json.spec.template.spec).not.toHaveProperty('nodeSelectr');
      if (warns) expect(res.headers.get('warning')).toContain('unknown field \\"spec.template.spec.nodeSelectr\\"');
      else expect(res.headers.get('warning')).toBeNull();
    }
  });
});

describe('x-kubernetes-validations (CEL) are evaluated', () => {
  const api = useApiServer({ crds: [CRD_YAML] });

  it('refuses a KafkaTrigger with both topic and topics, with the rule message at the field the rule sits on', async () => {
    const ns = await api.namespace();
    const body = kafkaTrigger('both', { brokers: ['k:9092'], topic: 'a', topics: ['b'] });
    const status = await failure(api.custom.createNamespacedCustomObject({ group: G, version: V, namespace: ns, plural: 'kafkatriggers', body }), 422);
    expect(status.reason).toBe('Invalid');
    expect(status.details?.causes).toEqual([{ reason: 'FieldValueInvalid', message: 'Invalid value: "object": exactly one of topic or topics must be set', field: 'spec.kafka' }]);
    expect(status.message).toBe('KafkaTrigger.kurier.dev "both" is invalid: spec.kafka: Invalid value: "object": exactly one of topic or topics must be set');
  });

  it('evaluates rules on updates too, and accepts what satisfies them', async () => {
    const ns = await api.namespace();
    const created: any = await api.custom.createNamespacedCustomObject({ group: G, version: V, namespace: ns, plural: 'kafkatriggers', body: kafkaTrigger('ok', { brokers: ['k:9092'], topic: 'a' }) });
    created.spec.function = { url: 'http://fn:8080/', service: { name: 'fn' } };
    const status = await failure(api.custom.replaceNamespacedCustomObject({ group: G, version: V, namespace: ns, plural: 'kafkatriggers', name: 'ok', body: created }), 422);
    expect(status.details?.causes).toEqual([{ reason: 'FieldValueInvalid', message: 'Invalid value: "object": exactly one of url or service must be set', field: 'spec.function' }]);
  });

  it('runs no rule on an object that already failed its schema, and says "some validation rules were not checked"', async () => {
    const ns = await api.namespace();
    const body = kafkaTrigger('schema-and-cel', { topic: 'a', topics: ['b'] }); // brokers missing and topic/topics both set
    const status = await failure(api.custom.createNamespacedCustomObject({ group: G, version: V, namespace: ns, plural: 'kafkatriggers', body }), 422);
    expect(status.details?.causes).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.kafka.brokers' },
      { reason: 'FieldValueInvalid', message: 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation', field: '<nil>' },
    ]);
  });

  it('refuses a CRD whose rule names a field its object does not declare, or does not parse', async () => {
    const crd = (rule: string): Record<string, unknown> => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' } }, 'x-kubernetes-validations': [{ rule, message: 'm' }] } } } } }],
      },
    });
    for (const rule of ['has(self.b)', 'self.a ==']) {
      const res = await raw(api.server.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd(rule));
      expect(res.status, rule).toBe(422);
      expect(res.json.details.causes[0].field).toBe('spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule');
      expect(res.json.details.causes[0].message).toContain('compilation failed');
    }
    expect((await raw(api.server.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd('has(self.a)'))).status).toBe(201);
  });
});

describe('connections', () => {
  const api = useApiServer();

  it('client-node keeps reusing a connection, as it does against kube-apiserver (no short Keep-Alive hint)', async () => {
    const kc = shareConnections(api.server.kubeConfig());
    const client = kubeApi(kc);
    const before = api.server.connectionsAccepted();
    for (let i = 0; i < 30; i++) await client.get({ group: 'apps', version: 'v1', plural: 'deployments' }, 'default', `absent-${String(i)}`);
    expect(api.server.connectionsAccepted() - before).toBeLessThanOrEqual(2);
    await closeConnections(kc);
  });
});

describe('deploymentController: kube-controller-manager writes a Deployment right after it changes', () => {
  const api = useApiServer({ deploymentController: true });

  it('writes status after a create and after a spec change, so a write with the earlier resourceVersion conflicts', async () => {
    const ns = await api.namespace();
    const created = await api.apps.createNamespacedDeployment({ namespace: ns, body: deployment('kcm') });
    const observed = await eventually(() => {
      const d: any = api.server.store.get('apps/v1', 'Deployment', ns, 'kcm');
      expect(d.status).toMatchObject({ observedGeneration: 1, replicas: 1, updatedReplicas: 1, unavailableReplicas: 1 });
      return d;
    });
    expect(Number(observed.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    expect(observed.metadata.managedFields.map((f: any) => f.manager)).toContain('kube-controller-manager');
    created.spec!.replicas = 3;
    await failure(api.apps.replaceNamespacedDeployment({ namespace: ns, name: 'kcm', body: created }), 409);
    const fresh = await api.apps.readNamespacedDeployment({ namespace: ns, name: 'kcm' });
    fresh.spec!.replicas = 3;
    await api.apps.replaceNamespacedDeployment({ namespace: ns, name: 'kcm', body: fresh });
    await eventually(() => { expect((api.server.store.get('apps/v1', 'Deployment', ns, 'kcm') as any).status).toMatchObject({ observedGeneration: 2, replicas: 3, unavailableReplicas: 3 }); });
  });
});

describe('CRDs are installed as kubectl reads the file (YAML 1.1), not as a YAML 1.2 reader would', () => {
  const onCrd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: switches.example.com }
spec:
  group: example.com
  scope: Namespaced
  names: { plural: switches, kind: Switch }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                on: { type: string }
                mode: { type: string, default: 0755 }
`;

  it('an unquoted `on:` property key is the boolean true, so the field is called "true"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yaml11-crd-'));
    writeFileSync(join(dir, 'crd.yaml'), onCrd);
    const server = await startApiServer({ crds: [join(dir, 'crd.yaml')] });
    try {
      const crd: any = server.store.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'switches.example.com');
      const props = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
      expect(Object.keys(props).sort()).toEqual(['mode', 'true']);
      expect(props.mode.default).toBe(493);
    } finally {
      await server.close();
    }
  });

  const kubectl = ((): boolean => {
    try {
      execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  // kubectl maps kinds through discovery even for a client-side dry run: a double serving the CRDs answers it
  const api = useApiServer({ crds: [CRD_YAML] });
  // asynchronously: the double answers kubectl from this very process
  const kubectlJson = async (text: string): Promise<unknown[]> => {
    const child = spawn('kubectl', ['create', '--dry-run=client', '-o', 'json', '--validate=false', '--cache-dir', mkdtempSync(join(tmpdir(), 'kubectl-cache-')), '-f', '-'], {
      env: { ...process.env, KUBECONFIG: api.server.kubeconfigPath },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdin.end(text);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`kubectl exited ${String(code)}: ${err}`);
    // one pretty-printed JSON document per object, back to back
    return out.split(/(?<=^\})\n(?=\{$)/m).map((doc) => JSON.parse(doc) as unknown);
  };
  const manifests = ['crd.yaml', ...readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => `examples/${f}`)];

  it.skipIf(!kubectl).each(manifests)('reads %s exactly as `kubectl create --dry-run=client -o json` does (needs kubectl; skipped where it is not installed)', async (file) => {
    const text = readFileSync(join(REPO, file), 'utf8');
    expect(readAsKubectl(text)).toEqual(await kubectlJson(text));
  });

  it.skipIf(!kubectl)('and the same reading of a manifest with `on:` matches kubectl (needs kubectl; skipped where it is not installed)', async () => {
    expect(readAsKubectl(onCrd)).toEqual(await kubectlJson(onCrd));
  });
});
