/** Pure builders for a trigger's status: conditions, readiness mirrored from its Deployment. */
import { jsonEqual } from '../render/json.js';
import type { Condition, Trigger, TriggerStatus } from '../render/trigger.js';

export const ConditionType = { Ready: 'Ready', LegacyDeployment: 'LegacyDeployment' } as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Reasons on the `Ready` and `LegacyDeployment` conditions. */
export const Reason = {
  DeploymentReady: 'DeploymentReady',
  DeploymentNotReady: 'DeploymentNotReady',
  InvalidSpec: 'InvalidSpec',
  RenderRefused: 'RenderRefused',
  DeploymentNotOwned: 'DeploymentNotOwned',
  LegacyDeploymentFound: 'LegacyDeploymentFound',
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
}

/** Ready when the Deployment has seen its latest spec and every desired replica is updated and ready. */
export function readinessOf(deployment: DeploymentLike): ReadyState & { replicas: number; readyReplicas: number } {
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  const ready = status.readyReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const where = `${deployment.metadata.namespace ?? ''}/${deployment.metadata.name}`;
  const generation = deployment.metadata.generation;
  const stale = generation !== undefined && status.observedGeneration !== undefined && status.observedGeneration < generation;
  const updated = status.updatedReplicas ?? ready;
  if (!stale && ready >= desired && updated >= desired) {
    return {
      status: 'True',
      reason: Reason.DeploymentReady,
      message: `Deployment ${where}: ${String(ready)}/${String(desired)} replicas ready`,
      replicas,
      readyReplicas: ready,
    };
  }
  return {
    status: 'False',
    reason: Reason.DeploymentNotReady,
    message: stale
      ? `Deployment ${where} is rolling out its latest spec: ${String(ready)}/${String(desired)} replicas ready`
      : `waiting for Deployment ${where}: ${String(ready)}/${String(desired)} replicas ready`,
    replicas,
    readyReplicas: ready,
  };
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
  const owned = new Set<string>(Object.values(ConditionType));
  conditions.push(...previous.filter((c) => !owned.has(c.type)));
  const status: TriggerStatus = { conditions };
  if (generation !== undefined) status.observedGeneration = generation;
  if (observation.deployment !== undefined) status.deployment = observation.deployment;
  if (observation.replicas !== undefined) status.replicas = observation.replicas;
  if (observation.readyReplicas !== undefined) status.readyReplicas = observation.readyReplicas;
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
