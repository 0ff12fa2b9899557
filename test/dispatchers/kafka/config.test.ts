import { describe, expect, it } from 'vitest';
import { kafkaClientConfig } from '../../../dispatchers/kafka/adapter.js';
import { parseKafkaConfig } from '../../../dispatchers/kafka/config.js';
import { headersFromKafka, messageFromKafka } from '../../../dispatchers/kafka/message.js';
import { silentLogger } from '../../../common/logger.js';
import { sourceConfigParser } from '../../support/source-config.js';

const trigger = { kind: 'KafkaTrigger', name: 'orders', namespace: 'shop', uid: 'u-1' };
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

const { parse, problems } = sourceConfigParser(parseKafkaConfig, trigger);

describe('Kafka configuration from the env contract', () => {
  it('defaults the group to <namespace>.<name> and names the trigger in the client id', () => {
    const config = parse({ KAFKA_BROKERS: 'k1:9092,k2:9092', KAFKA_TOPIC: 'orders' });
    expect(config).toMatchObject({
      brokers: ['k1:9092', 'k2:9092'],
      topics: ['orders'],
      groupId: 'shop.orders',
      clientId: 'kurier-shop-orders',
      fromBeginning: false,
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 60_000,
      heartbeatIntervalMs: 3_000,
      partitionWindow: 1,
    });
    expect(config.sasl).toBeUndefined();
    expect(config.tls).toBeUndefined();
  });

  it('reads topics, group, fromBeginning and the group timeouts', () => {
    const config = parse({
      KAFKA_BROKERS: 'k:9092',
      KAFKA_TOPICS: 'a,b',
      KAFKA_GROUP_ID: 'custom',
      KAFKA_FROM_BEGINNING: 'true',
      KAFKA_SESSION_TIMEOUT: '10s',
      KAFKA_REBALANCE_TIMEOUT: '20s',
      KAFKA_HEARTBEAT_INTERVAL: '500ms',
    });
    expect(config).toMatchObject({ topics: ['a', 'b'], groupId: 'custom', fromBeginning: true, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000, heartbeatIntervalMs: 500 });
  });

  it('sizes the partition window from the ordering mode: 1 when ordered, maxInFlight otherwise', () => {
    const base = { KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC: 't', DELIVERY_MAX_IN_FLIGHT: '8' };
    expect(parse(base).partitionWindow).toBe(1);
    expect(parse({ ...base, DELIVERY_ORDERING: 'key' }).partitionWindow).toBe(8);
    expect(parse({ ...base, DELIVERY_ORDERING: 'unordered' }).partitionWindow).toBe(8);
  });

  it('builds SASL and TLS client options from the secrets', () => {
    const config = parse({
      KAFKA_BROKERS: 'k:9093',
      KAFKA_TOPIC: 't',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 's3cret',
      KAFKA_TLS_ENABLED: 'true',
      KAFKA_TLS_CA: PEM,
    });
    const client = kafkaClientConfig(config, silentLogger);
    expect(client.clientId).toBe('kurier-shop-orders');
    expect(client.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 's3cret' });
    expect(client.ssl).toEqual({ rejectUnauthorized: true, ca: [PEM] });
  });

  it('turns TLS on when a CA is given and honours insecureSkipVerify', () => {
    const config = parse({ KAFKA_BROKERS: 'k:9093', KAFKA_TOPIC: 't', KAFKA_TLS_CA: PEM, KAFKA_TLS_INSECURE_SKIP_VERIFY: 'true' });
    expect(config.tls).toEqual({ ca: PEM, cert: undefined, key: undefined, rejectUnauthorized: false });
  });

  it('reports every bad variable by name at once', () => {
    expect(
      problems({
        KAFKA_BROKERS: 'no-port',
        KAFKA_SESSION_TIMEOUT: 'soon',
        KAFKA_SASL_MECHANISM: 'gssapi',
        KAFKA_TLS_CERT: PEM,
        KAFKA_TLS_CA: 'not a pem',
      }),
    ).toEqual([
      'KAFKA_BROKERS entry "no-port" is not host:port',
      'KAFKA_TOPIC or KAFKA_TOPICS is required (the topic(s) to consume)',
      'KAFKA_SESSION_TIMEOUT="soon" is not a duration (e.g. 500ms, 30s, 5m)',
      'KAFKA_SASL_MECHANISM="gssapi" must be one of plain, scram-sha-256, scram-sha-512',
      'KAFKA_SASL_USERNAME is required (the SASL user for gssapi)',
      'KAFKA_SASL_PASSWORD is required (the SASL password for gssapi)',
      'KAFKA_TLS_CERT and KAFKA_TLS_KEY must be given together (client certificate and its key)',
      'KAFKA_TLS_CA is not PEM (expected -----BEGIN …)',
    ]);
  });

  it('refuses a heartbeat interval not below the session timeout', () => {
    expect(problems({ KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC: 't', KAFKA_SESSION_TIMEOUT: '3s', KAFKA_HEARTBEAT_INTERVAL: '3s' })).toEqual([
      'KAFKA_HEARTBEAT_INTERVAL (3000ms) must be above 0 and below KAFKA_SESSION_TIMEOUT (3000ms)',
    ]);
  });
});

describe('Kafka record to neutral message', () => {
  it('uses topic/partition/offset as id, the partition as lane and the record key as key', () => {
    const message = messageFromKafka('orders', 3, {
      key: Buffer.from('customer-9'),
      value: Buffer.from('{"a":1}'),
      timestamp: '1767225600000',
      attributes: 0,
      offset: '42',
      headers: { 'Content-Type': Buffer.from('application/json'), 'X-Trace': [Buffer.from('a'), Buffer.from('b')] },
    });
    expect(message).toMatchObject({
      id: 'orders/3/42',
      lane: 'orders/3',
      key: 'customer-9',
      topic: 'orders',
      contentType: 'application/json',
      headers: { 'x-trace': 'a,b' },
      coordinates: { topic: 'orders', partition: 3, offset: '42' },
    });
    expect(message.time.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('delivers a tombstone as an empty body without a key', () => {
    const message = messageFromKafka('t', 0, { key: null, value: null, timestamp: '0', attributes: 0, offset: '0', size: 0 });
    expect(message.body.length).toBe(0);
    expect(message.key).toBeUndefined();
  });

  it('keeps string header values and skips undefined ones', () => {
    expect(headersFromKafka({ a: 'x', b: undefined })).toEqual({ a: 'x' });
  });
});
