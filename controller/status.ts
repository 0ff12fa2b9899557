/** Pure builders for a trigger's status: conditions, readiness mirrored from its Deployment. */
import { jsonEqual } from '../render/json.js';
import type { Condition, TargetsStatus, Trigger, TriggerStatus } from '../render/trigger.js';
import { leftOutMessage, type LeftOut } from './target-selection.js';

export const ConditionType = { Ready: 'Ready', LegacyDeployment: 'LegacyDeployment', TargetsResolved: 'TargetsResolved' } as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Reasons on the `Ready` and `LegacyDeployment` conditions. */
export const Reason = {
  DeploymentReady: 'DeploymentReady',
  DeploymentNotReady: 'DeploymentNotReady',
  InvalidSpec: 'InvalidSpec',
  RenderRefused: 'RenderRefused',
  DeploymentNotOwned: 'DeploymentNotOwned',
  /** The rollout made no progress within the Deployment's progressDeadlineSeconds. */
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  /** The API server refused a request with 403: the message names verb, resource and namespace. */
  Forbidden: 'Forbidden',
  /** Another error no retry fixes by itself (400, 404, 422), named like Forbidden. */
  ApiRequestFailed: 'ApiRequestFailed',
  /** The target namespace is outside the namespaces this controller watches. */
  NamespaceNotWatched: 'NamespaceNotWatched',
  /** Deleting the trigger could not delete its Deployment in another namespace. */
  CleanupRefused: 'CleanupRefused',
  LegacyDeploymentFound: 'LegacyDeploymentFound',
  /** spec.functionSelector chooses no Service that can be used: the dispatcher consumes nothing. */
  NoTargets: 'NoTargets',
  /** TargetsResolved: every Service the selector chooses is a target. */
  AllTargetsResolved: 'AllTargetsResolved',
  /** TargetsResolved: a chosen Service has several ports and none named http. */
  PortNotChosen: 'PortNotChosen',
  /** Autoscaling: the ScaledObject (and TriggerAuthentication) are written; KEDA scales the Deployment. */
  KedaScaling: 'KedaScaling',
  /** Autoscaling: the API server does not serve keda.sh/v1alpha1 (KEDA's CRDs are missing). */
  KedaNotInstalled: 'KedaNotInstalled',
  /** Autoscaling: API discovery has not answered yet. */
  KedaDiscoveryFailed: 'KedaDiscoveryFailed',
  /** Autoscaling: a ScaledObject or TriggerAuthentication of that name belongs to someone else. */
  KedaObjectNotOwned: 'KedaObjectNotOwned',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** The parts of an apps/v1 Deployment the status is built from. */
export interface DeploymentLike {
  metadata: { name: string; namespace?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: readonly { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

export interface ReadyState {
  status: Condition['status'];
  reason: Reason;
  message: string;
}

/** What one reconcile pass found, from which the status is built. */
export interface Observation {
  ready: ReadyState;
  deployment?: { name: string; namespace: string };
  replicas?: number;
  readyReplicas?: number;
  /** `namespace/name` of Deployments left by kubeless-pulsar-trigger for this trigger. */
  legacy?: readonly string[];
  /** With spec.functionSelector: the targets, and the matching Services left out. */
  targets?: { status: TargetsStatus; leftOut: readonly LeftOut[] };
  /** The `Autoscaling` condition; null removes it (no spec.autoscaling), undefined keeps it as it is. */
  autoscaling?: ReadyState | null;
}

/** Ready as the Deployment says, unless a fan-out trigger has no target: then nothing is consumed. */
export function withTargets(ready: ReadyState, targets: Observation['targets'], where: string, selector: string): ReadyState {
  if (targets === undefined || targets.status.count > 0) return ready;
  const leftOut = targets.leftOut.length === 0 ? '' : `; ${leftOutMessage(targets.leftOut)}`;
  return {
    status: 'False',
    reason: Reason.NoTargets,
    message: `no Service in namespace "${where}" matches spec.functionSelector (${selector}) with a port to deliver to; the dispatcher consumes nothing until one does${leftOut}`,
  };
}

/** The condition saying whether KEDA scales a trigger with spec.autoscaling (docs/autoscaling.md). */
export const AUTOSCALING_CONDITION = 'Autoscaling';

/**
 * Ready means what `kubectl rollout status` means: the Deployment controller observed the latest
 * generation, every desired replica runs the latest pod template, no old replica is left, and
 * every updated replica is available. A rollout past its progress deadline is its own reason.
 */
export function readinessOf(deployment: DeploymentLike): ReadyState & { replicas: number; readyReplicas: number } {
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  const ready = status.readyReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const where = `Deployment ${deployment.metadata.namespace ?? ''}/${deployment.metadata.name}`;
  const counts = { replicas, readyReplicas: ready };
  const notReady = (message: string, reason: Reason = Reason.DeploymentNotReady): ReadyState & typeof counts => ({
    status: 'False',
    reason,
    message,
    ...counts,
  });
  const generation = deployment.metadata.generation;
  if (generation !== undefined && (status.observedGeneration === undefined || status.observedGeneration < generation)) {
    return notReady(`${where}: waiting for the Deployment controller to observe its latest spec (generation ${String(generation)})`);
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return notReady(`${where} exceeded its progress deadline: ${progressing.message ?? ''}`.trimEnd(), Reason.ProgressDeadlineExceeded);
  }
  if (updated < desired) return notReady(`${where}: ${String(updated)} of ${String(desired)} replicas run the latest spec`);
  if (replicas > updated) return notReady(`${where}: ${String(replicas - updated)} old replicas are pending termination`);
  if (available < updated) return notReady(`${where}: ${String(available)} of ${String(updated)} updated replicas are available`);
  return { status: 'True', reason: Reason.DeploymentReady, message: `${where}: ${String(ready)}/${String(desired)} replicas ready`, ...counts };
}

function condition(
  previous: readonly Condition[],
  type: string,
  state: ReadyState,
  generation: number | undefined,
  now: string,
): Condition {
  const before = previous.find((c) => c.type === type);
  const lastTransitionTime = before !== undefined && before.status === state.status ? before.lastTransitionTime : now;
  const c: Condition = { type, status: state.status, reason: state.reason, message: state.message, lastTransitionTime };
  if (generation !== undefined) c.observedGeneration = generation;
  return c;
}

/**
 * The status a trigger should have after a pass. Transition times are kept while a condition's
 * status stays the same, so building twice from the same observation gives an equal status.
 * Conditions of types this controller does not own are kept as they are.
 */
export function buildStatus(trigger: Trigger, observation: Observation, now: string): TriggerStatus {
  const previous = trigger.status?.conditions ?? [];
  const generation = trigger.metadata.generation;
  const conditions: Condition[] = [condition(previous, ConditionType.Ready, observation.ready, generation, now)];
  const legacy = observation.legacy ?? [];
  if (legacy.length > 0) {
    conditions.push(
      condition(
        previous,
        ConditionType.LegacyDeployment,
        {
          status: 'True',
          reason: Reason.LegacyDeploymentFound,
          message: legacyMessage(legacy),
        },
        generation,
        now,
      ),
    );
  }
  const targets = observation.targets;
  if (targets !== undefined) {
    const count = targets.status.count;
    const resolved: ReadyState =
      targets.leftOut.length === 0
        ? { status: 'True', reason: Reason.AllTargetsResolved, message: `${String(count)} Service${count === 1 ? '' : 's'} chosen by spec.functionSelector, each with a port` }
        : { status: 'False', reason: Reason.PortNotChosen, message: leftOutMessage(targets.leftOut) };
    conditions.push(condition(previous, ConditionType.TargetsResolved, resolved, generation, now));
  }
  const owned = new Set<string>(Object.values(ConditionType));
  if (observation.autoscaling !== undefined) {
    owned.add(AUTOSCALING_CONDITION);
    if (observation.autoscaling !== null) conditions.push(condition(previous, AUTOSCALING_CONDITION, observation.autoscaling, generation, now));
  }
  conditions.push(...previous.filter((c) => !owned.has(c.type)));
  const status: TriggerStatus = { conditions };
  if (generation !== undefined) status.observedGeneration = generation;
  if (observation.deployment !== undefined) status.deployment = observation.deployment;
  if (observation.replicas !== undefined) status.replicas = observation.replicas;
  if (observation.readyReplicas !== undefined) status.readyReplicas = observation.readyReplicas;
  if (targets !== undefined) status.targets = targets.status;
  return status;
}

/** The message users read about Deployments left behind by kubeless-pulsar-trigger. */
export function legacyMessage(legacy: readonly string[]): string {
  const list = legacy.map((l) => `Deployment ${l}`).join(', ');
  return `${list} (label created-by=kubeless-pulsar-trigger) still runs the old dispatcher for this trigger; Kurier never deletes it: delete it once this trigger is Ready`;
}

/** True when writing `next` would change nothing. */
export function statusUnchanged(current: TriggerStatus | undefined, next: TriggerStatus): boolean {
  return jsonEqual(current ?? {}, next);
}

/** The trigger's `Ready` condition, if any. */
export function readyCondition(status: TriggerStatus | undefined): Condition | undefined {
  return status?.conditions?.find((c) => c.type === ConditionType.Ready);
}
