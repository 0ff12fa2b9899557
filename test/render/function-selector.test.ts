/** Rendering a fan-out trigger (`spec.functionSelector`): the targets file instead of FUNCTION_URL, owned by the controller. */
import { join } from 'node:path';
import { Deployment as DeploymentModel } from 'kubernetes-models/apps/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceUrl, targetsConfigMapName, targetsDocument } from '../../render/function-targets.js';
import { render, RenderError, type Deployment } from '../../render/render.js';
import { loadSchemas } from '../../render/schema.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import type { JsonObject, JsonValue, Trigger } from '../../render/trigger.js';
import { judgeTrigger } from '../../render/verdict.js';
import { repoRoot } from '../support/run-kurier.js';

let templates: Templates;
beforeAll(async () => {
  templates = await loadTemplates(join(repoRoot, 'templates'));
});
const schemas = loadSchemas(`${repoRoot}crd.yaml`);

const selector = { matchLabels: { 'kurier.dev/function': 'orders' } };

function trigger(kind: 'KafkaTrigger' | 'PulsarTrigger', spec: Record<string, unknown> = {}): Trigger {
  const source = kind === 'KafkaTrigger' ? { kafka: { brokers: ['kafka:9092'], topic: 'orders' } } : { pulsar: { broker: 'pulsar://p:6650', topic: 'orders' } };
  return { apiVersion: 'kurier.dev/v1alpha1', kind, metadata: { name: 'orders', namespace: 'shop', uid: 'uid-1' }, spec: { ...source, functionSelector: selector, ...spec } };
}

const podSpec = (d: Deployment): JsonObject => (d.spec['template'] as JsonObject)['spec'] as JsonObject;
const dispatcher = (d: Deployment): JsonObject => (podSpec(d)['containers'] as JsonObject[]).find((c) => c['name'] === 'dispatcher')!;
const envNames = (d: Deployment): string[] => (dispatcher(d)['env'] as JsonObject[]).map((e) => e['name'] as string);
const envOf = (d: Deployment, name: string): JsonValue | undefined => (dispatcher(d)['env'] as JsonObject[]).find((e) => e['name'] === name)?.['value'];

function refusal(t: Trigger): { path: string; message: string }[] {
  try {
    render(t, templates);
  } catch (err) {
    if (err instanceof RenderError) return err.problems.map(({ path, message }) => ({ path, message }));
    throw err;
  }
  throw new Error('rendered, expected a refusal');
}

describe('render with spec.functionSelector', () => {
  it('sets FUNCTION_TARGETS_FILE instead of FUNCTION_URL and mounts the targets ConfigMap read-only', () => {
    const d = render(trigger('KafkaTrigger'), templates);
    expect(envNames(d)).not.toContain('FUNCTION_URL');
    expect(envOf(d, 'FUNCTION_TARGETS_FILE')).toBe('/etc/kurier/targets/targets.json');
    expect(podSpec(d)['volumes']).toContainEqual({ name: 'kurier-targets', configMap: { name: 'orders-kafka-targets' } });
    expect(dispatcher(d)['volumeMounts']).toContainEqual({ name: 'kurier-targets', mountPath: '/etc/kurier/targets', readOnly: true });
    expect(targetsConfigMapName(d.metadata.name)).toBe('orders-kafka-targets');
    expect(() => { new DeploymentModel(d as never).validate(); }).not.toThrow();
  });

  it('passes the one verdict (schema, CEL-equivalent rules, policy) for every kind', () => {
    const kinds: [string, Record<string, unknown>][] = [
      ['KafkaTrigger', { kafka: { brokers: ['k:9092'], topic: 't' } }],
      ['PulsarTrigger', { pulsar: { broker: 'pulsar://p:6650', topic: 't' } }],
      ['NATSTrigger', { nats: { url: 'nats://n:4222', subject: 's' } }],
      ['RabbitMQTrigger', { rabbitmq: { url: 'amqp://r', queue: 'q' } }],
      ['CronTrigger', { cron: { schedule: '* * * * *' } }],
    ];
    for (const [kind, source] of kinds) {
      const verdict = judgeTrigger({ apiVersion: 'kurier.dev/v1alpha1', kind, metadata: { name: 'fan', namespace: 'shop' }, spec: { ...source, functionSelector: selector } }, { schemas, templates });
      expect(verdict.problems, kind).toEqual([]);
      expect(verdict.deployment === undefined ? undefined : envOf(verdict.deployment, 'FUNCTION_TARGETS_FILE'), kind).toBe('/etc/kurier/targets/targets.json');
    }
  });

  it('refuses spec.function beside spec.functionSelector, in the verdict and in render alone', () => {
    const both = trigger('KafkaTrigger', { function: { url: 'http://fn.shop/' } });
    expect(judgeTrigger(both, { schemas, templates }).problems).toContainEqual({
      path: 'spec.functionSelector',
      message: 'set exactly one of spec.function or spec.functionSelector, not several',
      severity: 'error',
    });
    expect(refusal(both)).toEqual([{ path: 'spec.functionSelector', message: 'give either spec.functionSelector or spec.function, not both' }]);
  });

  it('refuses an empty selector and malformed requirements, naming the field', () => {
    const problems = (spec: Record<string, unknown>): string[] =>
      judgeTrigger(trigger('KafkaTrigger', spec), { schemas, templates }).problems.filter((p) => p.severity === 'error').map((p) => p.path);
    expect(problems({ functionSelector: {} })).toContain('spec.functionSelector');
    expect(problems({ functionSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } })).toContain('spec.functionSelector.matchExpressions[0].values');
    expect(problems({ functionSelector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['a'] }] } })).toContain('spec.functionSelector.matchExpressions[0].values');
    expect(problems({ functionSelector: { matchLabels: { 'bad key!': 'x' } } })).toContain('spec.functionSelector.matchLabels.bad key!');
    expect(problems({ functionSelector: { matchLabels: { app: 'not a value' } } })).toContain('spec.functionSelector.matchLabels.app');
  });

  it('does not let spec.deployment redirect the targets: its volume, its mount path, or the function variables', () => {
    const override = (podSpecOverride: Record<string, unknown>): Trigger => trigger('KafkaTrigger', { deployment: { spec: { template: { spec: podSpecOverride } } } });
    expect(refusal(override({ volumes: [{ name: 'kurier-targets', configMap: { name: 'someone-elses' } }] })).map((p) => p.path)).toEqual([
      'spec.deployment.spec.template.spec.volumes[name=kurier-targets]',
    ]);
    const mountElsewhere = override({ volumes: [{ name: 'mine', configMap: { name: 'other' } }], containers: [{ name: 'dispatcher', volumeMounts: [{ name: 'mine', mountPath: '/etc/kurier/targets' }] }] });
    expect(refusal(mountElsewhere).map((p) => p.path)).toEqual(['spec.deployment.spec.template.spec.containers[name=dispatcher].volumeMounts[mountPath=/etc/kurier/targets]']);
    const mountAbove = override({ volumes: [{ name: 'mine', configMap: { name: 'other' } }], containers: [{ name: 'dispatcher', volumeMounts: [{ name: 'mine', mountPath: '/etc/kurier' }] }] });
    expect(refusal(mountAbove).map((p) => p.path)).toEqual(['spec.deployment.spec.template.spec.containers[name=dispatcher].volumeMounts[mountPath=/etc/kurier]']);
    const url = override({ containers: [{ name: 'dispatcher', env: [{ name: 'FUNCTION_URL', value: 'http://elsewhere/' }] }] });
    expect(refusal(url).map((p) => p.path)).toEqual(['spec.deployment.spec.template.spec.containers[name=dispatcher].env[name=FUNCTION_URL]']);
    const file = override({ containers: [{ name: 'dispatcher', env: [{ name: 'FUNCTION_TARGETS_FILE', value: '/tmp/mine.json' }] }] });
    expect(refusal(file).map((p) => p.path)).toEqual(['spec.deployment.spec.template.spec.containers[name=dispatcher].env[name=FUNCTION_TARGETS_FILE]']);
  });

  it('keeps other volumes and mounts of the override beside the targets', () => {
    const t = trigger('KafkaTrigger', {
      deployment: { spec: { template: { spec: { volumes: [{ name: 'tmp', emptyDir: {} }], containers: [{ name: 'dispatcher', volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] }] } } } },
    });
    const d = render(t, templates);
    expect((podSpec(d)['volumes'] as JsonObject[]).map((v) => v['name'])).toEqual(['tmp', 'kurier-targets']);
    expect((dispatcher(d)['volumeMounts'] as JsonObject[]).map((m) => m['mountPath'])).toEqual(['/tmp', '/etc/kurier/targets']);
  });

  it('refuses FUNCTION_TARGETS_FILE in spec.deployment of a trigger with spec.function', () => {
    const t = trigger('KafkaTrigger', { function: { url: 'http://fn.shop/' }, deployment: { spec: { template: { spec: { containers: [{ name: 'dispatcher', env: [{ name: 'FUNCTION_TARGETS_FILE', value: '/x' }] }] } } } } });
    delete t.spec.functionSelector;
    expect(refusal(t).map((p) => p.path)).toEqual(['spec.deployment.spec.template.spec.containers[name=dispatcher].env[name=FUNCTION_TARGETS_FILE]']);
  });

  it('gives a PulsarTrigger no single-function variables (KUBELESS_FUNCTION and its parts)', () => {
    const names = envNames(render(trigger('PulsarTrigger'), templates));
    expect(names).toContain('FUNCTION_TARGETS_FILE');
    expect(names.filter((n) => n.startsWith('KUBELESS_FUNCTION') || n === 'FUNCTION_URL')).toEqual([]);
    expect(names).toContain('PULSAR_TOPIC_NAME');
  });

  it('builds target URLs as spec.function.service does', () => {
    const t = trigger('KafkaTrigger');
    delete t.spec.functionSelector;
    t.spec.function = { service: { name: 'fn', port: 8080 } };
    expect(envOf(render(t, templates), 'FUNCTION_URL')).toBe(serviceUrl('fn', 'shop', 8080));
  });
});

describe('targets.json', () => {
  it('is sorted by name with a fixed key order, so the same set gives the same bytes', () => {
    const a = targetsDocument([{ url: 'http://b.shop.svc.cluster.local:80/', name: 'b' }, { name: 'a', url: 'http://a.shop.svc.cluster.local:8080/' }]);
    const b = targetsDocument([{ name: 'a', url: 'http://a.shop.svc.cluster.local:8080/' }, { name: 'b', url: 'http://b.shop.svc.cluster.local:80/' }]);
    expect(a).toBe(b);
    expect(a).toBe('{"targets":[{"name":"a","url":"http://a.shop.svc.cluster.local:8080/"},{"name":"b","url":"http://b.shop.svc.cluster.local:80/"}]}');
    expect(targetsDocument([])).toBe('{"targets":[]}');
  });
});
