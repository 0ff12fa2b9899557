import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readConfiguration } from '../../../dispatchers/core/runtime.js';
import { consumerConfig, replicaConsumerName } from '../../../dispatchers/pulsar/adapter.js';
import { fullTopicName, parsePulsarConfig } from '../../../dispatchers/pulsar/config.js';
import { MISSING_CLIENT, pulsarClientInstalled } from '../../../dispatchers/pulsar/load.js';
import { messageFromPulsar, pulsarMessageId } from '../../../dispatchers/pulsar/message.js';
import { sourceModule } from '../../../dispatchers/pulsar/index.js';
import { FakeMessageId } from '../../support/fake-pulsar.js';
import type { SourceModule } from '../../../dispatchers/core/types.js';
import { runKurier } from '../../support/run-kurier.js';
import { sourceConfigParser } from '../../support/source-config.js';
import { FAKE_LABEL, fakeTarget, pulsarEnv, startDispatcher, uniqueTopic } from './harness.js';

// The module's own parseConfig also checks that pulsar-client is installed; these tests are about the env.
const withoutClientCheck: SourceModule<unknown> = { ...sourceModule, parseConfig: parsePulsarConfig };

const trigger = { kind: 'PulsarTrigger', name: 'orders', namespace: 'shop', uid: 'u-1' };

const { parse, problems } = sourceConfigParser(parsePulsarConfig, trigger);

describe('Pulsar configuration from the env contract', () => {
  it('accepts exactly what kubeless-pulsar-trigger set: PULSAR_BROKER, a PULSAR_TOPIC URL, PULSAR_AUTH_TOKEN, KUBELESS_FUNCTION', () => {
    const { config, sourceConfig } = readConfiguration('pulsar', withoutClientCheck, {
      PULSAR_BROKER: 'pulsar://pulsar.pulsar:6650',
      PULSAR_TOPIC: 'persistent://public/default/orders',
      PULSAR_AUTH_TOKEN: 'eyJ.token',
      KUBELESS_FUNCTION: 'http://orders-fn.shop.svc.cluster.local:8080',
      TZ: 'Europe/Berlin',
      TRIGGER_NAME: 'orders',
      TRIGGER_NAMESPACE: 'shop',
    });
    expect(config.functionUrl).toBe('http://orders-fn.shop.svc.cluster.local:8080');
    expect(sourceConfig).toMatchObject({
      serviceUrl: 'pulsar://pulsar.pulsar:6650',
      topic: 'persistent://public/default/orders',
      authToken: 'eyJ.token',
      subscription: 'orders-shop',
      subscriptionType: 'Shared',
      initialPosition: 'Latest',
    });
  });

  it('accepts a service URL with several hosts', () => {
    expect(parse({ PULSAR_BROKER: 'pulsar+ssl://a:6651,b:6651', PULSAR_TOPIC: 't' }).serviceUrl).toBe('pulsar+ssl://a:6651,b:6651');
  });

  it('expands a short topic name the way Pulsar does', () => {
    expect(fullTopicName('orders')).toBe('persistent://public/default/orders');
    expect(fullTopicName('acme/prod/orders')).toBe('persistent://acme/prod/orders');
    expect(fullTopicName('non-persistent://public/default/x')).toBe('non-persistent://public/default/x');
    expect(parse({ PULSAR_BROKER: 'pulsar://b:6650', PULSAR_TOPIC: 'orders' }).topic).toBe('persistent://public/default/orders');
  });

  it('maps Key_Shared to the client spelling KeyShared (the client silently subscribes Exclusive on Key_Shared)', () => {
    const config = parse({ PULSAR_BROKER: 'pulsar+ssl://b:6651', PULSAR_TOPIC: 't', PULSAR_SUBSCRIPTION_TYPE: 'Key_Shared' });
    expect(config.subscriptionType).toBe('Key_Shared');
    expect(consumerConfig(config).subscriptionType).toBe('KeyShared');
    expect(parse({ PULSAR_BROKER: 'pulsar://b:6650', PULSAR_TOPIC: 't', PULSAR_SUBSCRIPTION_TYPE: 'KeyShared' }).clientSubscriptionType).toBe('KeyShared');
  });

  it('subscribes without an ack timeout, with a receiver queue of maxInFlight and the client dead-letter policy when a dead-letter topic is set', () => {
    const config = parse({ PULSAR_BROKER: 'pulsar://b:6650', PULSAR_TOPIC: 't', DELIVERY_MAX_IN_FLIGHT: '16', DELIVERY_DEAD_LETTER_TOPIC: 't-dlq', PULSAR_SUBSCRIPTION: 'legacy-sub' });
    expect(consumerConfig(config)).toEqual({
      topic: 'persistent://public/default/t',
      subscription: 'legacy-sub',
      subscriptionType: 'Shared',
      subscriptionInitialPosition: 'Latest',
      ackTimeoutMs: 0,
      nAckRedeliverTimeoutMs: 1_000,
      receiverQueueSize: 16,
      maxTotalReceiverQueueSizeAcrossPartitions: 16,
      deadLetterPolicy: { deadLetterTopic: 't-dlq', maxRedeliverCount: 10 },
    });
    expect(consumerConfig(parse({ PULSAR_BROKER: 'pulsar://b:6650', PULSAR_TOPIC: 't' })).deadLetterPolicy).toBeUndefined();
  });

  it('sets the client dead-letter policy only on Shared and Key_Shared, the only types the client applies it to', () => {
    const env = { PULSAR_BROKER: 'pulsar://b:6650', PULSAR_TOPIC: 't', DELIVERY_DEAD_LETTER_TOPIC: 't-dlq' };
    for (const type of ['Exclusive', 'Failover']) {
      expect(consumerConfig(parse({ ...env, PULSAR_SUBSCRIPTION_TYPE: type })).deadLetterPolicy, type).toBeUndefined();
    }
    expect(consumerConfig(parse({ ...env, PULSAR_SUBSCRIPTION_TYPE: 'Key_Shared' })).deadLetterPolicy).toEqual({ deadLetterTopic: 't-dlq', maxRedeliverCount: 10 });
  });

  it('names every replica\'s consumer differently, after the trigger and the host', () => {
    const names = new Set(Array.from({ length: 50 }, () => replicaConsumerName('shop', 'orders', 'orders-pulsar-7d9f-x2')));
    expect(names.size).toBe(50);
    for (const name of names) expect(name).toMatch(/^kurier-shop-orders-orders-pulsar-7d9f-x2-[0-9a-f]{6}$/);
  });

  it('reports every bad variable by name', () => {
    expect(problems({ PULSAR_BROKER: 'http://b:8080', PULSAR_SUBSCRIPTION_TYPE: 'Broadcast', PULSAR_INITIAL_POSITION: 'Middle', PULSAR_TLS_ALLOW_INSECURE_CONNECTION: 'maybe' })).toEqual([
      'PULSAR_BROKER="http://b:8080" must be pulsar://host:port or pulsar+ssl://host:port (several hosts comma-separated)',
      'PULSAR_TOPIC is required (the topic, e.g. persistent://public/default/orders)',
      'PULSAR_SUBSCRIPTION_TYPE="Broadcast" must be one of Exclusive, Shared, Key_Shared, Failover',
      'PULSAR_INITIAL_POSITION="Middle" must be one of Latest, Earliest',
      'PULSAR_TLS_ALLOW_INSECURE_CONNECTION="maybe" is not a boolean (true or false)',
    ]);
    expect(problems({ PULSAR_TOPIC: 't' })).toEqual(['PULSAR_BROKER is required (the broker URL, pulsar:// or pulsar+ssl://)']);
  });
});

describe('Pulsar message to neutral message', () => {
  it('uses the message id as the ce-id, properties as headers, the ordering or partition key as key', () => {
    expect(pulsarMessageId(new FakeMessageId(12, 7))).toBe('12:7:-1:-1');
    const message = messageFromPulsar({
      getTopicName: () => 'persistent://public/default/orders',
      getProperties: () => ({ 'X-Tenant': 'acme', 'Content-Type': 'text/csv' }),
      getData: () => Buffer.from('a,b'),
      getMessageId: () => new FakeMessageId(3, 4),
      getPublishTimestamp: () => 1_767_225_600_000,
      getEventTimestamp: () => 0,
      getRedeliveryCount: () => 2,
      getPartitionKey: () => 'p-key',
      getOrderingKey: () => '',
    });
    expect(message).toMatchObject({
      id: '3:4:-1:-1',
      headers: { 'x-tenant': 'acme' },
      contentType: 'text/csv',
      key: 'p-key',
      lane: 'persistent://public/default/orders',
      redeliveries: 2,
    });
    expect(message.time.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe(`Pulsar client options [${FAKE_LABEL}]`, () => {
  it(`passes the token as AuthenticationToken and the trusted CA as a file that is removed on close [${FAKE_LABEL}]`, async () => {
    const target = fakeTarget();
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const dispatcher = await startDispatcher(
      target,
      pulsarEnv(target, uniqueTopic('opts'), 'http://127.0.0.1:9/', { PULSAR_AUTH_TOKEN: 'tok-123', PULSAR_TLS_TRUST_CERTS: pem, PULSAR_TLS_VALIDATE_HOSTNAME: 'true' }),
    );
    const [client] = target.broker?.clients ?? [];
    const options = client?.config as { authentication?: { token?: string }; tlsTrustCertsFilePath?: string; tlsValidateHostname?: boolean } | undefined;
    expect(options?.authentication?.token).toBe('tok-123');
    expect(options?.tlsValidateHostname).toBe(true);
    const path = options?.tlsTrustCertsFilePath ?? '';
    expect(readFileSync(path, 'utf8')).toBe(pem);
    expect(dispatcher.adapter.connected()).toBe(true);
    await dispatcher.stop(100);
    expect(existsSync(path)).toBe(false);
    expect(dispatcher.adapter.connected()).toBe(false);
  });
});

describe('kurier dispatch pulsar without the optional pulsar-client package', () => {
  const installed = pulsarClientInstalled();
  it.skipIf(installed)(`exits 1 with one line saying pulsar-client is not installed${installed ? ' (skipped: pulsar-client is installed here)' : ''}`, async () => {
    const result = await runKurier(['dispatch', 'pulsar'], {
      env: { PATH: process.env.PATH ?? '', PULSAR_BROKER: 'pulsar://127.0.0.1:6650', PULSAR_TOPIC: 'orders', FUNCTION_URL: 'http://127.0.0.1:1/' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([`kurier dispatch pulsar: ${MISSING_CLIENT}`]);
  });
});
