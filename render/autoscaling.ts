import { contentHash } from './hash.js';
import { DISPATCHER_CONTAINER } from './merge.js';
import { labelValue } from './names.js';
import { RenderError } from './render-error.js';
import { SPEC_HASH_ANNOTATION, stampSpecHash, type Deployment } from './render.js';
import type { Autoscaling, Trigger } from './trigger.js';

// KEDA's own defaults (keda.sh/docs/2.x/reference/scaledobject-spec), written out so the
// rendered object says what will happen.
export const KEDA_DEFAULTS = { minReplicas: 0, maxReplicas: 100, pollingInterval: 30, cooldownPeriod: 300 } as const;
const THRESHOLD_DEFAULTS = { kafka: 10, nats: 10, rabbitmq: 20, pulsar: 10 } as const;

interface SecretRef { name: string; key: string }
interface SecretTarget { parameter: string; name: string; key: string }
type Obj = Record<string, unknown>;

export interface KedaObjects {
  scaledObject: Obj;
  /** Present when the scaler needs credentials; built from the trigger's own Secret references. */
  triggerAuthentication?: Obj;
}

function block(trigger: Trigger, source: string): Obj {
  const value = trigger.spec[source];
  if (typeof value !== 'object' || value === null) throw RenderError.at(`spec.${source}`, 'is required');
  return value as Obj;
}

function secretRef(value: unknown): SecretRef | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, key } = value as Obj;
  return typeof name === 'string' && typeof key === 'string' ? { name, key } : undefined;
}

interface Scaler { type: string; metadata: Record<string, string>; secrets: SecretTarget[] }

function kafkaScaler(trigger: Trigger, autoscaling: Autoscaling, namespace: string): Scaler {
  const kafka = block(trigger, 'kafka');
  const topics = typeof kafka['topic'] === 'string' ? [kafka['topic']] : ((kafka['topics'] as string[] | undefined) ?? []);
  const metadata: Record<string, string> = {
    bootstrapServers: ((kafka['brokers'] as string[] | undefined) ?? []).join(','),
    consumerGroup: typeof kafka['groupId'] === 'string' ? kafka['groupId'] : `${namespace}.${trigger.metadata.name}`,
    lagThreshold: String(autoscaling.lagThreshold ?? THRESHOLD_DEFAULTS.kafka),
  };
  // KEDA's kafka scaler takes one topic; with several it measures the whole consumer group.
  const [onlyTopic, ...otherTopics] = topics;
  if (onlyTopic !== undefined && otherTopics.length === 0) metadata['topic'] = onlyTopic;
  const secrets: SecretTarget[] = [];
  const sasl = kafka['sasl'] as Obj | undefined;
  if (sasl !== undefined) {
    metadata['sasl'] = String(sasl['mechanism']);
    if (typeof sasl['username'] === 'string') metadata['username'] = sasl['username'];
    const username = secretRef(sasl['usernameSecretRef']);
    if (username !== undefined) secrets.push({ parameter: 'username', ...username });
    const password = secretRef(sasl['passwordSecretRef']);
    if (password !== undefined) secrets.push({ parameter: 'password', ...password });
  }
  return { type: 'kafka', metadata, secrets };
}

function rabbitmqScaler(trigger: Trigger, autoscaling: Autoscaling): Scaler {
  const rabbitmq = block(trigger, 'rabbitmq');
  const metadata: Record<string, string> = {
    protocol: 'amqp',
    queueName: String(rabbitmq['queue']),
    mode: 'QueueLength',
    value: String(autoscaling.value ?? THRESHOLD_DEFAULTS.rabbitmq),
  };
  const secrets: SecretTarget[] = [];
  const url = secretRef(rabbitmq['urlSecretRef']);
  if (url !== undefined) secrets.push({ parameter: 'host', ...url });
  else metadata['host'] = String(rabbitmq['url']);
  return { type: 'rabbitmq', metadata, secrets };
}

function natsScaler(trigger: Trigger, autoscaling: Autoscaling, namespace: string): Scaler {
  const jetstream = block(trigger, 'nats')['jetstream'] as Obj | undefined;
  if (jetstream === undefined) throw RenderError.at('spec.autoscaling', 'needs JetStream (spec.nats.jetstream): core NATS has no backlog KEDA can measure');
  if (autoscaling.monitoringEndpoint === undefined) throw RenderError.at('spec.autoscaling.monitoringEndpoint', 'is required on a NATSTrigger');
  return {
    type: 'nats-jetstream',
    metadata: {
      natsServerMonitoringEndpoint: autoscaling.monitoringEndpoint,
      account: '$G',
      stream: String(jetstream['stream']),
      consumer: typeof jetstream['consumer'] === 'string' ? jetstream['consumer'] : `${namespace}-${trigger.metadata.name}`,
      lagThreshold: String(autoscaling.lagThreshold ?? THRESHOLD_DEFAULTS.nats),
    },
    secrets: [],
  };
}

/**
 * The topic and subscription are the ones the dispatcher is given (its PULSAR_TOPIC and
 * PULSAR_SUBSCRIPTION), so every topic form and default, kubeless-pulsar-trigger's included,
 * measures the subscription the dispatcher consumes.
 */
function pulsarScaler(trigger: Trigger, autoscaling: Autoscaling, env: Readonly<Record<string, string>>): Scaler {
  const pulsar = block(trigger, 'pulsar');
  if (autoscaling.adminURL === undefined) throw RenderError.at('spec.autoscaling.adminURL', 'is required on a PulsarTrigger');
  if (pulsar['auth-token'] !== undefined) {
    throw RenderError.at('spec.pulsar.auth-token', 'an inline token cannot reach KEDA: put it in a Secret and use spec.pulsar.authTokenSecretRef to autoscale');
  }
  const topic = env['PULSAR_TOPIC'];
  const subscription = env['PULSAR_SUBSCRIPTION'];
  if (topic === undefined || subscription === undefined) throw RenderError.at('spec.pulsar', 'the dispatcher was given no PULSAR_TOPIC or PULSAR_SUBSCRIPTION');
  const metadata: Record<string, string> = {
    adminURL: autoscaling.adminURL,
    topic,
    subscription,
    msgBacklogThreshold: String(autoscaling.msgBacklogThreshold ?? THRESHOLD_DEFAULTS.pulsar),
  };
  if (autoscaling.isPartitionedTopic === true) metadata['isPartitionedTopic'] = 'true';
  const secrets: SecretTarget[] = [];
  const token = secretRef(pulsar['authTokenSecretRef']);
  if (token !== undefined) {
    metadata['authModes'] = 'bearer';
    secrets.push({ parameter: 'bearerToken', ...token });
  }
  return { type: 'pulsar', metadata, secrets };
}

function scalerFor(trigger: Trigger, source: string, autoscaling: Autoscaling, namespace: string, dispatcherEnv: Readonly<Record<string, string>>): Scaler {
  switch (source) {
    case 'kafka': return kafkaScaler(trigger, autoscaling, namespace);
    case 'rabbitmq': return rabbitmqScaler(trigger, autoscaling);
    case 'nats': return natsScaler(trigger, autoscaling, namespace);
    case 'pulsar': return pulsarScaler(trigger, autoscaling, dispatcherEnv);
    default: throw RenderError.at('spec.autoscaling', `is not supported for spec.${source}`);
  }
}

/** The dispatcher container's plain env values of a rendered Deployment (what the dispatcher is told). */
export function dispatcherEnv(deployment: Deployment): Record<string, string> {
  const template = deployment.spec['template'] as { spec?: { containers?: { name?: string; env?: { name: string; value?: unknown }[] }[] } } | undefined;
  const dispatcher = template?.spec?.containers?.find((container) => container.name === DISPATCHER_CONTAINER);
  return Object.fromEntries((dispatcher?.env ?? []).flatMap((e) => (typeof e.value === 'string' ? [[e.name, e.value]] : [])));
}

/**
 * The KEDA objects for a trigger with spec.autoscaling: a ScaledObject owned by the trigger that
 * targets its dispatcher Deployment, and a TriggerAuthentication when the scaler needs secrets.
 * Returns undefined when the trigger does not autoscale.
 */
export function renderKedaObjects(trigger: Trigger, source: string, deployment: { name: string; namespace: string; env?: Readonly<Record<string, string>> }): KedaObjects | undefined {
  const autoscaling = trigger.spec.autoscaling;
  if (autoscaling === undefined) return undefined;
  const namespace = trigger.metadata.namespace ?? 'default';
  // a ScaledObject scales a Deployment of its own namespace, and only same-namespace objects can be owned by the trigger
  if (deployment.namespace !== namespace) {
    throw RenderError.at('spec.autoscaling', `cannot scale a Deployment in another namespace ("${deployment.namespace}"): leave spec.deployment.metadata.namespace unset to autoscale`);
  }
  const deploymentName = deployment.name;
  const scaler = scalerFor(trigger, source, autoscaling, namespace, deployment.env ?? {});
  const name = deploymentName;
  const owner = trigger.metadata.uid === undefined ? {} : {
    ownerReferences: [{ apiVersion: trigger.apiVersion, kind: trigger.kind, name: trigger.metadata.name, uid: trigger.metadata.uid, controller: true, blockOwnerDeletion: true }],
  };
  // the Deployment's identifying labels, so the controller finds the trigger of an object it watches
  const labels = {
    'kurier.dev/trigger': labelValue(trigger.metadata.name),
    'kurier.dev/kind': trigger.kind.toLowerCase(),
    'kurier.dev/trigger-namespace': namespace,
    'app.kubernetes.io/managed-by': 'kurier',
    'app.kubernetes.io/instance': name,
  };
  // the spec-hash tells the controller that what it wrote is still what the trigger asks for
  const metadata = (spec: Obj): Obj => ({ name, namespace, labels, annotations: { [SPEC_HASH_ANNOTATION]: contentHash({ labels, spec }) }, ...owner });
  const trigger0: Obj = { type: scaler.type, metadata: scaler.metadata };
  let triggerAuthentication: Obj | undefined;
  if (scaler.secrets.length > 0) {
    trigger0['authenticationRef'] = { name };
    const spec = { secretTargetRef: scaler.secrets.map(({ parameter, name: secret, key }) => ({ parameter, name: secret, key })) };
    triggerAuthentication = { apiVersion: 'keda.sh/v1alpha1', kind: 'TriggerAuthentication', metadata: metadata(spec), spec };
  }
  const spec: Obj = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName },
    minReplicaCount: autoscaling.minReplicas ?? KEDA_DEFAULTS.minReplicas,
    maxReplicaCount: autoscaling.maxReplicas ?? KEDA_DEFAULTS.maxReplicas,
    pollingInterval: autoscaling.pollingInterval ?? KEDA_DEFAULTS.pollingInterval,
    cooldownPeriod: autoscaling.cooldownPeriod ?? KEDA_DEFAULTS.cooldownPeriod,
    triggers: [trigger0],
  };
  const scaledObject: Obj = { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: metadata(spec), spec };
  return triggerAuthentication === undefined ? { scaledObject } : { scaledObject, triggerAuthentication };
}

/** The replicas a trigger runs while KEDA cannot scale it: `minReplicas`, and at least 1. */
export function fallbackReplicas(autoscaling: Autoscaling): number {
  return Math.max(autoscaling.minReplicas ?? KEDA_DEFAULTS.minReplicas, 1);
}

/**
 * The Deployment with a fixed replica count (its spec-hash follows), for a trigger whose
 * ScaledObject cannot be written: KEDA is not installed.
 */
export function withFixedReplicas(deployment: Deployment, replicas: number): Deployment {
  const copy = structuredClone(deployment);
  copy.spec = { replicas, ...copy.spec };
  stampSpecHash(copy);
  return copy;
}
