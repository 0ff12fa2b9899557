/** The trigger API (`kurier.dev/v1alpha1`) as the controller and the render engine read it. */

export const GROUP = 'kurier.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface FunctionRef {
  url?: string;
  service?: { name: string; namespace?: string; port?: number; path?: string };
}

/** A Kubernetes label selector (metav1.LabelSelector). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface Delivery {
  ordering?: 'ordered' | 'key' | 'unordered';
  maxInFlight?: number;
  timeout?: string;
  retry?: { maxAttempts?: number; initialDelay?: string; maxDelay?: string };
  deadLetter?: { topic: string };
  reply?: { topic: string };
}

/** spec.autoscaling: KEDA scales the dispatcher on backlog (see docs/autoscaling.md). */
export interface Autoscaling {
  minReplicas?: number;
  maxReplicas?: number;
  /** Kafka consumer-group lag / NATS JetStream consumer lag per replica. */
  lagThreshold?: number;
  /** Pulsar subscription backlog per replica. */
  msgBacklogThreshold?: number;
  /** RabbitMQ queue length per replica (mode QueueLength). */
  value?: number;
  /** NATS only: host:port of the server's monitoring endpoint. */
  monitoringEndpoint?: string;
  /** Pulsar only: URL of the admin REST API KEDA reads the backlog from. */
  adminURL?: string;
  /** Pulsar only: sum the backlog over the topic's partitions. */
  isPartitionedTopic?: boolean;
  pollingInterval?: number;
  cooldownPeriod?: number;
}

export interface TriggerSpec {
  function?: FunctionRef;
  /** Fan-out: every Service in the trigger's namespace these labels choose is a function. */
  functionSelector?: LabelSelector;
  delivery?: Delivery;
  replicas?: number;
  autoscaling?: Autoscaling;
  /** Free-form; validated at render time, so typed as any JSON. */
  deployment?: JsonValue;
  /**
   * kubeless-pulsar-trigger compatibility: since 1.0 `function` is the function URL; before 1.0 it is
   * a name, with `namespace`, `port` and `scheme` (spelt `schema` in its CRD).
   */
  kubeless?: { function?: string; namespace?: string; port?: number; scheme?: string; schema?: string };
  /** The source block, keyed by source name (`kafka`, `pulsar`, …). */
  [source: string]: unknown;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface TriggerStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  deployment?: { name: string; namespace: string };
  replicas?: number;
  readyReplicas?: number;
  targets?: TargetsStatus;
}

/** `status.targets` of a trigger with `spec.functionSelector`. */
export interface TargetsStatus {
  /** How many Services the dispatcher delivers to. */
  count: number;
  /** Their names, sorted, at most {@link MAX_TARGET_NAMES}. */
  names: string[];
  /** True when `names` lists only the first of them. */
  truncated?: boolean;
}

/** How many target names `status.targets.names` lists. */
export const MAX_TARGET_NAMES = 20;

export interface Trigger {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: TriggerSpec;
  status?: TriggerStatus;
}
