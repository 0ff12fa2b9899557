import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Deployment as DeploymentModel } from 'kubernetes-models/apps/v1';
import { parseAllDocuments, stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { deploymentName, labelValue } from '../../render/names.js';
import { render, RenderError, SPEC_HASH_ANNOTATION, type Deployment } from '../../render/render.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import type { JsonObject, Trigger } from '../../render/trigger.js';
import { repoRoot } from '../support/run-kurier.js';

const examplesDir = join(repoRoot, 'examples');
const goldenDir = join(repoRoot, 'test/render/golden');
const updateGolden = process.env['UPDATE_GOLDEN'] === '1';

let templates: Templates;
beforeAll(async () => {
  templates = await loadTemplates(join(repoRoot, 'templates'));
});

function kafka(overrides: Partial<Trigger['spec']> = {}, metadata: Partial<Trigger['metadata']> = {}): Trigger {
  return {
    apiVersion: 'kurier.dev/v1alpha1',
    kind: 'KafkaTrigger',
    metadata: { name: 'orders', namespace: 'shop', uid: 'uid-1', ...metadata },
    spec: { kafka: { brokers: ['kafka:9092'], topic: 'orders' }, function: { url: 'http://fn.shop:8080/' }, ...overrides },
  };
}

const podSpec = (deployment: Deployment): JsonObject => ((deployment.spec['template'] as JsonObject)['spec'] as JsonObject);
const containers = (deployment: Deployment): JsonObject[] => podSpec(deployment)['containers'] as JsonObject[];
const dispatcher = (deployment: Deployment): JsonObject => containers(deployment).find((c) => c['name'] === 'dispatcher')!;
const envOf = (deployment: Deployment): Record<string, unknown> =>
  Object.fromEntries((dispatcher(deployment)['env'] as JsonObject[]).map((e) => [e['name'], e['value'] ?? e['valueFrom']]));

function expectValidDeployment(deployment: Deployment): void {
  expect(() => { new DeploymentModel(deployment as never).validate(); }).not.toThrow();
}

describe('render', () => {
  it('renders a safe default Deployment in the trigger namespace, owned by the trigger', () => {
    const deployment = render(kafka(), templates);
    expectValidDeployment(deployment);
    expect(deployment.metadata.name).toBe('orders-kafka');
    expect(deployment.metadata.namespace).toBe('shop');
    expect(deployment.metadata['ownerReferences']).toEqual([
      { apiVersion: 'kurier.dev/v1alpha1', kind: 'KafkaTrigger', name: 'orders', uid: 'uid-1', controller: true, blockOwnerDeletion: true },
    ]);
    const pod = podSpec(deployment);
    expect(pod['automountServiceAccountToken']).toBe(false);
    expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(dispatcher(deployment)['securityContext']).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(dispatcher(deployment)['args']).toEqual(['dispatch', 'kafka']);
  });

  it('gives each trigger its own selector, matched by the pod labels', () => {
    const a = render(kafka(), templates);
    const b = render(kafka({}, { name: 'payments' }), templates);
    const selectorA = (a.spec['selector'] as JsonObject)['matchLabels'];
    expect(selectorA).not.toEqual((b.spec['selector'] as JsonObject)['matchLabels']);
    expect(((a.spec['template'] as JsonObject)['metadata'] as JsonObject)['labels']).toMatchObject(selectorA as JsonObject);
  });

  it('keeps its own selector when an override tries to set one', () => {
    const deployment = render(kafka({ deployment: { spec: { selector: { matchLabels: { app: 'other' } } } } }), templates);
    expectValidDeployment(deployment);
    expect(deployment.spec['selector']).toEqual({
      matchLabels: { 'kurier.dev/trigger': 'orders', 'kurier.dev/kind': 'kafkatrigger', 'kurier.dev/trigger-namespace': 'shop' },
    });
  });

  it('sets the env contract: trigger identity, function URL, source fields, delivery, metrics port', () => {
    const env = envOf(render(kafka({ delivery: { ordering: 'key', maxInFlight: 8, retry: { maxDelay: '30s' } } }), templates));
    expect(env).toMatchObject({
      TRIGGER_KIND: 'KafkaTrigger',
      TRIGGER_NAME: 'orders',
      TRIGGER_NAMESPACE: 'shop',
      TRIGGER_UID: 'uid-1',
      FUNCTION_URL: 'http://fn.shop:8080/',
      KAFKA_BROKERS: 'kafka:9092',
      KAFKA_TOPIC: 'orders',
      KAFKA_GROUP_ID: 'shop.orders',
      DELIVERY_ORDERING: 'key',
      DELIVERY_MAX_IN_FLIGHT: '8',
      DELIVERY_RETRY_MAX_DELAY: '30s',
      METRICS_PORT: '9090',
    });
  });

  it('resolves a function service reference to its cluster URL', () => {
    const env = envOf(render(kafka({ function: { service: { name: 'orders-fn', port: 8080, path: 'in' } } }), templates));
    expect(env['FUNCTION_URL']).toBe('http://orders-fn.shop.svc.cluster.local:8080/in');
  });

  it('refuses a trigger without a function, naming spec.function', () => {
    expect(() => render(kafka({ function: undefined }), templates)).toThrow(expect.objectContaining({ path: 'spec.function' }));
  });

  it('refuses a trigger without its source block', () => {
    const trigger = kafka();
    delete trigger.spec['kafka'];
    expect(() => render(trigger, templates)).toThrow(expect.objectContaining({ path: 'spec.kafka' }));
  });

  it('refuses an unknown kind, listing the known ones', () => {
    expect(() => render({ ...kafka(), kind: 'SqsTrigger' }, templates)).toThrow(/unknown trigger kind "SqsTrigger".*KafkaTrigger/);
  });

  it('keeps override env and sidecars, and the controller-owned variables win', () => {
    const deployment = render(
      kafka({
        deployment: {
          spec: {
            template: {
              spec: {
                containers: [
                  { env: [{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'FUNCTION_URL', value: 'http://evil/' }] },
                  { name: 'proxy', image: 'envoy:1' },
                ],
              },
            },
          },
        },
      }),
      templates,
    );
    expectValidDeployment(deployment);
    expect(envOf(deployment)).toMatchObject({ LOG_LEVEL: 'debug', FUNCTION_URL: 'http://fn.shop:8080/' });
    expect(containers(deployment).map((c) => c['name'])).toEqual(['dispatcher', 'proxy']);
  });

  it('leaves replicas to Kubernetes (or an autoscaler) unless the trigger sets them', () => {
    expect(render(kafka(), templates).spec['replicas']).toBeUndefined();
    expect(render(kafka({ replicas: 3 }), templates).spec['replicas']).toBe(3);
  });

  it('forces a CronTrigger to one replica replaced with Recreate', () => {
    const deployment = render(
      {
        apiVersion: 'kurier.dev/v1alpha1',
        kind: 'CronTrigger',
        metadata: { name: 'tick', namespace: 'ops' },
        spec: { cron: { schedule: '*/5 * * * *' }, function: { url: 'http://fn/' }, replicas: 3 },
      },
      templates,
    );
    expectValidDeployment(deployment);
    expect(deployment.spec['replicas']).toBe(1);
    expect(deployment.spec['strategy']).toEqual({ type: 'Recreate' });
  });

  it('changes the spec hash when the trigger changes and only then', () => {
    const hash = (t: Trigger): unknown => (render(t, templates).metadata['annotations'] as JsonObject)[SPEC_HASH_ANNOTATION];
    expect(hash(kafka())).toBe(hash(kafka()));
    expect(hash(kafka())).not.toBe(hash(kafka({ kafka: { brokers: ['kafka:9092'], topic: 'returns' } })));
    const reordered = kafka({ kafka: { topic: 'orders', brokers: ['kafka:9092'] } });
    expect(hash(reordered)).toBe(hash(kafka()));
  });

  it('does not depend on anything but its inputs', () => {
    const trigger = kafka({ deployment: { spec: { template: { spec: { containers: [{ env: [{ name: 'A', value: '1' }] }] } } } } });
    const before = structuredClone(trigger);
    expect(render(trigger, templates)).toEqual(render(trigger, templates));
    expect(trigger).toEqual(before);
  });
});

describe('override policy', () => {
  const refused: [string, JsonObject, string][] = [
    ['another namespace', { metadata: { namespace: 'kube-system' } }, 'spec.deployment.metadata.namespace'],
    ['a service account', { spec: { template: { spec: { serviceAccountName: 'admin' } } } }, 'spec.deployment.spec.template.spec.serviceAccountName'],
    ['a mounted token', { spec: { template: { spec: { automountServiceAccountToken: true } } } }, 'spec.deployment.spec.template.spec.automountServiceAccountToken'],
    ['the host network', { spec: { template: { spec: { hostNetwork: true } } } }, 'spec.deployment.spec.template.spec.hostNetwork'],
    ['the host PID namespace', { spec: { template: { spec: { hostPID: true } } } }, 'spec.deployment.spec.template.spec.hostPID'],
    [
      'a privileged sidecar',
      { spec: { template: { spec: { containers: [{ name: 'x', image: 'x', securityContext: { privileged: true } }] } } } },
      'spec.deployment.spec.template.spec.containers[name=x].securityContext.privileged',
    ],
    [
      'added capabilities',
      { spec: { template: { spec: { containers: [{ securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] } } } },
      'spec.deployment.spec.template.spec.containers[name=dispatcher].securityContext.capabilities.add[0]',
    ],
    ['running as root', { spec: { template: { spec: { securityContext: { runAsUser: 0 } } } } }, 'spec.deployment.spec.template.spec.securityContext.runAsUser'],
    [
      'a hostPath volume',
      { spec: { template: { spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }] } } } },
      'spec.deployment.spec.template.spec.volumes[name=root].hostPath',
    ],
    [
      'a host port',
      { spec: { template: { spec: { containers: [{ ports: [{ containerPort: 80, hostPort: 80 }] }] } } } },
      'spec.deployment.spec.template.spec.containers[name=dispatcher].ports[containerPort=80].hostPort',
    ],
    [
      'privilege escalation in an init container',
      { spec: { template: { spec: { initContainers: [{ name: 'i', image: 'i', securityContext: { allowPrivilegeEscalation: true } }] } } } },
      'spec.deployment.spec.template.spec.initContainers[name=i].securityContext.allowPrivilegeEscalation',
    ],
  ];

  for (const [what, override, path] of refused) {
    it(`refuses ${what}, naming ${path}`, () => {
      let error: unknown;
      try {
        render(kafka({ deployment: override }), templates);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(RenderError);
      expect((error as RenderError).path).toBe(path);
      expect((error as RenderError).message).toContain(path);
    });
  }

  it('reports every refused field at once', () => {
    const override = { metadata: { namespace: 'x' }, spec: { template: { spec: { hostIPC: true } } } };
    expect(() => render(kafka({ deployment: override }), templates)).toThrow(
      expect.objectContaining({ problems: [expect.objectContaining({ path: 'spec.deployment.metadata.namespace' }), expect.objectContaining({ path: 'spec.deployment.spec.template.spec.hostIPC' })] }),
    );
  });

  it('allows resources, image, env, scheduling, labels, sidecars and volumes', () => {
    const override: JsonObject = {
      metadata: { labels: { team: 'a' } },
      spec: {
        template: {
          metadata: { annotations: { note: 'x' } },
          spec: {
            nodeSelector: { pool: 'dispatchers' },
            tolerations: [{ key: 'dedicated', operator: 'Exists' }],
            containers: [
              { image: 'registry.local/dispatcher:dev', resources: { limits: { cpu: '2' } }, env: [{ name: 'A', value: '1' }] },
              { name: 'sidecar', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
            ],
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    };
    const deployment = render(kafka({ deployment: override }), templates);
    expectValidDeployment(deployment);
    expect(dispatcher(deployment)['image']).toBe('registry.local/dispatcher:dev');
    expect(deployment.metadata['labels']).toMatchObject({ team: 'a' });
  });

  it('moves the Deployment to another namespace only when allowed, without an owner reference', () => {
    const trigger = kafka({ deployment: { metadata: { namespace: 'dispatchers' } } });
    const deployment = render(trigger, templates, { allowCrossNamespace: true });
    expect(deployment.metadata.namespace).toBe('dispatchers');
    expect(deployment.metadata['ownerReferences']).toBeUndefined();
    expect(deployment.metadata.name).toBe('shop-orders-kafka');
    expect(envOf(deployment)['TRIGGER_NAMESPACE']).toBe('shop');
  });

  it('honours an admin policy from templates/policy.yaml', () => {
    const relaxed: Templates = { ...templates, policy: { ...templates.policy, allowHostNamespaces: true } };
    expect(podSpec(render(kafka({ deployment: { spec: { template: { spec: { hostNetwork: true } } } } }), relaxed, {}))['hostNetwork']).toBe(true);
  });
});

describe('names', () => {
  it('names the Deployment <trigger>-<source>', () => {
    expect(deploymentName('orders', 'kafka')).toBe('orders-kafka');
  });

  it('keeps names valid DNS labels and unique when they must be shortened or changed', () => {
    const long = 'a'.repeat(80);
    const names = [deploymentName(long, 'kafka'), deploymentName(`${long}b`, 'kafka'), deploymentName('a.b', 'nats'), deploymentName('a-b', 'nats')];
    for (const name of names) expect(name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it('differs between kinds for the same trigger name', () => {
    expect(deploymentName('orders', 'kafka')).not.toBe(deploymentName('orders', 'nats'));
  });

  it('shortens long label values with a hash', () => {
    expect(labelValue('x'.repeat(100))).toHaveLength(63);
    expect(labelValue('x'.repeat(100))).not.toBe(labelValue(`${'x'.repeat(99)}y`));
  });
});

describe('kubeless-pulsar-trigger compatibility', () => {
  const legacy = (deployment?: JsonObject): Trigger => ({
    apiVersion: 'kurier.dev/v1alpha1',
    kind: 'PulsarTrigger',
    metadata: { name: 'mytrigger', namespace: 'default' },
    spec: {
      pulsar: { topic: 'persistent://public/default/mytopic', broker: 'pulsar://pulsar.addr:6650', 'auth-token': 'nnn' },
      kubeless: { function: 'http://myfunction.default:8080' },
      ...(deployment === undefined ? {} : { deployment }),
    },
  });

  it('renders a manifest without spec.deployment (which crashed the original)', () => {
    const deployment = render(legacy(), templates);
    expectValidDeployment(deployment);
    expect(envOf(deployment)).toMatchObject({
      PULSAR_TOPIC: 'persistent://public/default/mytopic',
      PULSAR_BROKER: 'pulsar://pulsar.addr:6650',
      PULSAR_AUTH_TOKEN: 'nnn',
      PULSAR_SUBSCRIPTION: 'mytrigger-default',
      KUBELESS_FUNCTION: 'http://myfunction.default:8080',
      FUNCTION_URL: 'http://myfunction.default:8080',
      TZ: 'UTC',
      TIMEZONE: 'UTC',
    });
  });

  it('expands a short topic to the full persistent:// URL', () => {
    const trigger = legacy();
    (trigger.spec['pulsar'] as JsonObject)['topic'] = 'mytopic';
    expect(envOf(render(trigger, templates))['PULSAR_TOPIC']).toBe('persistent://public/default/mytopic');
  });

  it('merges override env instead of wiping it, keeps sidecars, and lets the override set TZ', () => {
    const deployment = render(
      legacy({
        spec: {
          template: {
            spec: {
              containers: [{ env: [{ name: 'TZ', value: 'Europe/Berlin' }, { name: 'EXTRA', value: '1' }] }, { name: 'sidecar', image: 'busybox' }],
            },
          },
        },
      }),
      templates,
    );
    expect(envOf(deployment)).toMatchObject({ TZ: 'Europe/Berlin', EXTRA: '1', PULSAR_TOPIC: 'persistent://public/default/mytopic' });
    expect(containers(deployment)).toHaveLength(2);
  });
});

describe('examples', () => {
  it('renders every example to a valid Deployment matching its golden file', async () => {
    const files = (await readdir(examplesDir)).filter((file) => file.endsWith('.yaml')).sort();
    expect(files.length).toBeGreaterThanOrEqual(7);
    await mkdir(goldenDir, { recursive: true });
    for (const file of files) {
      const triggers = parseAllDocuments(await readFile(join(examplesDir, file), 'utf8')).map((doc) => doc.toJS() as Trigger);
      // The kubeless-pulsar-trigger README manifest moves its Deployment to another namespace.
      const options = { allowCrossNamespace: file === 'kubeless-pulsar-trigger.yaml' };
      const rendered = triggers.map((trigger) => render(trigger, templates, options));
      rendered.forEach(expectValidDeployment);
      const text = rendered.map((deployment) => stringify(deployment, { lineWidth: 0 })).join('---\n');
      const golden = join(goldenDir, file);
      if (updateGolden) await writeFile(golden, text);
      expect(text, `${file} differs from ${golden}; rerun with UPDATE_GOLDEN=1 if the change is intended`).toBe(await readFile(golden, 'utf8'));
    }
  });
});

describe('identity defaults', () => {
  const nats = (block: JsonObject): Trigger => ({
    apiVersion: 'kurier.dev/v1alpha1',
    kind: 'NATSTrigger',
    metadata: { name: 'audit', namespace: 'ops' },
    spec: { nats: { url: 'nats://nats:4222', subject: 'audit.>', ...block }, function: { url: 'http://fn/' } },
  });

  it('renders the default queue group of a core NATS trigger', () => {
    expect(envOf(render(nats({}), templates))['NATS_QUEUE_GROUP']).toBe('ops.audit');
  });

  it('renders no queue group for a JetStream trigger', () => {
    expect(envOf(render(nats({ jetstream: { stream: 'AUDIT' } }), templates))).not.toHaveProperty('NATS_QUEUE_GROUP');
  });
});
