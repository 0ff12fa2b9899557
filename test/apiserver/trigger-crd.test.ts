/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects are read untyped */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { failure, raw, useApiServer } from './helpers.js';

// The real trigger API: the repository's crd.yaml, installed into the double as into a cluster.
const CRD_YAML = fileURLToPath(new URL('../../crd.yaml', import.meta.url));
const G = 'kurier.dev';
const V = 'v1alpha1';

const fn = { url: 'http://fn.default.svc.cluster.local:8080/' };
const triggers: { kind: string; plural: string; spec: Record<string, unknown> }[] = [
  { kind: 'KafkaTrigger', plural: 'kafkatriggers', spec: { kafka: { brokers: ['kafka:9092'], topic: 'orders' }, function: fn } },
  { kind: 'PulsarTrigger', plural: 'pulsartriggers', spec: { pulsar: { broker: 'pulsar://pulsar:6650', topic: 'orders' }, function: fn } },
  { kind: 'NATSTrigger', plural: 'natstriggers', spec: { nats: { url: 'nats://nats:4222', subject: 'orders' }, function: fn } },
  { kind: 'RabbitMQTrigger', plural: 'rabbitmqtriggers', spec: { rabbitmq: { url: 'amqp://rabbit:5672', queue: 'orders' }, function: fn } },
  { kind: 'CronTrigger', plural: 'crontriggers', spec: { cron: { schedule: '*/5 * * * *' }, function: fn } },
];

describe('the repository crd.yaml installed into the double', () => {
  const api = useApiServer({ crds: [CRD_YAML] });

  it('serves every trigger kind with short names and the triggers category in discovery', async () => {
    const res = await raw(api.server.url, 'GET', `/apis/${G}/${V}`);
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.json.resources.map((r: any) => [r.name, r]));
    for (const t of triggers) {
      expect(byName[t.plural]).toMatchObject({ kind: t.kind, namespaced: true });
      expect(byName[t.plural].categories).toContain('triggers');
      expect(byName[`${t.plural}/status`]).toBeTruthy();
    }
  });

  it.each(triggers)('creates a valid $kind and reads it back', async (t) => {
    const ns = await api.namespace();
    const created = (await api.custom.createNamespacedCustomObject({
      group: G,
      version: V,
      namespace: ns,
      plural: t.plural,
      fieldValidation: 'Strict',
      body: { apiVersion: `${G}/${V}`, kind: t.kind, metadata: { name: 'orders' }, spec: t.spec },
    }));
    expect(created.metadata.generation).toBe(1);
    const read = (await api.custom.getNamespacedCustomObject({ group: G, version: V, namespace: ns, plural: t.plural, name: 'orders' }));
    expect(read.spec.function).toEqual(fn);
  });

  it('answers 422 with causes naming the field for an invalid value', async () => {
    const ns = await api.namespace();
    const st = await failure(
      api.custom.createNamespacedCustomObject({
        group: G,
        version: V,
        namespace: ns,
        plural: 'kafkatriggers',
        body: { apiVersion: `${G}/${V}`, kind: 'KafkaTrigger', metadata: { name: 'bad' }, spec: { kafka: { brokers: [] }, function: fn, delivery: { ordering: 'sorted' } } },
      }),
      422,
    );
    expect(st.message).toMatch(/^KafkaTrigger\.kurier\.dev "bad" is invalid: /);
    const fields = (st.details?.causes ?? []).map((c) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['spec.kafka.brokers', 'spec.delivery.ordering']));
    expect(st.details?.causes?.find((c) => c.field === 'spec.delivery.ordering')?.reason).toBe('FieldValueNotSupported');
  });

  it('rejects a typo\'d field under strict field validation (kubectl\'s default), naming it; prunes it otherwise', async () => {
    const ns = await api.namespace();
    const body = { apiVersion: `${G}/${V}`, kind: 'NATSTrigger', metadata: { name: 'typo' }, spec: { nats: { url: 'nats://n:4222', subject: 's', queueGrup: 'q' }, function: fn } };
    const st = await failure(api.custom.createNamespacedCustomObject({ group: G, version: V, namespace: ns, plural: 'natstriggers', body, fieldValidation: 'Strict' }), 400);
    expect(st.message).toContain('unknown field "spec.nats.queueGrup"');
    const pruned = (await api.custom.createNamespacedCustomObject({ group: G, version: V, namespace: ns, plural: 'natstriggers', body }));
    expect(pruned.spec.nats).toEqual({ url: 'nats://n:4222', subject: 's' });
  });

  it('keeps spec.deployment free-form', async () => {
    const ns = await api.namespace();
    const created = (await api.custom.createNamespacedCustomObject({
      group: G,
      version: V,
      namespace: ns,
      plural: 'crontriggers',
      fieldValidation: 'Strict',
      body: { apiVersion: `${G}/${V}`, kind: 'CronTrigger', metadata: { name: 'c' }, spec: { cron: { schedule: '* * * * *' }, function: fn, deployment: { spec: { template: { spec: { nodeSelector: { a: 'b' } } } } } } },
    }));
    expect(created.spec.deployment.spec.template.spec.nodeSelector).toEqual({ a: 'b' });
  });
});
