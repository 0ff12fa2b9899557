import { readFileSync } from 'node:fs';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadSchemas } from '../../render/schema.js';
import { repoRoot } from '../support/run-kurier.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, read deeply by the assertions
type Node = Record<string, any>;

const crds: Node[] = parseAllDocuments(readFileSync(`${repoRoot}crd.yaml`, 'utf8')).map((document) => {
  expect(document.errors).toEqual([]);
  return document.toJS() as Node;
});

const KINDS = [
  ['KafkaTrigger', 'kafkatriggers', 'kt', 'kafka', '.spec.kafka.topic'],
  ['PulsarTrigger', 'pulsartriggers', 'pt', 'pulsar', '.spec.pulsar.topic'],
  ['NATSTrigger', 'natstriggers', 'nt', 'nats', '.spec.nats.subject'],
  ['RabbitMQTrigger', 'rabbitmqtriggers', 'rt', 'rabbitmq', '.spec.rabbitmq.queue'],
  ['CronTrigger', 'crontriggers', 'ct', 'cron', '.spec.cron.schedule'],
] as const;

const crdOf = (kind: string): Node => {
  const found = crds.find((crd) => crd.spec.names.kind === kind);
  if (found === undefined) throw new Error(`no CRD for ${kind}`);
  return found;
};
const schemaOf = (kind: string): Node => crdOf(kind).spec.versions[0].schema.openAPIV3Schema;

/** Every schema node with its path, for structural-schema rules. */
function* nodes(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) yield* nodes(child, `${path}.${key}`);
  if (node.items !== undefined) yield* nodes(node.items as Node, `${path}[]`);
}

describe('crd.yaml', () => {
  it('holds exactly five CustomResourceDefinitions, one per trigger kind', () => {
    expect(crds.map((crd) => `${crd.apiVersion} ${crd.kind}`)).toEqual(Array(5).fill('apiextensions.k8s.io/v1 CustomResourceDefinition'));
    expect(crds.map((crd) => crd.spec.names.kind)).toEqual(KINDS.map(([kind]) => kind));
  });

  it('is valid against the Kubernetes CustomResourceDefinition schema (kubernetes-models)', () => {
    for (const crd of crds) expect(() => { new CustomResourceDefinition(crd as never).validate(); }).not.toThrow();
  });

  it.each(KINDS)('defines %s in group kurier.dev, v1alpha1 served and stored, namespaced, with names and categories', (kind, plural, short) => {
    const crd = crdOf(kind);
    expect(crd.metadata.name).toBe(`${plural}.kurier.dev`);
    expect(crd.spec.group).toBe('kurier.dev');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toMatchObject({ plural, singular: kind.toLowerCase(), shortNames: [short], categories: ['triggers', 'kurier'] });
    expect(crd.spec.versions).toHaveLength(1);
    expect(crd.spec.versions[0]).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it.each(KINDS)('gives %s printer columns Source, Function, Targets, Ready and Age', (kind, _plural, _short, _source, sourcePath) => {
    const columns = crdOf(kind).spec.versions[0].additionalPrinterColumns as Node[];
    const visible = columns.filter((column) => column.priority === undefined);
    expect(visible.map((column) => [column.name, column.jsonPath])).toEqual([
      ['Source', sourcePath],
      ['Function', '.spec.function.url'],
      ['Targets', '.status.targets.count'],
      ['Ready', '.status.conditions[?(@.type=="Ready")].status'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  it.each(KINDS)('gives %s a structural schema: every node typed, no additionalProperties but the label map, spec.deployment the only free-form part', (kind) => {
    const free: string[] = [];
    for (const [path, node] of nodes(schemaOf(kind), '')) {
      // a label selector's matchLabels is a map of strings, as in metav1.LabelSelector
      if (path === '.spec.functionSelector.matchLabels') expect(node.additionalProperties).toEqual({ type: 'string', maxLength: 63 });
      else expect(node.additionalProperties, path).toBeUndefined();
      if (node['x-kubernetes-int-or-string'] !== true) expect(typeof node.type, `${path} has no type`).toBe('string');
      if (node['x-kubernetes-preserve-unknown-fields'] === true) free.push(path);
    }
    expect(free).toEqual(['.spec.deployment']);
  });

  it.each(KINDS)('requires %s spec with its source block and declares the status schema', (kind, _plural, _short, source) => {
    const schema = schemaOf(kind);
    expect(schema.required).toEqual(['spec']);
    expect(schema.properties.spec.required).toContain(source);
    expect(Object.keys(schema.properties.status.properties)).toEqual(['observedGeneration', 'conditions', 'deployment', 'replicas', 'readyReplicas', 'targets']);
    expect(Object.keys(schema.properties.status.properties.targets.properties)).toEqual(['count', 'names', 'truncated']);
    expect(Object.keys(schema.properties.status.properties.conditions.items.properties)).toEqual([
      'type', 'status', 'reason', 'message', 'lastTransitionTime', 'observedGeneration',
    ]);
  });

  it('makes every secret reference {name, key} with both required', () => {
    let refs = 0;
    for (const [kind] of KINDS) {
      for (const [path, node] of nodes(schemaOf(kind), '')) {
        if (!path.endsWith('SecretRef')) continue;
        refs++;
        expect(node.required, path).toEqual(['name', 'key']);
        expect(Object.keys(node.properties as object), path).toEqual(['name', 'key']);
      }
    }
    expect(refs).toBe(14);
  });

  it('lets a PulsarTrigger carry the kubeless-pulsar-trigger fields auth-token and kubeless.function, without requiring spec.function', () => {
    const spec = schemaOf('PulsarTrigger').properties.spec;
    expect(spec.properties.pulsar.properties['auth-token'].type).toBe('string');
    expect(spec.properties.kubeless.properties.function.type).toBe('string');
    expect(spec.required).toEqual(['pulsar']);
    expect(spec['x-kubernetes-validations'][0].rule).toBe('(has(self.__function__) ? 1 : 0) + (has(self.functionSelector) ? 1 : 0) + (has(self.kubeless) ? 1 : 0) == 1');
  });

  it('writes CEL rules with dashed field names escaped the Kubernetes way', () => {
    const rules = (schemaOf('PulsarTrigger').properties.spec.properties.pulsar['x-kubernetes-validations'] as Node[]).map((rule) => rule.rule as string);
    expect(rules.join(' ')).toContain('self.auth__dash__token');
    expect(rules.join(' ')).not.toContain('auth-token');
  });

  it('loads as trigger schemas with each kind mapped to its source block', () => {
    const schemas = loadSchemas(`${repoRoot}crd.yaml`);
    expect([...schemas.kinds.values()].map((kind) => [kind.kind, kind.source])).toEqual(KINDS.map(([kind, , , source]) => [kind, source]));
  });
});
