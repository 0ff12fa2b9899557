import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runKurier } from '../support/run-kurier.js';

const trigger = (name: string, deployment = ''): string => `apiVersion: kurier.dev/v1alpha1
kind: NATSTrigger
metadata: { name: ${name}, namespace: team }
spec:
  nats: { url: "nats://nats:4222", subject: orders.created }
  function: { url: "http://fn.team:8080/" }
${deployment}`;

describe('kurier render', () => {
  it('prints one Deployment per trigger of a multi-document input read from stdin', async () => {
    const result = await runKurier(['render', '-f', '-'], { input: `${trigger('a')}---\n${trigger('b')}` });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const names = parseAllDocuments(result.stdout).map((doc) => (doc.toJS() as { metadata: { name: string } }).metadata.name);
    expect(names).toEqual(['a-nats', 'b-nats']);
  });

  it('prints a fan-out trigger\'s targets ConfigMap after its Deployment, empty and saying why', async () => {
    const fanOut = trigger('fan').replace('function: { url: "http://fn.team:8080/" }', 'functionSelector: { matchLabels: { kurier.dev/function: orders } }');
    const result = await runKurier(['render', '-f', '-'], { input: fanOut });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const docs = parseAllDocuments(result.stdout);
    expect(docs.map((doc) => (doc.toJS() as { kind: string }).kind)).toEqual(['Deployment', 'ConfigMap']);
    expect(docs[1]?.toJS()).toMatchObject({ metadata: { name: 'fan-nats-targets', namespace: 'team' }, data: { 'targets.json': '{"targets":[]}' } });
    expect(result.stdout.split('---\n')[1]).toMatch(/^# The targets of spec.functionSelector. Offline there are no Services to match/);
  });

  it('prints every object the controller writes for an autoscaled trigger: the Deployment without replicas, the ScaledObject and the TriggerAuthentication', async () => {
    const input = `apiVersion: kurier.dev/v1alpha1
kind: RabbitMQTrigger
metadata: { name: jobs, namespace: team }
spec:
  rabbitmq: { queue: jobs, urlSecretRef: { name: rabbit, key: url } }
  function: { url: "http://fn.team:8080/" }
  autoscaling: { minReplicas: 0, maxReplicas: 5, value: 50 }
---
${trigger('plain')}`;
    const result = await runKurier(['render', '-f', '-'], { input, timeoutMs: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const docs = parseAllDocuments(result.stdout).map((doc) => doc.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> });
    expect(docs.map((doc) => `${doc.kind}/${doc.metadata.name}`)).toEqual([
      'Deployment/jobs-rabbitmq',
      'ScaledObject/jobs-rabbitmq',
      'TriggerAuthentication/jobs-rabbitmq',
      'Deployment/plain-nats',
    ]);
    expect(docs[0]!.spec).not.toHaveProperty('replicas');
    new ScaledObject(docs[1] as never).validate();
    new TriggerAuthentication(docs[2]).validate();
    expect(docs[1]!.spec).toMatchObject({ scaleTargetRef: { name: 'jobs-rabbitmq' }, maxReplicaCount: 5, triggers: [{ type: 'rabbitmq', authenticationRef: { name: 'jobs-rabbitmq' }, metadata: { queueName: 'jobs', value: '50' } }] });
    expect(docs[2]!.spec).toEqual({ secretTargetRef: [{ parameter: 'host', name: 'rabbit', key: 'url' }] });
  }, 150_000);

  it('renders every example file in a directory', async () => {
    const result = await runKurier(['render', '-f', 'examples/', '--allow-cross-namespace']);
    // Only the warnings validate prints too: render and validate judge alike.
    expect(result.stderr.trim().split('\n')).toEqual([
      'examples/kubeless-pulsar-trigger-minimal.yaml:0 PulsarTrigger/mytrigger-minimal: spec.pulsar.auth-token: warning: an inline token is readable by anyone who can read the trigger: put it in a Secret and use authTokenSecretRef',
      'examples/kubeless-pulsar-trigger-pre-1.0.yaml:0 PulsarTrigger/mytrigger-pre-1-0: spec.pulsar.auth-token: warning: an inline token is readable by anyone who can read the trigger: put it in a Secret and use authTokenSecretRef',
      'examples/kubeless-pulsar-trigger.yaml:0 PulsarTrigger/mytrigger: spec.pulsar.auth-token: warning: an inline token is readable by anyone who can read the trigger: put it in a Secret and use authTokenSecretRef',
    ]);
    expect(result.code).toBe(0);
    expect(parseAllDocuments(result.stdout).length).toBeGreaterThanOrEqual(8);
  });

  it('exits 1 and names the refused field of an override, one line each', async () => {
    const override = '  deployment: { spec: { template: { spec: { hostNetwork: true, serviceAccountName: root } } } }\n';
    const result = await runKurier(['render', '-f', '-'], { input: trigger('bad', override) });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([
      '-:0 NATSTrigger/bad: spec.deployment.spec.template.spec.hostNetwork: host namespaces are not allowed (policy allowHostNamespaces)',
      '-:0 NATSTrigger/bad: spec.deployment.spec.template.spec.serviceAccountName: the service account cannot be changed (policy allowServiceAccount)',
    ]);
  });

  it('refuses the kubeless-pulsar-trigger README manifest without --allow-cross-namespace, naming the field', async () => {
    const result = await runKurier(['render', '-f', 'examples/kubeless-pulsar-trigger.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('spec.deployment.metadata.namespace');
  });

  it('exits 2 on a usage error', async () => {
    expect((await runKurier(['render'])).code).toBe(2);
    expect((await runKurier(['render', '-f', 'x', '--frobnicate'])).code).toBe(2);
  });
});
