/** Both generations of kubeless-pulsar-trigger's PulsarTrigger, judged and rendered by the one verdict. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../../render/render.js';
import { loadSchemas, type TriggerSchemas } from '../../render/schema.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import type { JsonObject } from '../../render/trigger.js';
import { judgeTrigger } from '../../render/verdict.js';
import { repoRoot } from '../support/run-kurier.js';

let templates: Templates;
let schemas: TriggerSchemas;
beforeAll(async () => {
  templates = await loadTemplates(join(repoRoot, 'templates'));
  schemas = loadSchemas(join(repoRoot, 'crd.yaml'));
});

const envOf = (deployment: Deployment | undefined): Record<string, unknown> => {
  const pod = (deployment?.spec['template'] as JsonObject)['spec'] as JsonObject;
  const dispatcher = (pod['containers'] as JsonObject[]).find((c) => c['name'] === 'dispatcher')!;
  return Object.fromEntries((dispatcher['env'] as JsonObject[]).map((e) => [e['name'], e['value'] ?? e['valueFrom']]));
};

const judge = (doc: unknown) => judgeTrigger(doc, { templates, schemas });
const errors = (doc: unknown) => judge(doc).problems.filter((p) => p.severity === 'error');

const preOne = (pulsar: JsonObject = {}, kubeless: JsonObject = {}): JsonObject => ({
  apiVersion: 'kurier.dev/v1alpha1',
  kind: 'PulsarTrigger',
  metadata: { name: 'mytrigger', namespace: 'default' },
  spec: {
    pulsar: { namespace: 'default', topic: 'mytopic', broker: 'pulsar://pulsar.addr:6650', ...pulsar },
    kubeless: { namespace: 'default', function: 'myfunction', port: 8080, schema: 'http', ...kubeless },
  },
});

describe('kubeless-pulsar-trigger before 1.0 (split fields)', () => {
  it('accepts the README manifest after changing only apiVersion and posts to SCHEME://FUNCTION.NAMESPACE:PORT', async () => {
    const doc: unknown = parse(await readFile(join(repoRoot, 'examples/kubeless-pulsar-trigger-pre-1.0.yaml'), 'utf8'));
    const verdict = judge(doc);
    expect(verdict.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const env = envOf(verdict.deployment);
    expect(env).toMatchObject({
      FUNCTION_URL: 'http://myfunction.default:8080',
      PULSAR_TOPIC: 'persistent://public/default/mytopic',
      PULSAR_TOPIC_TYPE: 'persistent',
      PULSAR_TOPIC_NAMESPACE: 'public/default',
      PULSAR_TOPIC_NAME: 'mytopic',
      PULSAR_BROKER: 'pulsar://pulsar.addr:6650',
      KUBELESS_FUNCTION: 'myfunction',
      KUBELESS_FUNCTION_NAMESPACE: 'default',
      KUBELESS_FUNCTION_PORT: '8080',
      KUBELESS_FUNCTION_SCHEME: 'http',
      KUBELESS_FUNCTION_SCHEMA: 'http',
    });
    // The split fields do not leak into the mechanical PULSAR_* variables.
    expect(env).not.toHaveProperty('PULSAR_NAMESPACE');
  });

  it('reads scheme (its controller) as well as schema (its CRD), and tenant and topic-type', () => {
    const doc = preOne({ tenant: 'acme', 'topic-type': 'non-persistent' }, { scheme: 'https', namespace: 'fns', port: 8443 });
    delete ((doc['spec'] as JsonObject)['kubeless'] as JsonObject)['schema'];
    const env = envOf(judge(doc).deployment);
    expect(env).toMatchObject({
      FUNCTION_URL: 'https://myfunction.fns:8443',
      PULSAR_TOPIC: 'non-persistent://acme/default/mytopic',
      PULSAR_TOPIC_NAMESPACE: 'acme/default',
      KUBELESS_FUNCTION_SCHEMA: 'https',
      KUBELESS_FUNCTION_SCHEME: 'https',
    });
  });

  it('takes a namespace that already names the tenant', () => {
    expect(envOf(judge(preOne({ namespace: 'acme/orders' })).deployment)['PULSAR_TOPIC']).toBe('persistent://acme/orders/mytopic');
  });

  it('refuses mixed forms with the field named', () => {
    expect(errors(preOne({ topic: 'persistent://public/default/t' })).map((p) => p.path)).toContain('spec.pulsar.topic');
    expect(errors(preOne({}, { function: 'http://myfunction.default:8080' })).map((p) => p.path)).toContain('spec.kubeless.function');
    expect(errors(preOne({}, { scheme: 'https', schema: 'http' })).map((p) => p.path)).toContain('spec.kubeless.schema');
    expect(errors(preOne({ namespace: 'acme/orders', tenant: 'other' })).map((p) => p.path)).toContain('spec.pulsar.tenant');
    const oneZero = preOne();
    (oneZero['spec'] as JsonObject)['kubeless'] = { function: 'http://myfunction.default:8080', scheme: 'http' };
    expect(errors(oneZero).map((p) => p.path)).toContain('spec.kubeless.scheme');
  });
});

describe('kubeless-pulsar-trigger 1.0 (compound fields) also gets the pre-1.0 variables', () => {
  it('splits the full topic for images written against the old names; KUBELESS_FUNCTION stays the URL', async () => {
    const doc: unknown = parse(await readFile(join(repoRoot, 'examples/kubeless-pulsar-trigger-minimal.yaml'), 'utf8'));
    const env = envOf(judge(doc).deployment);
    expect(env).toMatchObject({
      PULSAR_TOPIC: 'persistent://public/default/mytopic',
      PULSAR_TOPIC_TYPE: 'persistent',
      PULSAR_TOPIC_NAMESPACE: 'public/default',
      PULSAR_TOPIC_NAME: 'mytopic',
      KUBELESS_FUNCTION: 'http://myfunction.default:8080',
    });
    // A URL is not split into name/namespace/port: it need not have that shape.
    expect(env).not.toHaveProperty('KUBELESS_FUNCTION_PORT');
  });

  it('gives a function.service trigger the split function variables', () => {
    const doc = preOne();
    const spec = doc['spec'] as JsonObject;
    spec['pulsar'] = { topic: 'orders', broker: 'pulsar://p:6650' };
    delete spec['kubeless'];
    spec['function'] = { service: { name: 'hello', namespace: 'fns', port: 8080 } };
    expect(envOf(judge(doc).deployment)).toMatchObject({
      KUBELESS_FUNCTION: 'http://hello.fns.svc.cluster.local:8080/',
      KUBELESS_FUNCTION_NAMESPACE: 'fns',
      KUBELESS_FUNCTION_PORT: '8080',
      KUBELESS_FUNCTION_SCHEME: 'http',
      PULSAR_TOPIC_NAME: 'orders',
    });
  });
});
