/** The metrics port after spec.deployment moves it, and host networking's rollout. */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { render, type Deployment } from '../../render/render.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import type { JsonObject, Trigger } from '../../render/trigger.js';
import { repoRoot } from '../support/run-kurier.js';

let templates: Templates;
beforeAll(async () => {
  templates = await loadTemplates(join(repoRoot, 'templates'));
});

function nats(deployment?: JsonObject, name = 'orders'): Trigger {
  return {
    apiVersion: 'kurier.dev/v1alpha1',
    kind: 'NATSTrigger',
    metadata: { name, namespace: 'shop', uid: 'uid-1' },
    spec: { nats: { url: 'nats://nats:4222', subject: 'orders' }, function: { url: 'http://fn.shop:8080/' }, ...(deployment ? { deployment } : {}) },
  };
}

const podTemplate = (d: Deployment): JsonObject => d.spec['template'] as JsonObject;
const podSpec = (d: Deployment): JsonObject => podTemplate(d)['spec'] as JsonObject;
const dispatcher = (d: Deployment): JsonObject => (podSpec(d)['containers'] as JsonObject[]).find((c) => c['name'] === 'dispatcher')!;
const annotations = (d: Deployment): Record<string, string> => (podTemplate(d)['metadata'] as JsonObject)['annotations'] as Record<string, string>;
const env = (d: Deployment, name: string): unknown => (dispatcher(d)['env'] as JsonObject[]).find((e) => e['name'] === name)?.['value'];
const movePort = (containerPort: number, extra: JsonObject = {}): JsonObject => ({
  spec: { template: { ...extra, spec: { containers: [{ name: 'dispatcher', ports: [{ name: 'metrics', containerPort }] }] } } },
});

describe('the metrics port', () => {
  it('is 9090 everywhere by default', () => {
    const deployment = render(nats(), templates);
    expect(env(deployment, 'METRICS_PORT')).toBe('9090');
    expect(annotations(deployment)['prometheus.io/port']).toBe('9090');
    expect(dispatcher(deployment)['ports']).toEqual([{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }]);
  });

  it('moves METRICS_PORT, the one port named metrics and prometheus.io/port when spec.deployment changes it', () => {
    const deployment = render(nats(movePort(9191)), templates);
    expect(dispatcher(deployment)['ports']).toEqual([{ name: 'metrics', containerPort: 9191 }]);
    expect(env(deployment, 'METRICS_PORT')).toBe('9191');
    expect(annotations(deployment)['prometheus.io/port']).toBe('9191');
    // the probes name the port, so they follow it
    expect((dispatcher(deployment)['readinessProbe'] as JsonObject)['httpGet']).toEqual({ path: '/readyz', port: 'metrics' });
  });

  it('keeps a prometheus.io/port that the override sets itself', () => {
    const deployment = render(nats(movePort(9191, { metadata: { annotations: { 'prometheus.io/port': '9102' } } })), templates);
    expect(annotations(deployment)['prometheus.io/port']).toBe('9102');
    expect(env(deployment, 'METRICS_PORT')).toBe('9191');
  });

  it('keeps other ports of the dispatcher', () => {
    const override = { spec: { template: { spec: { containers: [{ name: 'dispatcher', ports: [{ name: 'debug', containerPort: 9229 }] }] } } } };
    const deployment = render(nats(override), templates);
    expect(dispatcher(deployment)['ports']).toEqual([
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
      { name: 'debug', containerPort: 9229 },
    ]);
  });
});

describe('hostNetwork (where the policy allows it)', () => {
  const hostNetwork = (extra: JsonObject = {}): JsonObject => ({ spec: { ...extra, template: { spec: { hostNetwork: true } } } });
  const allowing = (): Templates => ({ ...templates, policy: { ...templates.policy, allowHostNamespaces: true } });

  it('replaces pods one at a time, since a surge pod could never bind the same host port', () => {
    const deployment = render(nats(hostNetwork()), allowing());
    expect(deployment.spec['strategy']).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    expect(podSpec(deployment)['dnsPolicy']).toBe('ClusterFirstWithHostNet');
  });

  it('leaves a strategy the override chose, and the surge rollout without hostNetwork', () => {
    const chosen = { type: 'Recreate', rollingUpdate: null };
    expect(render(nats(hostNetwork({ strategy: chosen })), allowing()).spec['strategy']).toEqual({ type: 'Recreate' });
    expect(render(nats(), allowing()).spec['strategy']).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  });

  it('lets each trigger on a node use its own metrics port (host port)', () => {
    const override = { spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'dispatcher', ports: [{ name: 'metrics', containerPort: 19091 }] }] } } } };
    const a = render(nats(override, 'a'), allowing());
    expect(podSpec(a)['hostNetwork']).toBe(true);
    expect(dispatcher(a)['ports']).toEqual([{ name: 'metrics', containerPort: 19091 }]);
    expect(env(a, 'METRICS_PORT')).toBe('19091');
  });

  it('is refused by the default policy', () => {
    expect(() => render(nats(hostNetwork()), templates)).toThrow(/hostNetwork: host namespaces are not allowed/);
  });
});
