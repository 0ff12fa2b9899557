import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTemplates } from '../../render/templates.js';
import { loadSchemas } from '../../render/validate.js';
import { judgeTrigger } from '../../render/verdict.js';
import { repoRoot } from '../support/run-kurier.js';
import { renderKedaObjects } from '../../render/autoscaling.js';
import { RenderError } from '../../render/render-error.js';
import type { Trigger } from '../../render/trigger.js';

const fn = { url: 'http://fn.shop:8080/' };
const metadata = { name: 'orders', namespace: 'shop', uid: '0e3c7a52-1111-4d5e-9a53-6a2f5c0b0a01' };
const trigger = (kind: string, spec: Trigger['spec']): Trigger => ({ apiVersion: 'kurier.dev/v1alpha1', kind, metadata, spec: { function: fn, ...spec } });

/** Validates against KEDA's published CRD schema (the @kubernetes-models/keda package); throws on any violation. */
function validateAgainstKeda(objects: ReturnType<typeof renderKedaObjects>): void {
  new ScaledObject(objects!.scaledObject as never).validate();
  if (objects!.triggerAuthentication !== undefined) new TriggerAuthentication(objects!.triggerAuthentication as never).validate();
}

describe('renderKedaObjects', () => {
  it('renders nothing without spec.autoscaling', () => {
    expect(renderKedaObjects(trigger('KafkaTrigger', { kafka: { brokers: ['k:9092'], topic: 't' } }), 'kafka', { name: 'orders-kafka', namespace: 'shop' })).toBeUndefined();
  });

  it('Kafka: scaler from brokers, topic and the default consumer group, KEDA defaults written out, owned by the trigger', () => {
    const objects = renderKedaObjects(trigger('KafkaTrigger', { kafka: { brokers: ['a:9092', 'b:9092'], topic: 'orders' }, autoscaling: { maxReplicas: 8, lagThreshold: 50 } }), 'kafka', { name: 'orders-kafka', namespace: 'shop' });
    validateAgainstKeda(objects);
    expect(objects!.triggerAuthentication).toBeUndefined();
    expect(objects!.scaledObject).toMatchObject({
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'orders-kafka', namespace: 'shop', ownerReferences: [{ kind: 'KafkaTrigger', name: 'orders', uid: metadata.uid, controller: true }] },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'orders-kafka' },
        minReplicaCount: 0,
        maxReplicaCount: 8,
        pollingInterval: 30,
        cooldownPeriod: 300,
        triggers: [{ type: 'kafka', metadata: { bootstrapServers: 'a:9092,b:9092', topic: 'orders', consumerGroup: 'shop.orders', lagThreshold: '50' } }],
      },
    });
  });

  it('Kafka SASL: a TriggerAuthentication from the same Secret references, nothing inline', () => {
    const ref = { name: 'kafka-creds', key: 'password' };
    const objects = renderKedaObjects(trigger('KafkaTrigger', {
      kafka: { brokers: ['k:9092'], topic: 't', groupId: 'g', sasl: { mechanism: 'scram-sha-256', username: 'svc', passwordSecretRef: ref } },
      autoscaling: {},
    }), 'kafka', { name: 'orders-kafka', namespace: 'shop' });
    validateAgainstKeda(objects);
    expect(objects!.scaledObject).toMatchObject({ spec: { triggers: [{ authenticationRef: { name: 'orders-kafka' }, metadata: { consumerGroup: 'g', sasl: 'scram-sha-256', username: 'svc', lagThreshold: '10' } }] } });
    expect(objects!.triggerAuthentication).toMatchObject({ kind: 'TriggerAuthentication', spec: { secretTargetRef: [{ parameter: 'password', ...ref }] } });
    expect(JSON.stringify(objects)).not.toContain('"password":"');
  });

  it('RabbitMQ: QueueLength with value; urlSecretRef becomes the host through a TriggerAuthentication', () => {
    const ref = { name: 'rabbit', key: 'url' };
    const objects = renderKedaObjects(trigger('RabbitMQTrigger', { rabbitmq: { queue: 'jobs', urlSecretRef: ref }, autoscaling: { minReplicas: 1, value: 100, cooldownPeriod: 60 } }), 'rabbitmq', { name: 'orders-rabbitmq', namespace: 'shop' });
    validateAgainstKeda(objects);
    expect(objects!.scaledObject).toMatchObject({ spec: { minReplicaCount: 1, cooldownPeriod: 60, triggers: [{ type: 'rabbitmq', metadata: { queueName: 'jobs', mode: 'QueueLength', value: '100' } }] } });
    expect((objects!.scaledObject['spec'] as { triggers: { metadata: object }[] }).triggers[0]!.metadata).not.toHaveProperty('host');
    expect(objects!.triggerAuthentication).toMatchObject({ spec: { secretTargetRef: [{ parameter: 'host', ...ref }] } });
  });

  it('NATS JetStream: monitoring endpoint, stream and the default durable consumer', () => {
    const objects = renderKedaObjects(trigger('NATSTrigger', { nats: { url: 'nats://n:4222', subject: 's', jetstream: { stream: 'ORDERS' } }, autoscaling: { monitoringEndpoint: 'nats.nats:8222', lagThreshold: 25 } }), 'nats', { name: 'orders-nats', namespace: 'shop' });
    validateAgainstKeda(objects);
    expect(objects!.scaledObject).toMatchObject({ spec: { triggers: [{ type: 'nats-jetstream', metadata: { natsServerMonitoringEndpoint: 'nats.nats:8222', account: '$G', stream: 'ORDERS', consumer: 'shop-orders', lagThreshold: '25' } }] } });
  });

  it('Pulsar: the admin URL, the topic and subscription the dispatcher is given, the token through a TriggerAuthentication', () => {
    const ref = { name: 'pulsar-token', key: 'token' };
    const env = { PULSAR_TOPIC: 'persistent://billing/events/payments', PULSAR_SUBSCRIPTION: 'billing-payments' };
    const objects = renderKedaObjects(trigger('PulsarTrigger', {
      pulsar: { broker: 'pulsar://p:6650', topic: 'persistent://billing/events/payments', authTokenSecretRef: ref },
      autoscaling: { adminURL: 'http://pulsar-broker.pulsar:8080', msgBacklogThreshold: 25, isPartitionedTopic: true },
    }), 'pulsar', { name: 'orders-pulsar', namespace: 'shop', env });
    validateAgainstKeda(objects);
    expect(objects!.scaledObject).toMatchObject({
      spec: { triggers: [{ type: 'pulsar', authenticationRef: { name: 'orders-pulsar' }, metadata: { adminURL: 'http://pulsar-broker.pulsar:8080', topic: env.PULSAR_TOPIC, subscription: 'billing-payments', msgBacklogThreshold: '25', isPartitionedTopic: 'true', authModes: 'bearer' } }] },
    });
    expect(objects!.triggerAuthentication).toMatchObject({ spec: { secretTargetRef: [{ parameter: 'bearerToken', ...ref }] } });
  });

  it('Pulsar through the one verdict: a short topic and the default subscription as the dispatcher sees them; an inline token refused', async () => {
    const templates = await loadTemplates(join(repoRoot, 'templates'));
    const schemas = loadSchemas(join(repoRoot, 'crd.yaml'));
    const doc = trigger('PulsarTrigger', { pulsar: { broker: 'pulsar://p:6650', topic: 'payments' }, autoscaling: { adminURL: 'http://pulsar-broker.pulsar:8080' } });
    const verdict = judgeTrigger(doc, { templates, schemas });
    expect(verdict.problems).toEqual([]);
    expect(verdict.autoscaling?.scaledObject).toMatchObject({ spec: { triggers: [{ type: 'pulsar', metadata: { topic: 'persistent://public/default/payments', subscription: 'orders-shop', msgBacklogThreshold: '10' } }] } });
    expect(verdict.autoscaling?.triggerAuthentication).toBeUndefined();
    const inline = judgeTrigger(trigger('PulsarTrigger', { pulsar: { broker: 'pulsar://p:6650', topic: 'payments', 'auth-token': 'x' }, autoscaling: { adminURL: 'http://a:8080' } }), { templates, schemas });
    expect(inline.autoscaling).toBeUndefined();
    expect(inline.problems.filter((p) => p.severity === 'error').map((p) => p.path)).toEqual(['spec.pulsar.auth-token']);
  });

  it('refuses core NATS and names the field', () => {
    expect(() => renderKedaObjects(trigger('NATSTrigger', { nats: { url: 'nats://n:4222', subject: 's' }, autoscaling: { monitoringEndpoint: 'n:8222' } }), 'nats', { name: 'orders-nats', namespace: 'shop' })).toThrow(RenderError);
    expect(() => renderKedaObjects(trigger('NATSTrigger', { nats: { url: 'nats://n:4222', subject: 's' }, autoscaling: { monitoringEndpoint: 'n:8222' } }), 'nats', { name: 'orders-nats', namespace: 'shop' })).toThrow(/spec\.autoscaling/);
  });

  it('the KEDA schema check is not vacuous: a ScaledObject without scaleTargetRef is refused', () => {
    expect(() => {
      new ScaledObject({ metadata: { name: 'x' }, spec: { triggers: [] } } as never).validate();
    }).toThrow();
  });
});
