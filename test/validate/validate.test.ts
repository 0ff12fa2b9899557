import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isValid, loadSchemas, validateTrigger, type Problem } from '../../render/validate.js';
import { repoRoot } from '../support/run-kurier.js';

const schemas = loadSchemas(`${repoRoot}crd.yaml`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- trigger fixtures that each case mutates deeply
type Doc = Record<string, any>;

const meta = { name: 'orders', namespace: 'shop' };
const fn = { url: 'http://orders-fn.shop:8080/' };

/** One minimal valid trigger per kind; each case below breaks one thing. */
const base: Record<string, () => Doc> = {
  kafka: () => ({ apiVersion: 'kurier.dev/v1alpha1', kind: 'KafkaTrigger', metadata: { ...meta }, spec: { kafka: { brokers: ['kafka:9092'], topic: 'orders' }, function: { ...fn } } }),
  pulsar: () => ({ apiVersion: 'kurier.dev/v1alpha1', kind: 'PulsarTrigger', metadata: { ...meta }, spec: { pulsar: { broker: 'pulsar://pulsar:6650', topic: 'orders' }, function: { ...fn } } }),
  nats: () => ({ apiVersion: 'kurier.dev/v1alpha1', kind: 'NATSTrigger', metadata: { ...meta }, spec: { nats: { url: 'nats://nats:4222', subject: 'orders.>' }, function: { ...fn } } }),
  rabbitmq: () => ({ apiVersion: 'kurier.dev/v1alpha1', kind: 'RabbitMQTrigger', metadata: { ...meta }, spec: { rabbitmq: { url: 'amqp://rabbitmq:5672', queue: 'orders' }, function: { ...fn } } }),
  cron: () => ({ apiVersion: 'kurier.dev/v1alpha1', kind: 'CronTrigger', metadata: { ...meta }, spec: { cron: { schedule: '*/5 * * * *' }, function: { ...fn } } }),
};

const errors = (problems: Problem[]): string[] => problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
const warnings = (problems: Problem[]): string[] => problems.filter((p) => p.severity === 'warning').map((p) => `${p.path}: ${p.message}`);

describe('validateTrigger', () => {
  it.each(Object.keys(base))('accepts a minimal %s trigger', (source) => {
    expect(validateTrigger(base[source]!(), schemas)).toEqual([]);
  });

  it.each(readdirSync(`${repoRoot}examples`).filter((file) => file.endsWith('.yaml')))('accepts examples/%s', (file) => {
    const documents = parseAllDocuments(readFileSync(`${repoRoot}examples/${file}`, 'utf8'));
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) {
      const problems = validateTrigger(document.toJS(), schemas);
      expect(errors(problems)).toEqual([]);
      const expected = file.startsWith('kubeless-pulsar-trigger') ? [expect.stringMatching(/^spec\.pulsar\.auth-token: /)] : [];
      expect(warnings(problems)).toEqual(expected);
    }
  });

  it('accepts a trigger that sets every optional common field', () => {
    const doc = base.kafka!();
    doc.spec.delivery = {
      ordering: 'key', maxInFlight: 4, timeout: '10s',
      retry: { maxAttempts: 3, initialDelay: '100ms', maxDelay: '1m', maxElapsed: '1h30m', when: ['network', 'timeout', 408, '429', '5xx', '4xx'] },
      deadLetter: { topic: 'orders.dlq' }, reply: { topic: 'orders.out' },
    };
    doc.spec.replicas = 3;
    doc.spec.deployment = { spec: { template: { spec: { anything: { goes: true } } } } };
    expect(validateTrigger(doc, schemas)).toEqual([]);
  });

  // [case, source, mutate, expected error "path: message" (substring of the message)]
  const invalid: [string, string, (doc: Doc) => void, string, string][] = [
    ['a typo in a source field names the unknown field and suggests the right one', 'kafka', (d) => { d.spec.kafka.topc = d.spec.kafka.topic; delete d.spec.kafka.topic; }, 'spec.kafka.topc', 'unknown field "topc"; did you mean "topic"?'],
    ['an unknown field under spec', 'nats', (d) => { d.spec.functon = d.spec.function; }, 'spec.functon', 'unknown field "functon"; did you mean "function"?'],
    ['an unknown top-level field', 'cron', (d) => { d.data = {}; }, 'data', 'unknown field "data"'],
    ['an unknown field in a secret reference', 'pulsar', (d) => { d.spec.pulsar.authTokenSecretRef = { name: 's', key: 'k', namespace: 'x' }; }, 'spec.pulsar.authTokenSecretRef.namespace', 'unknown field "namespace"'],
    ['a missing required source field', 'kafka', (d) => { delete d.spec.kafka.brokers; }, 'spec.kafka.brokers', 'required field is missing'],
    ['a missing source block', 'rabbitmq', (d) => { delete d.spec.rabbitmq; }, 'spec.rabbitmq', 'required field is missing'],
    ['a missing function', 'nats', (d) => { delete d.spec.function; }, 'spec.function', 'required field is missing'],
    ['a missing secret key', 'kafka', (d) => { d.spec.kafka.tls = { caSecretRef: { name: 'ca' } }; }, 'spec.kafka.tls.caSecretRef.key', 'required field is missing'],
    ['a missing name', 'cron', (d) => { delete d.metadata.name; }, 'metadata.name', 'required field is missing'],
    ['a bad enum value', 'pulsar', (d) => { d.spec.pulsar.subscriptionType = 'shared'; }, 'spec.pulsar.subscriptionType', 'must be one of Exclusive, Shared, Key_Shared, Failover (got "shared")'],
    ['a bad delivery ordering', 'kafka', (d) => { d.spec.delivery = { ordering: 'fifo' }; }, 'spec.delivery.ordering', 'must be one of ordered, key, unordered'],
    ['a wrong type', 'kafka', (d) => { d.spec.kafka.fromBeginning = 'yes'; }, 'spec.kafka.fromBeginning', 'must be a boolean'],
    ['a number below its minimum', 'kafka', (d) => { d.spec.delivery = { maxInFlight: 0 }; }, 'spec.delivery.maxInFlight', 'must be at least 1 (got 0)'],
    ['more than one replica of a CronTrigger', 'cron', (d) => { d.spec.replicas = 2; }, 'spec.replicas', 'must be at most 1'],
    ['a duration without a unit', 'kafka', (d) => { d.spec.delivery = { timeout: 30 }; }, 'spec.delivery.timeout', '30 is not a duration: give it a unit, like 30s'],
    ['a malformed duration', 'nats', (d) => { d.spec.nats.jetstream = { stream: 'S', ackWait: '5 minutes' }; }, 'spec.nats.jetstream.ackWait', '"5 minutes" is not a duration: write it like 500ms, 30s, 5m or 1h30m'],
    ['a zero timeout', 'kafka', (d) => { d.spec.delivery = { timeout: '0' }; }, 'spec.delivery.timeout', 'must be greater than 0'],
    ['an initial delay above the maximum delay', 'kafka', (d) => { d.spec.delivery = { retry: { initialDelay: '2m', maxDelay: '1m' } }; }, 'spec.delivery.retry.initialDelay', 'must not exceed maxDelay (2m > 1m)'],
    ['a heartbeat not below the session timeout', 'kafka', (d) => { Object.assign(d.spec.kafka, { sessionTimeout: '10s', heartbeatInterval: '10s' }); }, 'spec.kafka.heartbeatInterval', 'heartbeatInterval must be less than sessionTimeout (10s >= 10s)'],
    ['a session timeout below the default heartbeat', 'kafka', (d) => { d.spec.kafka.sessionTimeout = '2s'; }, 'spec.kafka.sessionTimeout', 'heartbeatInterval must be less than sessionTimeout (3s by default >= 2s)'],
    ['a JetStream ack wait below one second', 'nats', (d) => { d.spec.nats.jetstream = { stream: 'S', ackWait: '500ms' }; }, 'spec.nats.jetstream.ackWait', 'must be at least 1s (got 500ms)'],
    ['an unknown retryable outcome', 'kafka', (d) => { d.spec.delivery = { retry: { when: ['network', 'sometimes'] } }; }, 'spec.delivery.retry.when[1]', '"sometimes" is not a retryable outcome'],
    ['retrying a success status', 'kafka', (d) => { d.spec.delivery = { retry: { when: [204] } }; }, 'spec.delivery.retry.when[0]', '204 is a successful delivery'],
    ['a cron expression with a value out of range', 'cron', (d) => { d.spec.cron.schedule = '61 * * * *'; }, 'spec.cron.schedule', '"61 * * * *" is not a valid cron expression: minute "61"'],
    ['a cron expression with the wrong number of fields', 'cron', (d) => { d.spec.cron.schedule = '* * *'; }, 'spec.cron.schedule', 'has 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), this one has 3'],
    ['an unknown time zone', 'cron', (d) => { d.spec.cron.timezone = 'Mars/Olympus_Mons'; }, 'spec.cron.timezone', '"Mars/Olympus_Mons" is not an IANA time zone'],
    ['a content type that is not a media type', 'cron', (d) => { d.spec.cron.contentType = 'json'; }, 'spec.cron.contentType', '"json" is not a media type'],
    ['both url and service', 'kafka', (d) => { d.spec.function.service = { name: 'orders-fn' }; }, 'spec.function', 'set exactly one of url or service (both are set)'],
    ['neither url nor service', 'kafka', (d) => { d.spec.function = {}; }, 'spec.function', 'set exactly one of url or service (neither is set)'],
    ['a relative function URL', 'kafka', (d) => { d.spec.function.url = 'orders-fn:8080'; }, 'spec.function.url', 'must be an absolute http:// or https:// URL (got "orders-fn:8080")'],
    ['a function URL with another scheme', 'kafka', (d) => { d.spec.function.url = 'ftp://orders-fn/'; }, 'spec.function.url', 'must be an absolute http:// or https:// URL'],
    ['a service path without a leading slash', 'kafka', (d) => { d.spec.function = { service: { name: 'fn', path: 'events' } }; }, 'spec.function.service.path', 'must start with "/"'],
    ['an invalid service name', 'kafka', (d) => { d.spec.function = { service: { name: 'Orders_Fn' } }; }, 'spec.function.service.name', '"Orders_Fn" is not a valid name'],
    ['an invalid trigger name', 'kafka', (d) => { d.metadata.name = 'Orders'; }, 'metadata.name', '"Orders" is not a valid name'],
    ['a Kafka topic with illegal characters', 'kafka', (d) => { d.spec.kafka.topic = 'orders/eu'; }, 'spec.kafka.topic', '"orders/eu" is not a legal Kafka topic name'],
    ['a Kafka topic longer than 249 characters', 'kafka', (d) => { d.spec.kafka.topic = 'a'.repeat(250); }, 'spec.kafka.topic', 'at most 249 characters'],
    ['both topic and topics', 'kafka', (d) => { d.spec.kafka.topics = ['a']; }, 'spec.kafka.topics', 'set exactly one of topic or topics'],
    ['neither topic nor topics', 'kafka', (d) => { delete d.spec.kafka.topic; }, 'spec.kafka.topic', 'required field is missing (or topics)'],
    ['a Kafka broker with a scheme', 'kafka', (d) => { d.spec.kafka.brokers = ['kafka://kafka:9092']; }, 'spec.kafka.brokers[0]', 'without a scheme'],
    ['a Kafka broker without a port', 'kafka', (d) => { d.spec.kafka.brokers = ['kafka:9092', 'kafka-1']; }, 'spec.kafka.brokers[1]', 'must be host:port'],
    ['a SASL block with two user names', 'kafka', (d) => { d.spec.kafka.sasl = { mechanism: 'plain', username: 'u', usernameSecretRef: { name: 'a', key: 'b' }, passwordSecretRef: { name: 'a', key: 'c' } }; }, 'spec.kafka.sasl', 'set exactly one of username or usernameSecretRef (both are set)'],
    ['a client certificate without its key', 'kafka', (d) => { d.spec.kafka.tls = { certSecretRef: { name: 'a', key: 'b' } }; }, 'spec.kafka.tls.keySecretRef', 'certSecretRef and keySecretRef go together'],
    ['a Pulsar topic with a namespace but no tenant', 'pulsar', (d) => { d.spec.pulsar.topic = 'default/orders'; }, 'spec.pulsar.topic', '"default/orders" is not a Pulsar topic: write persistent://TENANT/NAMESPACE/TOPIC'],
    ['a Pulsar topic whose name has a slash', 'pulsar', (d) => { d.spec.pulsar.topic = 'persistent://public/default/orders/eu'; }, 'spec.pulsar.topic', 'is not a Pulsar topic'],
    ['a Pulsar topic with an unknown domain', 'pulsar', (d) => { d.spec.pulsar.topic = 'durable://public/default/orders'; }, 'spec.pulsar.topic', 'is not a Pulsar topic: write persistent://TENANT/NAMESPACE/TOPIC'],
    ['a Pulsar topic missing its namespace', 'pulsar', (d) => { d.spec.pulsar.topic = 'persistent://public/orders'; }, 'spec.pulsar.topic', 'is not a Pulsar topic'],
    ['a Pulsar broker with another scheme', 'pulsar', (d) => { d.spec.pulsar.broker = 'http://pulsar:8080'; }, 'spec.pulsar.broker', 'must be a pulsar:// or pulsar+ssl:// service URL'],
    ['both an inline token and a token secret', 'pulsar', (d) => { Object.assign(d.spec.pulsar, { 'auth-token': 't', authTokenSecretRef: { name: 'a', key: 'b' } }); }, 'spec.pulsar.auth-token', 'set at most one of authTokenSecretRef or auth-token'],
    ['both spec.function and spec.kubeless.function', 'pulsar', (d) => { d.spec.kubeless = { function: 'http://fn.default:8080' }; }, 'spec.kubeless.function', 'set exactly one of spec.function, spec.functionSelector or spec.kubeless.function, not several'],
    ['a PulsarTrigger without any function', 'pulsar', (d) => { delete d.spec.function; }, 'spec.function', 'required field is missing: give exactly one of spec.function, spec.functionSelector or spec.kubeless.function'],
    ['a kubeless function given as a bare name (the pre-1.0 form)', 'pulsar', (d) => { delete d.spec.function; d.spec.kubeless = { function: 'myfunction' }; }, 'spec.kubeless.function', 'must be an absolute http:// or https:// URL, the function as kubeless-pulsar-trigger 1.0 takes it'],
    ['a kubeless block on a kind that is not Pulsar', 'kafka', (d) => { d.spec.kubeless = { function: 'http://fn:8080' }; }, 'spec.kubeless', 'unknown field "kubeless"'],
    ['a NATS subject with an empty token', 'nats', (d) => { d.spec.nats.subject = 'orders..eu'; }, 'spec.nats.subject', 'has an empty token'],
    ['a NATS subject with a partial wildcard', 'nats', (d) => { d.spec.nats.subject = 'orders.eu*'; }, 'spec.nats.subject', "wildcards '*' and '>' must be whole tokens"],
    ['a NATS subject with > before the end', 'nats', (d) => { d.spec.nats.subject = 'orders.>.eu'; }, 'spec.nats.subject', "'>' must be the last token"],
    ['a NATS subject with whitespace', 'nats', (d) => { d.spec.nats.subject = 'orders eu'; }, 'spec.nats.subject', 'contains whitespace'],
    ['a NATS dead-letter subject with a wildcard', 'nats', (d) => { d.spec.delivery = { deadLetter: { topic: 'dead.*' } }; }, 'spec.delivery.deadLetter.topic', 'no wildcards'],
    ['a NATS URL with another scheme', 'nats', (d) => { d.spec.nats.url = 'nats://a:4222,http://b:4222'; }, 'spec.nats.url', 'must be an absolute nats:// or tls:// URL'],
    ['a queue group with JetStream', 'nats', (d) => { Object.assign(d.spec.nats, { queueGroup: 'g', jetstream: { stream: 'S' } }); }, 'spec.nats.queueGroup', 'queueGroup is for core NATS'],
    ['a JetStream stream name with a dot', 'nats', (d) => { d.spec.nats.jetstream = { stream: 'orders.eu' }; }, 'spec.nats.jetstream.stream', 'is not a valid JetStream stream name'],
    ['two NATS authentication methods', 'nats', (d) => { Object.assign(d.spec.nats, { tokenSecretRef: { name: 'a', key: 'b' }, credentialsSecretRef: { name: 'a', key: 'c' } }); }, 'spec.nats', 'choose one authentication'],
    ['a NATS user name without a password', 'nats', (d) => { d.spec.nats.username = 'u'; }, 'spec.nats.passwordSecretRef', 'a username needs a password'],
    ['a RabbitMQ URL with another scheme', 'rabbitmq', (d) => { d.spec.rabbitmq.url = 'http://rabbitmq:15672'; }, 'spec.rabbitmq.url', 'must be an absolute amqp:// or amqps:// URL'],
    ['both a RabbitMQ url and urlSecretRef', 'rabbitmq', (d) => { d.spec.rabbitmq.urlSecretRef = { name: 'a', key: 'b' }; }, 'spec.rabbitmq.urlSecretRef', 'set exactly one of url or urlSecretRef'],
    ['no RabbitMQ url at all', 'rabbitmq', (d) => { delete d.spec.rabbitmq.url; }, 'spec.rabbitmq.url', 'required field is missing (or urlSecretRef)'],
    ['a reserved amq. queue name to declare', 'rabbitmq', (d) => { d.spec.rabbitmq.queue = 'amq.orders'; }, 'spec.rabbitmq.queue', 'reserved'],
    ['a dead-letter queue that is the consumed queue', 'rabbitmq', (d) => { d.spec.delivery = { deadLetter: { topic: 'orders' } }; }, 'spec.delivery.deadLetter.topic', 'is what this trigger consumes'],
    ['a Pulsar dead-letter topic that is the consumed one in its full form', 'pulsar', (d) => { d.spec.delivery = { deadLetter: { topic: 'persistent://public/default/orders' } }; }, 'spec.delivery.deadLetter.topic', 'is what this trigger consumes'],
    ['a Pulsar dead-letter topic that is the consumed one in its tenant/ns form', 'pulsar', (d) => { d.spec.pulsar.topic = 'persistent://acme/shop/orders'; d.spec.delivery = { deadLetter: { topic: 'acme/shop/orders' } }; }, 'spec.delivery.deadLetter.topic', 'is what this trigger consumes'],
    ['a password inside a RabbitMQ URL', 'rabbitmq', (d) => { d.spec.rabbitmq.url = 'amqp://guest:guest@rabbitmq:5672'; }, 'spec.rabbitmq.url', 'inline secret values are not accepted: the URL carries a password; use urlSecretRef'],
    ['a password inside a NATS URL', 'nats', (d) => { d.spec.nats.url = 'nats://u:hunter2@nats:4222'; }, 'spec.nats.url', 'inline secret values are not accepted: the URL carries a password'],
    ['an inline NATS password', 'nats', (d) => { Object.assign(d.spec.nats, { username: 'u', password: 'hunter2' }); }, 'spec.nats.password', 'inline secret values are not accepted: put the value in a Secret and set passwordSecretRef: {name, key}'],
    ['an inline NATS token', 'nats', (d) => { d.spec.nats.token = 's3cr3t'; }, 'spec.nats.token', 'inline secret values are not accepted: put the value in a Secret and set tokenSecretRef: {name, key}'],
    ['an inline Kafka SASL password', 'kafka', (d) => { d.spec.kafka.sasl = { mechanism: 'scram-sha-256', username: 'u', password: 'p' }; }, 'spec.kafka.sasl.password', 'set passwordSecretRef: {name, key}'],
    ['an inline RabbitMQ password', 'rabbitmq', (d) => { d.spec.rabbitmq.password = 'p'; }, 'spec.rabbitmq.password', 'set passwordSecretRef: {name, key}'],
    ['a selector in the Deployment override', 'kafka', (d) => { d.spec.deployment = { spec: { selector: { matchLabels: { app: 'x' } } } }; }, 'spec.deployment.spec.selector', 'the controller owns the selector'],
    ['a dead-letter target on a CronTrigger', 'cron', (d) => { d.spec.delivery = { deadLetter: { topic: 'x' } }; }, 'spec.delivery.deadLetter', 'unknown field "deadLetter"'],
  ];

  it.each(invalid)('reports %s', (_case, source, mutate, path, message) => {
    const doc = base[source]!();
    mutate(doc);
    const problems = validateTrigger(doc, schemas);
    expect(isValid(problems)).toBe(false);
    const lines = errors(problems);
    expect(lines.some((line) => line.startsWith(`${path}: `) && line.includes(message)), `expected "${path}: …${message}…" in:\n${lines.join('\n')}`).toBe(true);
  });

  it('reports every problem of a trigger at once, not just the first', () => {
    const doc = base.kafka!();
    Object.assign(doc.spec.kafka, { topc: 'x', groupID: 'y' });
    doc.spec.delivery = { timeout: 'soon', ordering: 'fifo' };
    doc.spec.function.url = 'nope';
    expect(errors(validateTrigger(doc, schemas)).map((line) => line.split(':')[0])).toEqual([
      'spec.delivery.ordering', 'spec.delivery.timeout', 'spec.function.url', 'spec.kafka.groupID', 'spec.kafka.topc',
    ]);
  });

  it('reports a bad duration once, with the semantic message rather than the schema pattern', () => {
    const doc = base.kafka!();
    doc.spec.delivery = { timeout: '30 seconds' };
    expect(errors(validateTrigger(doc, schemas))).toEqual(['spec.delivery.timeout: "30 seconds" is not a duration: write it like 500ms, 30s, 5m or 1h30m']);
  });

  it('refuses every duration longer than 576h, which a timer cannot hold', () => {
    const doc = base.kafka!();
    doc.spec.kafka.sessionTimeout = '600h';
    doc.spec.delivery = { timeout: '700h', retry: { initialDelay: '1s', maxDelay: '1000h', maxElapsed: '10000h' } };
    const tooLong = 'is longer than 576h (24 days), the longest wait a timer can hold';
    expect(errors(validateTrigger(doc, schemas))).toEqual([
      `spec.delivery.retry.maxDelay: "1000h" ${tooLong}`,
      `spec.delivery.retry.maxElapsed: "10000h" ${tooLong}`,
      `spec.delivery.timeout: "700h" ${tooLong}`,
      `spec.kafka.sessionTimeout: "600h" ${tooLong}`,
    ]);
    doc.spec.kafka.sessionTimeout = '30s';
    doc.spec.delivery = { timeout: '576h', retry: { maxDelay: '575h59m59.999s' } };
    expect(errors(validateTrigger(doc, schemas))).toEqual([]);
  });

  it('warns about an inline Pulsar auth-token and recommends authTokenSecretRef, without failing', () => {
    const doc = base.pulsar!();
    doc.spec.pulsar['auth-token'] = 'eyJhbGciOi';
    const problems = validateTrigger(doc, schemas);
    expect(isValid(problems)).toBe(true);
    expect(warnings(problems)).toEqual([expect.stringMatching(/^spec\.pulsar\.auth-token: .*use authTokenSecretRef/)]);
  });

  it.each([
    ['a RabbitMQ routing key without an exchange', 'rabbitmq', (d: Doc) => { d.spec.rabbitmq.routingKey = 'a.#'; }, 'spec.rabbitmq.routingKey: has no effect without exchange'],
    ['a RabbitMQ prefetch below maxInFlight', 'rabbitmq', (d: Doc) => { d.spec.rabbitmq.prefetch = 1; d.spec.delivery = { maxInFlight: 4 }; }, 'spec.rabbitmq.prefetch: below delivery.maxInFlight'],
    ['a cron payload that is not JSON sent as JSON', 'cron', (d: Doc) => { d.spec.cron.payload = 'tick'; }, 'spec.cron.payload: is not valid JSON'],
    ['Pulsar tls settings with a plain pulsar:// broker', 'pulsar', (d: Doc) => { d.spec.pulsar.tls = { validateHostname: true }; }, 'spec.pulsar.tls: tls settings apply only to a pulsar+ssl:// broker'],
    ['an override that names the Deployment', 'kafka', (d: Doc) => { d.spec.deployment = { metadata: { name: 'mine' } }; }, 'spec.deployment.metadata.name: ignored: the controller names the Deployment'],
    ['SASL PLAIN without TLS', 'kafka', (d: Doc) => { d.spec.kafka.sasl = { mechanism: 'plain', username: 'u', passwordSecretRef: { name: 'a', key: 'b' } }; }, 'spec.kafka.sasl.mechanism: SASL PLAIN without tls'],
  ])('warns about %s', (_case, source, mutate, expected) => {
    const doc = base[source]!();
    mutate(doc);
    const problems = validateTrigger(doc, schemas);
    expect(errors(problems)).toEqual([]);
    expect(warnings(problems).some((line) => line.startsWith(expected))).toBe(true);
  });

  it.each([
    ['persistent://tenant/ns/topic', 'persistent://acme/orders/created'],
    ['non-persistent://tenant/ns/topic', 'non-persistent://acme/orders/created'],
    ['a short name', 'orders-created'],
    ['tenant/ns/topic', 'acme/orders/created'],
    ['a partition of a partitioned topic', 'persistent://public/default/orders-partition-3'],
  ])('accepts a Pulsar topic written as %s', (_case, topic) => {
    const doc = base.pulsar!();
    doc.spec.pulsar.topic = topic;
    expect(validateTrigger(doc, schemas)).toEqual([]);
  });

  it.each(['0 */2 * * * *', '30 7 * * 1-5', '@daily', '0 0 1 1 *'])('accepts the cron expression %s', (schedule) => {
    const doc = base.cron!();
    doc.spec.cron.schedule = schedule;
    doc.spec.cron.timezone = 'America/Sao_Paulo';
    expect(validateTrigger(doc, schemas)).toEqual([]);
  });

  it('accepts a comma-separated NATS URL list and tls://', () => {
    const doc = base.nats!();
    doc.spec.nats.url = 'nats://a:4222, tls://b:4222';
    expect(validateTrigger(doc, schemas)).toEqual([]);
  });

  it('ignores status, which the API server ignores in what users apply (kubectl get -o yaml output validates)', () => {
    const doc = base.nats!();
    doc.status = { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True', reason: 'Available', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }], extra: 1 };
    doc.metadata = { ...doc.metadata, uid: 'u-1', resourceVersion: '42', generation: 2, creationTimestamp: '2026-01-01T00:00:00Z', managedFields: [] };
    expect(validateTrigger(doc, schemas)).toEqual([]);
  });

  it('names apiVersion and kind of a document that is not a Kurier trigger', () => {
    const problems = validateTrigger({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }, schemas);
    expect(errors(problems)).toEqual([expect.stringMatching(/^kind: not a Kurier trigger: apiVersion "apps\/v1", kind "Deployment" \(known: kurier\.dev\/v1alpha1 KafkaTrigger, /)]);
  });

  it('tells a kubeless-pulsar-trigger user which apiVersion to use', () => {
    const doc = base.pulsar!();
    doc.apiVersion = 'kubeless.io/v1';
    expect(errors(validateTrigger(doc, schemas))).toEqual(['apiVersion: not a Kurier trigger: apiVersion "kubeless.io/v1", kind PulsarTrigger; Kurier serves PulsarTrigger as kurier.dev/v1alpha1']);
  });

  it('rejects a document that is not a mapping', () => {
    expect(errors(validateTrigger(['a', 'b'], schemas))).toEqual([': not a trigger: expected a YAML mapping with apiVersion, kind, metadata and spec']);
  });
});
