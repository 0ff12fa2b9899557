/**
 * `kurier render`, `kurier validate` and the controller judge a trigger the same way (issue 11 "One
 * verdict"): every trap below is refused by all three with the same field paths and messages, and
 * what one accepts the others accept.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSchemas, type TriggerSchemas } from '../../render/schema.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import type { Trigger } from '../../render/trigger.js';
import { verdictForController } from '../../render/verdict.js';
import { repoRoot, runKurier } from '../support/run-kurier.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- trigger fixtures built field by field
type Doc = Record<string, any>;
const nats = (name: string, spec: Doc = {}, natsBlock: Doc = {}): Doc => ({
  apiVersion: 'kurier.dev/v1alpha1', kind: 'NATSTrigger', metadata: { name, namespace: 'team' },
  spec: { nats: { url: 'nats://nats:4222', subject: 'orders', ...natsBlock }, function: { url: 'http://fn.team:8080/' }, ...spec },
});
const kafka = (name: string, kafkaBlock: Doc): Doc => ({
  apiVersion: 'kurier.dev/v1alpha1', kind: 'KafkaTrigger', metadata: { name, namespace: 'team' },
  spec: { kafka: kafkaBlock, function: { url: 'http://fn.team:8080/' } },
});
const overrideOf = (podSpec: Doc): Doc => ({ deployment: { spec: { template: { spec: podSpec } } } });
const POD = 'spec.deployment.spec.template.spec';

/** [trap, trigger, a field path every judge must name]. */
const traps: [string, Doc, string][] = [
  ['a misspelt source field (NATS_SUBJCT)', nats('typo', {}, { subjct: 'orders' }), 'spec.nats.subjct'],
  ['maxInFlight: -5', nats('inflight', { delivery: { maxInFlight: -5 } }), 'spec.delivery.maxInFlight'],
  ['timeout: "5 minutes"', nats('timeout', { delivery: { timeout: '5 minutes' } }), 'spec.delivery.timeout'],
  ['a Kafka trigger without brokers', kafka('nobrokers', { topic: 'orders' }), 'spec.kafka.brokers'],
  ['an invalid cron schedule', { apiVersion: 'kurier.dev/v1alpha1', kind: 'CronTrigger', metadata: { name: 'cron', namespace: 'team' }, spec: { cron: { schedule: '61 * * * *' }, function: { url: 'http://fn.team:8080/' } } }, 'spec.cron.schedule'],
  ['a bad retry value', nats('retry', { delivery: { retry: { when: ['sometimes'] } } }), 'spec.delivery.retry.when[0]'],
  ['an inline NATS password', nats('password', {}, { username: 'u', password: 'hunter2' }), 'spec.nats.password'],
  ['an inline NATS token', nats('token', {}, { token: 's3cr3t' }), 'spec.nats.token'],
  ['an inline SASL password', kafka('sasl', { brokers: ['k:9092'], topic: 't', sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } }), 'spec.kafka.sasl.password'],
  ['NATS_PASSWORD inlined through the override env', nats('envpassword', { deployment: { spec: { template: { spec: { containers: [{ name: 'dispatcher', env: [{ name: 'NATS_PASSWORD', value: 'hunter2' }] }] } } } } }), `${POD}.containers[0].env[0].value`],
  ['privileged: true', nats('privileged', overrideOf({ containers: [{ name: 'dispatcher', securityContext: { privileged: true } }] })), `${POD}.containers[name=dispatcher].securityContext.privileged`],
  ['hostPID', nats('hostpid', overrideOf({ hostPID: true })), `${POD}.hostPID`],
  ['a hostPort', nats('hostport', overrideOf({ containers: [{ name: 'dispatcher', ports: [{ containerPort: 8080, hostPort: 8080 }] }] })), `${POD}.containers[name=dispatcher].ports[containerPort=8080].hostPort`],
  ['an added capability', nats('caps', overrideOf({ containers: [{ name: 'dispatcher', securityContext: { capabilities: { add: ['SYS_ADMIN'], drop: ['ALL'] } } }] })), `${POD}.containers[name=dispatcher].securityContext.capabilities.add[0]`],
  ['a mounted token', nats('token-mount', overrideOf({ automountServiceAccountToken: true })), `${POD}.automountServiceAccountToken`],
  ['another namespace without --allow-cross-namespace', nats('elsewhere', { deployment: { metadata: { namespace: 'other' } } }), 'spec.deployment.metadata.namespace'],
  ['spec.autoscaling on a PulsarTrigger without the admin URL KEDA reads the backlog from', { apiVersion: 'kurier.dev/v1alpha1', kind: 'PulsarTrigger', metadata: { name: 'scaled', namespace: 'team' }, spec: { pulsar: { broker: 'pulsar://p:6650', topic: 't' }, function: { url: 'http://fn.team:8080/' }, autoscaling: { maxReplicas: 3 } } }, 'spec.autoscaling.adminURL'],
  ['replicas in the override beside spec.autoscaling', nats('fixed', { autoscaling: { monitoringEndpoint: 'nats:8222' }, deployment: { spec: { replicas: 3 } } }, { jetstream: { stream: 'S' } }), 'spec.deployment.spec.replicas'],
  ['a type-confused override (runAsUser: "0")', nats('typed', overrideOf({ securityContext: { runAsUser: '0' } })), `${POD}.securityContext.runAsUser`],
];
const accepted: Doc[] = [
  nats('fine'),
  nats('autoscaled', { autoscaling: { maxReplicas: 3, monitoringEndpoint: 'nats:8222' } }, { jetstream: { stream: 'S' } }),
  { apiVersion: 'kurier.dev/v1alpha1', kind: 'PulsarTrigger', metadata: { name: 'legacy', namespace: 'team' }, spec: { pulsar: { broker: 'pulsar://p:6650', topic: 't', 'auth-token': 'nnn' }, kubeless: { function: 'http://fn.team:8080' } } },
];

const documents = [...traps.map(([, doc]) => doc), ...accepted];
const label = (doc: Doc, index: number): string => `-:${index} ${String(doc.kind)}/${String(doc.metadata.name)}`;
const lines = (stderr: string): string[] => stderr.split('\n').filter((line) => line !== '').sort();

let templates: Templates;
let schemas: TriggerSchemas;
let input: string;
beforeAll(async () => {
  templates = await loadTemplates(join(repoRoot, 'templates'));
  schemas = loadSchemas(join(repoRoot, 'crd.yaml'));
  input = documents.map((doc) => stringify(doc)).join('---\n');
});

describe('one verdict for kurier render, kurier validate and the controller', () => {
  it('refuses every trap with the same lines from render, validate and the controller, and accepts the rest alike', async () => {
    const [validate, render] = await Promise.all([runKurier(['validate', '-f', '-'], { input, timeoutMs: 120_000 }), runKurier(['render', '-f', '-'], { input, timeoutMs: 120_000 })]);
    expect(validate.code).toBe(1);
    expect(render.code).toBe(1);
    expect(validate.stdout).toBe(`${accepted.length} of ${documents.length} triggers valid, 1 warning\n`);
    expect(lines(render.stderr)).toEqual(lines(validate.stderr));

    const controller = verdictForController({ templates, schemas });
    const controllerLines = documents.flatMap((doc, index) =>
      controller.validate(doc as Trigger).map((p) => `${label(doc, index)}: ${p.path}:${p.severity === 'warning' ? ' warning:' : ''} ${p.message}`),
    );
    expect(controllerLines.sort()).toEqual(lines(validate.stderr));

    traps.forEach(([, doc, path], index) => {
      expect(lines(validate.stderr).some((line) => line.startsWith(`${label(doc, index)}: ${path}: `)), `${label(doc, index)} names ${path}`).toBe(true);
      expect(() => controller.render(doc as Trigger)).toThrow(path);
    });
    accepted.forEach((doc) => { expect(controller.render(doc as Trigger).kind).toBe('Deployment'); });
    // one Deployment per accepted trigger, and the autoscaled one's ScaledObject
    expect(render.stdout.split('\n---\n')).toHaveLength(accepted.length + 1);
  }, 300_000);

  it('lifts the namespace rule with --allow-cross-namespace in render and validate alike, and reads --policy FILE', async () => {
    const doc = stringify(nats('elsewhere', { deployment: { metadata: { namespace: 'other' }, spec: { template: { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'c' } }] } } } } }));
    const policy = join(mkdtempSync(join(tmpdir(), 'kurier-policy-')), 'policy.yaml');
    writeFileSync(policy, 'allowedVolumeTypes: [persistentVolumeClaim]\n');
    const runs = await Promise.all([
      runKurier(['validate', '-f', '-', '--allow-cross-namespace', '--policy', policy], { input: doc, timeoutMs: 120_000 }),
      runKurier(['render', '-f', '-', '--allow-cross-namespace', '--policy', policy], { input: doc, timeoutMs: 120_000 }),
      runKurier(['validate', '-f', '-', '--allow-cross-namespace'], { input: doc, timeoutMs: 120_000 }),
      runKurier(['render', '-f', '-', '--allow-cross-namespace'], { input: doc, timeoutMs: 120_000 }),
    ]);
    expect(runs.map((run) => run.code)).toEqual([0, 0, 1, 1]);
    expect(runs[1].stdout).toContain('namespace: other');
    expect(runs[2].stderr).toContain(`${POD}.volumes[name=d].persistentVolumeClaim: persistentVolumeClaim volumes are not allowed`);
    expect(runs[3].stderr).toBe(runs[2].stderr);
  }, 300_000);

  it('exits 2 naming the file when --policy cannot be used, in render and validate alike', async () => {
    const policy = join(mkdtempSync(join(tmpdir(), 'kurier-policy-')), 'policy.yaml');
    writeFileSync(policy, 'allowPriviledged: true\n');
    for (const command of ['validate', 'render']) {
      const result = await runKurier([command, '-f', 'examples/nats.yaml', '--policy', policy], { timeoutMs: 120_000 });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`kurier ${command}: ${policy}: unknown policy setting "allowPriviledged" (known: allowCrossNamespace, allowServiceAccount, allowHostNamespaces, allowPrivileged, allowHostPath, allowWritableRootFilesystem, allowNodePlacement, allowProbeHosts, allowedVolumeTypes, allowedPriorityClasses, allowedRuntimeClasses, allowedPodLabels, maxOverrideBytes)\n`);
    }
  }, 300_000);

  it('reports a YAML alias bomb as one clear line, not a stack trace, in render and validate', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) levels.push(`b${i}: &b${i} [${Array(9).fill(i === 1 ? '*a' : `*b${i - 1}`).join(', ')}]`);
    const file = join(mkdtempSync(join(tmpdir(), 'kurier-bomb-')), 'bomb.yaml');
    writeFileSync(file, `${levels.join('\n')}\n`);
    for (const command of ['validate', 'render']) {
      const result = await runKurier([command, '-f', file], { timeoutMs: 120_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`${file}:1:1: not valid YAML: cannot be read: Excessive alias count indicates a resource exhaustion attack\n`);
    }
  }, 300_000);
});
