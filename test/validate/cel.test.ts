import { readdirSync, readFileSync } from 'node:fs';
import { run, type CelInput } from '@bufbuild/cel';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadSchemas, type SchemaNode } from '../../render/schema.js';
import { isValid, validateTrigger } from '../../render/validate.js';
import { repoRoot } from '../support/run-kurier.js';

// The API server enforces the x-kubernetes-validations rules; kurier validate implements the same rules in
// TypeScript. These tests evaluate the CEL rules from crd.yaml (with @bufbuild/cel) and check both agree.

const schemas = loadSchemas(`${repoRoot}crd.yaml`);

const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/** A property name as Kubernetes exposes it to CEL. */
function escape(name: string): string {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  return name.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__');
}

/** A parsed YAML value as CEL input: mappings become CEL maps keyed by escaped names. */
function toCel(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'object' && value !== null) return new Map(Object.entries(value).map(([key, child]) => [escape(key), toCel(child)]));
  return value as CelInput;
}

interface RuleSite {
  readonly kind: string;
  readonly path: string[];
  readonly node: SchemaNode;
  readonly rules: { rule: string; message: string }[];
}

function sites(node: SchemaNode, kind: string, path: string[] = []): RuleSite[] {
  const here = node['x-kubernetes-validations'] as RuleSite['rules'] | undefined;
  const out: RuleSite[] = here === undefined ? [] : [{ kind, path, node, rules: here }];
  for (const [key, child] of Object.entries(node.properties ?? {})) out.push(...sites(child, kind, [...path, key]));
  return out;
}

const allSites = [...schemas.kinds.values()].flatMap((kind) => sites(kind.openAPIV3Schema, kind.kind));

/** Messages of the rules `doc` breaks, evaluated where the rule sits (a rule on an absent object does not run). */
function celViolations(doc: Record<string, unknown>): string[] {
  const broken: string[] = [];
  for (const site of allSites.filter((s) => s.kind === doc.kind)) {
    const value = site.path.reduce<unknown>((at, key) => (typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined), doc);
    if (value === undefined) continue;
    for (const { rule, message } of site.rules) {
      if (run(rule, { self: toCel(value) }) !== true) broken.push(`${site.path.join('.')}: ${message}`);
    }
  }
  return broken;
}

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- fixtures mutated deeply
const meta = { name: 'orders', namespace: 'shop' };
const ref = { name: 's', key: 'k' };
const fn = { url: 'http://fn.shop:8080/' };
const kafka = (block: Doc, spec: Doc = { function: fn }): Doc => ({ apiVersion: 'kurier.dev/v1alpha1', kind: 'KafkaTrigger', metadata: meta, spec: { kafka: { brokers: ['k:9092'], ...block }, ...spec } });
const pulsar = (block: Doc, spec: Doc = { function: fn }): Doc => ({ apiVersion: 'kurier.dev/v1alpha1', kind: 'PulsarTrigger', metadata: meta, spec: { pulsar: { broker: 'pulsar://p:6650', topic: 't', ...block }, ...spec } });
const nats = (block: Doc, spec: Doc = { function: fn }): Doc => ({ apiVersion: 'kurier.dev/v1alpha1', kind: 'NATSTrigger', metadata: meta, spec: { nats: { url: 'nats://n:4222', subject: 's', ...block }, ...spec } });
const rabbit = (block: Doc, spec: Doc = { function: fn }): Doc => ({ apiVersion: 'kurier.dev/v1alpha1', kind: 'RabbitMQTrigger', metadata: meta, spec: { rabbitmq: { queue: 'q', ...block }, ...spec } });

describe('x-kubernetes-validations in crd.yaml', () => {
  it('has rules on every kind', () => {
    expect(new Set(allSites.map((site) => site.kind))).toEqual(new Set([...schemas.kinds.values()].map((kind) => kind.kind)));
  });

  it('names only fields of the object the rule sits on, escaped as Kubernetes exposes them to CEL', () => {
    for (const site of allSites) {
      const known = new Set(Object.keys(site.node.properties ?? {}).map(escape));
      for (const { rule } of site.rules) {
        for (const [, field] of rule.matchAll(/self\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
          expect(known.has(field!), `${site.kind} ${site.path.join('.')}: "${rule}" names ${field}`).toBe(true);
        }
      }
    }
  });

  const cases: [string, Doc][] = [
    ['function url and service both', kafka({ topic: 't' }, { function: { url: fn.url, service: { name: 'fn' } } })],
    ['function with neither', kafka({ topic: 't' }, { function: {} })],
    ['Kafka topic and topics', kafka({ topic: 't', topics: ['u'] })],
    ['Kafka neither topic nor topics', kafka({})],
    ['Kafka SASL with two user names', kafka({ topic: 't', sasl: { mechanism: 'scram-sha-256', username: 'u', usernameSecretRef: ref, passwordSecretRef: ref } })],
    ['Kafka SASL without a user name', kafka({ topic: 't', sasl: { mechanism: 'scram-sha-256', passwordSecretRef: ref } })],
    ['Kafka client certificate without key', kafka({ topic: 't', tls: { certSecretRef: ref } })],
    ['Kafka client certificate and key', kafka({ topic: 't', tls: { certSecretRef: ref, keySecretRef: ref } })],
    ['Pulsar auth-token and authTokenSecretRef', pulsar({ 'auth-token': 'x', authTokenSecretRef: ref })],
    ['Pulsar auth-token alone', pulsar({ 'auth-token': 'x' })],
    ['Pulsar function and kubeless.function', pulsar({}, { function: fn, kubeless: { function: fn.url } })],
    ['Pulsar kubeless.function alone', pulsar({}, { kubeless: { function: fn.url } })],
    ['Pulsar without any function', pulsar({}, {})],
    ['NATS queue group with JetStream', nats({ queueGroup: 'g', jetstream: { stream: 'S' } })],
    ['NATS JetStream alone', nats({ jetstream: { stream: 'S' } })],
    ['NATS token and credentials', nats({ tokenSecretRef: ref, credentialsSecretRef: ref })],
    ['NATS username and usernameSecretRef', nats({ username: 'u', usernameSecretRef: ref, passwordSecretRef: ref })],
    ['RabbitMQ url and urlSecretRef', rabbit({ url: 'amqp://r', urlSecretRef: ref })],
    ['RabbitMQ neither url nor urlSecretRef', rabbit({})],
    ['RabbitMQ urlSecretRef alone', rabbit({ urlSecretRef: ref })],
    ['autoscaling with replicas', kafka({ topic: 't' }, { function: fn, replicas: 2, autoscaling: { maxReplicas: 5 } })],
    ['autoscaling alone', kafka({ topic: 't' }, { function: fn, autoscaling: { minReplicas: 0, maxReplicas: 5, lagThreshold: 50 } })],
    ['autoscaling minReplicas above maxReplicas', rabbit({ url: 'amqp://r' }, { function: fn, autoscaling: { minReplicas: 6, maxReplicas: 5 } })],
    ['NATS autoscaling on core NATS', nats({}, { function: fn, autoscaling: { monitoringEndpoint: 'nats:8222' } })],
    ['NATS autoscaling without monitoringEndpoint', nats({ jetstream: { stream: 'S' } }, { function: fn, autoscaling: { maxReplicas: 3 } })],
    ['NATS autoscaling with JetStream and monitoringEndpoint', nats({ jetstream: { stream: 'S' } }, { function: fn, autoscaling: { monitoringEndpoint: 'nats:8222', lagThreshold: 10 } })],
    ['Pulsar autoscaling without adminURL', pulsar({}, { function: fn, autoscaling: { maxReplicas: 3 } })],
    ['Pulsar autoscaling with adminURL', pulsar({ authTokenSecretRef: ref }, { function: fn, autoscaling: { adminURL: 'http://pulsar-broker.pulsar:8080', msgBacklogThreshold: 50 } })],
    ['delivery timeout beyond 576h (Node timers)', kafka({ topic: 't' }, { function: fn, delivery: { timeout: '700h' } })],
    ['delivery timeout of exactly 576h', kafka({ topic: 't' }, { function: fn, delivery: { timeout: '576h', retry: { maxDelay: '575h59m60s' } } })],
    ['JetStream ack wait beyond 576h', nats({ jetstream: { stream: 'S', ackWait: '600h' } })],
    ['function and functionSelector both', kafka({ topic: 't' }, { function: fn, functionSelector: { matchLabels: { app: 'fn' } } })],
    ['functionSelector alone', kafka({ topic: 't' }, { functionSelector: { matchLabels: { app: 'fn' } } })],
    ['neither function nor functionSelector', nats({}, {})],
    ['functionSelector on a CronTrigger', { apiVersion: 'kurier.dev/v1alpha1', kind: 'CronTrigger', metadata: meta, spec: { cron: { schedule: '* * * * *' }, functionSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } } }],
    ['an empty functionSelector', rabbit({ url: 'amqp://r' }, { functionSelector: {} })],
    ['functionSelector In without values', kafka({ topic: 't' }, { functionSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] } })],
    ['functionSelector Exists with values', kafka({ topic: 't' }, { functionSelector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } })],
    ['Pulsar functionSelector and kubeless.function', pulsar({}, { functionSelector: { matchLabels: { app: 'fn' } }, kubeless: { function: fn.url } })],
    ['Pulsar functionSelector alone', pulsar({}, { functionSelector: { matchLabels: { app: 'fn' } } })],
    ['RabbitMQ username and usernameSecretRef', rabbit({ url: 'amqp://r', username: 'u', usernameSecretRef: ref })],
  ];

  it.each(cases)('agree with kurier validate on: %s', (_case, doc) => {
    const violations = celViolations(doc);
    const problems = validateTrigger(doc, schemas);
    expect(violations.length === 0, `CEL: ${violations.join('; ')}\nvalidate: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`).toBe(isValid(problems));
  });

  it('break on at least one of those cases each (no rule is vacuous)', () => {
    const broken = new Set(cases.flatMap(([, doc]) => celViolations(doc)).map((line) => line.slice(line.indexOf(': ') + 2)));
    for (const site of allSites) for (const { message } of site.rules) expect(broken.has(message), message).toBe(true);
  });

  it('pass on every example', () => {
    for (const file of readdirSync(`${repoRoot}examples`).filter((name) => name.endsWith('.yaml'))) {
      for (const document of parseAllDocuments(readFileSync(`${repoRoot}examples/${file}`, 'utf8'))) {
        expect(celViolations(document.toJS() as Doc), file).toEqual([]);
      }
    }
  });
});
