import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runKurier } from '../support/run-kurier.js';

const examples = readdirSync(`${repoRoot}examples`).filter((file) => file.endsWith('.yaml')).sort();

const VALID = `apiVersion: kurier.dev/v1alpha1
kind: NATSTrigger
metadata: { name: audit, namespace: ops }
spec:
  nats: { url: "nats://127.0.0.1:4222", subject: audit.> }
  function: { url: "http://audit.ops:8080/" }
`;

const INVALID = `apiVersion: kurier.dev/v1alpha1
kind: KafkaTrigger
metadata: { name: orders }
spec:
  kafka: { brokers: ["kafka:9092"], topc: orders }
  function: { url: "http://orders:8080/", service: { name: orders } }
  delivery: { timeout: 30 }
`;

function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kurier-validate-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe('kurier validate', () => {
  it('finds the examples: one per kind, the override and the kubeless-pulsar-trigger manifests of both generations', () => {
    expect(examples).toEqual([
      'cron.yaml', 'kafka.yaml', 'kubeless-pulsar-trigger-minimal.yaml', 'kubeless-pulsar-trigger-pre-1.0.yaml', 'kubeless-pulsar-trigger.yaml',
      'nats.yaml', 'override.yaml', 'pulsar.yaml', 'rabbitmq.yaml',
    ]);
  });

  it('accepts every example in one run with --allow-cross-namespace, printing only the inline auth-token warnings', async () => {
    const result = await runKurier(['validate', '-f', 'examples', '--allow-cross-namespace']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${examples.length} of ${examples.length} triggers valid, 3 warnings\n`);
    expect(result.stderr.trim().split('\n')).toEqual([
      'examples/kubeless-pulsar-trigger-minimal.yaml:0 PulsarTrigger/mytrigger-minimal: spec.pulsar.auth-token: warning: an inline token is readable by anyone who can read the trigger: put it in a Secret and use authTokenSecretRef',
      'examples/kubeless-pulsar-trigger-pre-1.0.yaml:0 PulsarTrigger/mytrigger-pre-1-0: spec.pulsar.auth-token: warning: an inline token is readable by anyone who can read the trigger: put it in a Secret and use authTokenSecretRef',
      'examples/kubeless-pulsar-trigger.yaml:0 PulsarTrigger/mytrigger: spec.pulsar.auth-token: warning: an inline token is readable by anyone who can read the trigger: put it in a Secret and use authTokenSecretRef',
    ]);
  });

  it('refuses the kubeless-pulsar-trigger README manifest without --allow-cross-namespace, as render and the controller do', async () => {
    const result = await runKurier(['validate', '-f', 'examples/kubeless-pulsar-trigger.yaml']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('0 of 1 trigger valid, 1 warning\n');
    expect(result.stderr).toContain(
      'examples/kubeless-pulsar-trigger.yaml:0 PulsarTrigger/mytrigger: spec.deployment.metadata.namespace: the Deployment must stay in the trigger\'s namespace "default"',
    );
  });

  it('prints every problem on its own line as FILE:INDEX KIND/NAME: path: message and exits 1', async () => {
    const dir = scratch({ 'bad.yaml': `${VALID}---\n${INVALID}` });
    const file = join(dir, 'bad.yaml');
    const result = await runKurier(['validate', '-f', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('1 of 2 triggers valid\n');
    expect(result.stderr.trim().split('\n')).toEqual([
      `${file}:1 KafkaTrigger/orders: spec.delivery.timeout: 30 is not a duration: give it a unit, like 30s or 30ms`,
      `${file}:1 KafkaTrigger/orders: spec.function: set exactly one of url or service (both are set)`,
      `${file}:1 KafkaTrigger/orders: spec.kafka.topc: unknown field "topc"; did you mean "topic"?`,
      `${file}:1 KafkaTrigger/orders: spec.kafka.topic: required field is missing (or topics)`,
    ]);
  });

  it('reads standard input with -f -', async () => {
    const ok = await runKurier(['validate', '-f', '-'], { input: VALID });
    expect([ok.code, ok.stdout, ok.stderr]).toEqual([0, '1 of 1 trigger valid\n', '']);
    const bad = await runKurier(['validate', '-f', '-'], { input: INVALID });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('-:0 KafkaTrigger/orders: spec.kafka.topc: unknown field "topc"');
  });

  it('reads every *.yaml and *.yml file of a directory and nothing else', async () => {
    const dir = scratch({ 'a.yaml': VALID, 'b.yml': INVALID, 'c.txt': 'not: [yaml', 'README.md': '# x' });
    const result = await runKurier(['validate', '-f', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('1 of 2 triggers valid\n');
    expect(result.stderr).toContain(`${join(dir, 'b.yml')}:0 KafkaTrigger/orders: spec.kafka.topc`);
    expect(result.stderr).not.toContain('c.txt');
  });

  it('rejects a document that is not a trigger, naming its apiVersion and kind', async () => {
    const deployment = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec: {}\n';
    const result = await runKurier(['validate', '-f', '-'], { input: `${VALID}---\n${deployment}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^-:1 Deployment\/web: kind: not a Kurier trigger: apiVersion "apps\/v1", kind "Deployment"/);
  });

  it('reports YAML that does not parse on one line with its line and column, and exits 1', async () => {
    const result = await runKurier(['validate', '-f', '-'], { input: `${VALID}---\nspec: [unclosed\n` });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('-:9:1: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]\n');
    expect(result.stdout).toBe('1 of 2 triggers valid\n');
  });

  it.each([
    ['no -f', ['validate'], '-f FILE|DIR|- is required'],
    ['an unknown option', ['validate', '-f', 'examples', '--strict'], 'unknown option --strict'],
    ['-f without a value', ['validate', '-f'], '-f needs a value'],
    ['a missing file', ['validate', '-f', 'examples/nope.yaml'], 'examples/nope.yaml: no such file or directory'],
    ['a stray argument', ['validate', '-f', 'examples', 'extra'], 'unexpected argument extra'],
  ])('exits 2 with one line on %s', async (_case, args, message) => {
    const result = await runKurier(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^kurier validate: ${message.replace(/[|.-]/g, '\\$&')}( \\(run "kurier validate --help" for usage\\))?\n$`));
  });

  it('exits 2 on empty standard input', async () => {
    const result = await runKurier(['validate', '-f', '-'], { input: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('standard input: no YAML documents');
  });

  it('accepts several -f at once and checks each', async () => {
    const result = await runKurier(['validate', '-f', 'examples/kafka.yaml', '-f', 'examples/cron.yaml']);
    expect([result.code, result.stdout]).toEqual([0, '2 of 2 triggers valid\n']);
  });
});
