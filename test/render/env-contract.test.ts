import { describe, expect, it } from 'vitest';
import { blockEnv, envSegment } from '../../render/env-contract.js';
import { RenderError } from '../../render/render-error.js';

describe('env contract', () => {
  it.each([
    ['groupId', 'GROUP_ID'],
    ['auth-token', 'AUTH_TOKEN'],
    ['maxInFlight', 'MAX_IN_FLIGHT'],
    ['fromBeginning', 'FROM_BEGINNING'],
    ['topic', 'TOPIC'],
    ['insecureSkipVerify', 'INSECURE_SKIP_VERIFY'],
    ['caURL', 'CA_URL'],
  ])('turns the field %s into %s', (field, expected) => {
    expect(envSegment(field)).toBe(expected);
  });

  it('maps scalar leaves, nested blocks, arrays and secret refs mechanically, sorted by name', () => {
    const env = blockEnv(
      'KAFKA',
      {
        topic: 'orders',
        brokers: ['a:9092', 'b:9092'],
        fromBeginning: true,
        sasl: { mechanism: 'scram-sha-512', passwordSecretRef: { name: 'creds', key: 'pw' } },
        sessionTimeout: '10s',
      },
      'spec.kafka',
    );
    expect(env).toEqual([
      { name: 'KAFKA_BROKERS', value: 'a:9092,b:9092' },
      { name: 'KAFKA_FROM_BEGINNING', value: 'true' },
      { name: 'KAFKA_SASL_MECHANISM', value: 'scram-sha-512' },
      { name: 'KAFKA_SASL_PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'pw' } } },
      { name: 'KAFKA_SESSION_TIMEOUT', value: '10s' },
      { name: 'KAFKA_TOPIC', value: 'orders' },
    ]);
  });

  it('maps delivery settings to DELIVERY_*', () => {
    const env = blockEnv('DELIVERY', { maxInFlight: 4, retry: { maxDelay: '90s', when: ['5xx', 429] }, deadLetter: { topic: 'dlq' } }, 'spec.delivery');
    expect(env).toEqual([
      { name: 'DELIVERY_DEAD_LETTER_TOPIC', value: 'dlq' },
      { name: 'DELIVERY_MAX_IN_FLIGHT', value: '4' },
      { name: 'DELIVERY_RETRY_MAX_DELAY', value: '90s' },
      { name: 'DELIVERY_RETRY_WHEN', value: '5xx,429' },
    ]);
  });

  it('refuses a field given both inline and as a secret ref, naming the field', () => {
    expect(() => blockEnv('PULSAR', { authToken: 'x', authTokenSecretRef: { name: 's', key: 'k' } }, 'spec.pulsar')).toThrow(
      expect.objectContaining({ path: 'spec.pulsar.authTokenSecretRef' }),
    );
  });

  it('refuses a secret ref without a key', () => {
    expect(() => blockEnv('NATS', { tokenSecretRef: { name: 's' } }, 'spec.nats')).toThrow(RenderError);
  });

  it('refuses a list of objects, which has no env form', () => {
    expect(() => blockEnv('NATS', { servers: [{ host: 'a' }] }, 'spec.nats')).toThrow(expect.objectContaining({ path: 'spec.nats.servers[0]' }));
  });
});
