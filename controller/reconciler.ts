/**
 * One reconcile pass for one trigger key (`Kind/namespace/name`): read the trigger from the cache,
 * validate, render, compare with the live Deployment, write only the difference, then write
 * status only when it changed. Level-based: a second pass over the same state writes nothing.
 */
import type { Clock } from './clock.js';
import { EventType, type EventRecorder } from './events.js';
import { contentHash } from '../render/hash.js';
import { isSubset } from '../render/json.js';
import { DEPLOYMENTS, statusCode, type KubeApi, type KubeObject, type Resource } from './kube.js';
import type { Logger } from './logger.js';
import { labelValue } from '../render/names.js';
import {
  buildStatus,
  ConditionType,
  legacyMessage,
  readinessOf,
  readyCondition,
  Reason,
  statusUnchanged,
  type Observation,
} from './status.js';
import { GROUP, VERSION, type Trigger, type TriggerStatus } from '../render/trigger.js';

export const FINALIZER = 'kurier.dev/cleanup';
export const SPEC_HASH = 'kurier.dev/spec-hash';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_TRIGGER = 'kurier.dev/trigger';
export const LABEL_KIND = 'kurier.dev/kind';
export const LABEL_TRIGGER_NAMESPACE = 'kurier.dev/trigger-namespace';
export const LEGACY_LABEL = 'created-by';
export const LEGACY_VALUE = 'kubeless-pulsar-trigger';

/** What the controller needs to know about a kind. */
export interface KindInfo {
  readonly kind: string;
  readonly plural: string;
}

/** A problem found by validation (only errors stop a trigger). */
export interface SpecProblem {
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface ReconcilerDeps {
  api: KubeApi;
  kinds: ReadonlyMap<string, KindInfo>;
  /** The trigger as the informer cache holds it. */
  trigger(kind: string, namespace: string, name: string): Trigger | undefined;
  /** A kurier-managed Deployment as the informer cache holds it. */
  cachedDeployment(namespace: string, name: string): KubeObject | undefined;
  /** True when an informer caches kurier-managed Deployments of `namespace`. */
  watchesDeployments(namespace: string): boolean;
  /** Deployments labelled created-by=kubeless-pulsar-trigger. */
  legacyDeployments(): readonly KubeObject[];
  /** Pure render; throws an error `isRenderError` recognises for spec problems and policy refusals. */
  render(trigger: Trigger): KubeObject & { metadata: { name: string; namespace: string } };
  isRenderError(err: unknown): err is Error;
  validate(trigger: Trigger): readonly SpecProblem[];
  events: EventRecorder;
  clock: Clock;
  log: Logger;
}

/** How a pass ended; errors are thrown instead (the caller requeues them with backoff). */
export const Outcome = {
  /** Converged, or nothing to do. */
  Success: 'success',
  /** The spec is invalid: reported, not retried until the trigger changes. */
  Invalid: 'invalid',
  /** The render policy or ownership refused: reported, not retried until something changes. */
  Refused: 'refused',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export interface TriggerKey {
  kind: string;
  namespace: string;
  name: string;
}

/** `Kind/namespace/name`. */
export function triggerKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export function parseTriggerKey(key: string): TriggerKey | undefined {
  const [kind, namespace, name, ...rest] = key.split('/');
  if (kind === undefined || namespace === undefined || name === undefined || rest.length > 0) return undefined;
  return { kind, namespace, name };
}

type Desired = { desired: KubeObject & { metadata: { name: string; namespace: string } } } | { reason: Reason; message: string };

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function dropNulls<T extends object>(meta: T): T {
  return Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== null && v !== undefined)) as T;
}

export class Reconciler {
  readonly #d: ReconcilerDeps;
  /** Fingerprint of each Deployment's spec as the API server returned it after our last write. */
  readonly #written = new Map<string, { fingerprint: string; resourceVersion: string | undefined }>();
  readonly #memo = new Map<string, { stamp: string; result: Desired }>();

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  /** Drops every remembered render: the next pass renders each trigger anew (the templates changed). */
  forgetRendered(): void {
    this.#memo.clear();
  }

  async reconcile(key: string): Promise<Outcome> {
    const parsed = parseTriggerKey(key);
    if (parsed === undefined) return Outcome.Success;
    const kind = this.#d.kinds.get(parsed.kind);
    if (kind === undefined) return Outcome.Success;
    const trigger = this.#d.trigger(parsed.kind, parsed.namespace, parsed.name);
    // gone: same-namespace Deployments are collected through their owner reference
    if (trigger === undefined) {
      this.#memo.delete(key);
      return Outcome.Success;
    }
    if (trigger.metadata.deletionTimestamp !== undefined) {
      await this.#finalize(kind, trigger);
      return Outcome.Success;
    }

    const result = this.#desired(key, trigger);
    if ('reason' in result) {
      await this.#reportProblem(kind, trigger, result.reason, result.message);
      return Outcome.Invalid;
    }
    return this.#converge(kind, trigger, result.desired);
  }

  /**
   * Validates and renders, remembering the result per key until the trigger's uid or generation
   * changes: both depend only on the spec and identity, and a resync should not redo them.
   */
  #desired(key: string, trigger: Trigger): Desired {
    const stamp = trigger.metadata.generation === undefined ? undefined : `${trigger.metadata.uid ?? ''}/${String(trigger.metadata.generation)}`;
    const memo = this.#memo.get(key);
    if (stamp !== undefined && memo?.stamp === stamp) return memo.result;
    let result: Desired;
    const errors = this.#d.validate(trigger).filter((p) => p.severity === 'error');
    if (errors.length > 0) {
      const message = errors.map((p) => `${p.path}: ${p.message}`).join('; ');
      result = { reason: Reason.InvalidSpec, message: `invalid trigger: ${message}` };
    } else {
      try {
        result = { desired: this.#d.render(trigger) };
      } catch (err) {
        if (!this.#d.isRenderError(err)) throw err;
        result = { reason: Reason.RenderRefused, message: `cannot render the dispatcher Deployment: ${err.message}` };
      }
    }
    if (stamp !== undefined) this.#memo.set(key, { stamp, result });
    return result;
  }

  async #converge(kind: KindInfo, initial: Trigger, desired: KubeObject & { metadata: { name: string; namespace: string } }): Promise<Outcome> {
    const { api } = this.#d;
    let trigger = initial;
    const triggerNs = trigger.metadata.namespace ?? 'default';
    const target = { name: desired.metadata.name, namespace: desired.metadata.namespace };
    const crossNamespace = target.namespace !== triggerNs;
    const hasFinalizer = (trigger.metadata.finalizers ?? []).includes(FINALIZER);
    if (crossNamespace && !hasFinalizer) {
      // before the Deployment exists, so a delete can never leave it behind
      trigger = await this.#setFinalizer(kind, trigger, true);
    }

    const previous = trigger.status?.deployment;
    if (previous !== undefined && (previous.name !== target.name || previous.namespace !== target.namespace)) {
      await this.#deleteIfOwned(trigger, previous);
    }

    const deploymentKey = `${target.namespace}/${target.name}`;
    const found = await this.#liveOrCreate(target, { ...desired, metadata: dropNulls(desired.metadata) });
    const created = found.created;
    let live = found.live;
    if (created) {
      this.#remember(deploymentKey, live);
      this.#d.log.info({ trigger: this.#keyOf(trigger), deployment: deploymentKey }, 'created the dispatcher Deployment');
      await this.#d.events.record(this.#subject(trigger), EventType.Normal, 'DeploymentCreated', `Created Deployment ${deploymentKey}`);
    } else if (!this.#owns(live, trigger, crossNamespace)) {
      await this.#reportProblem(
        kind,
        trigger,
        Reason.DeploymentNotOwned,
        `Deployment ${deploymentKey} exists and is not managed by this trigger (no owner reference to it and no kurier labels for it); Kurier will not touch it: delete or rename it`,
      );
      return Outcome.Refused;
    } else {
      const why = this.#difference(live, desired, deploymentKey);
      if (why !== undefined) {
        const merged: KubeObject = {
          ...live,
          metadata: {
            ...live.metadata,
            labels: { ...live.metadata.labels, ...desired.metadata.labels },
            annotations: { ...live.metadata.annotations, ...desired.metadata.annotations },
            ...(Array.isArray(desired.metadata.ownerReferences) ? { ownerReferences: desired.metadata.ownerReferences } : {}),
          },
          spec: desired['spec'],
        };
        delete merged['status'];
        live = await api.replace(DEPLOYMENTS, target.namespace, target.name, merged);
        this.#remember(deploymentKey, live);
        this.#d.log.info({ trigger: this.#keyOf(trigger), deployment: deploymentKey, why }, 'updated the dispatcher Deployment');
        await this.#d.events.record(this.#subject(trigger), EventType.Normal, 'DeploymentUpdated', `Updated Deployment ${deploymentKey}: ${why}`);
      }
    }

    const readiness = readinessOf(live);
    const legacy = this.#legacyFor(trigger);
    const observation: Observation = {
      ready: { status: readiness.status, reason: readiness.reason, message: readiness.message },
      deployment: target,
      replicas: readiness.replicas,
      readyReplicas: readiness.readyReplicas,
      legacy,
    };
    const hadLegacy = trigger.status?.conditions?.some((c) => c.type === ConditionType.LegacyDeployment) === true;
    if (legacy.length > 0 && !hadLegacy) {
      await this.#d.events.record(this.#subject(trigger), EventType.Warning, Reason.LegacyDeploymentFound, legacyMessage(legacy));
    }
    trigger = await this.#writeStatus(kind, trigger, buildStatus(trigger, observation, rfc3339(this.#d.clock.now())));
    if (!crossNamespace && (trigger.metadata.finalizers ?? []).includes(FINALIZER)) {
      await this.#setFinalizer(kind, trigger, false);
    }
    return Outcome.Success;
  }

  /** The live Deployment, created from `body` when there is none. */
  async #liveOrCreate(target: { name: string; namespace: string }, body: KubeObject): Promise<{ live: KubeObject; created: boolean }> {
    const { api } = this.#d;
    let live = this.#d.cachedDeployment(target.namespace, target.name);
    // outside the watched namespaces the cache knows nothing: ask the API server
    if (live === undefined && !this.#d.watchesDeployments(target.namespace)) live = await api.get(DEPLOYMENTS, target.namespace, target.name);
    if (live !== undefined) return { live, created: false };
    try {
      // a miss in the cache is the common case of a new trigger: create without a GET first
      return { live: await api.create(DEPLOYMENTS, target.namespace, body), created: true };
    } catch (err) {
      // someone else's Deployment (not in our labelled cache), or the cache lags behind our own write
      if (statusCode(err) !== 409) throw err;
      const existing = await api.get(DEPLOYMENTS, target.namespace, target.name);
      if (existing === undefined) throw err;
      return { live: existing, created: false };
    }
  }

  #remember(deploymentKey: string, live: KubeObject): void {
    this.#written.set(deploymentKey, { fingerprint: contentHash(live['spec']), resourceVersion: live.metadata.resourceVersion });
  }

  /** Why the live Deployment must be rewritten, or `undefined` when it matches. */
  #difference(live: KubeObject, desired: KubeObject & { metadata: { name: string } }, deploymentKey: string): string | undefined {
    const liveHash = live.metadata.annotations?.[SPEC_HASH];
    const wantHash = desired.metadata.annotations?.[SPEC_HASH];
    if (liveHash !== wantHash) return 'the trigger changed';
    if (!isSubset(desired.metadata.labels ?? {}, live.metadata.labels ?? {})) return 'its labels were edited';
    const wantOwners = Array.isArray(desired.metadata.ownerReferences) ? desired.metadata.ownerReferences : [];
    const liveOwners = live.metadata.ownerReferences ?? [];
    if (!wantOwners.every((o) => liveOwners.some((l) => l.uid === o.uid && l.controller === o.controller))) {
      return 'its owner reference was removed';
    }
    // unchanged since our own write: the API server's defaults may differ from what we sent
    const written = this.#written.get(deploymentKey);
    const rv = live.metadata.resourceVersion;
    if (written !== undefined && rv !== undefined && written.resourceVersion === rv) return undefined;
    if (written?.fingerprint === contentHash(live['spec'])) {
      // a status-only change: remember this version so the next pass skips the hash
      written.resourceVersion = rv;
      return undefined;
    }
    if (!isSubset(desired['spec'], live['spec'])) return 'its spec was edited';
    return undefined;
  }

  /**
   * Ours: controlled by this trigger (owner reference with its uid), or, with no controller owner
   * reference at all (another namespace, or a reference someone removed), carrying this trigger's
   * kurier labels. A Deployment controlled by anything else is never ours.
   */
  #owns(live: KubeObject, trigger: Trigger, crossNamespace: boolean): boolean {
    const controller = (live.metadata.ownerReferences ?? []).find((o) => o.controller === true);
    if (controller !== undefined) return !crossNamespace && trigger.metadata.uid !== undefined && controller.uid === trigger.metadata.uid;
    const labels = live.metadata.labels ?? {};
    return (
      labels[LABEL_MANAGED_BY] === 'kurier' &&
      labels[LABEL_TRIGGER] === labelValue(trigger.metadata.name) &&
      labels[LABEL_KIND] === trigger.kind.toLowerCase() &&
      labels[LABEL_TRIGGER_NAMESPACE] === (trigger.metadata.namespace ?? 'default')
    );
  }

  #legacyFor(trigger: Trigger): string[] {
    if (trigger.kind !== 'PulsarTrigger') return [];
    return this.#d
      .legacyDeployments()
      .filter((d) => d.metadata.name === trigger.metadata.name && d.metadata.labels?.[LEGACY_LABEL] === LEGACY_VALUE)
      .map((d) => `${d.metadata.namespace ?? 'default'}/${d.metadata.name}`)
      .sort();
  }

  async #reportProblem(kind: KindInfo, trigger: Trigger, reason: Reason, message: string): Promise<void> {
    const before = readyCondition(trigger.status);
    const observation: Observation = { ready: { status: 'False', reason, message }, legacy: this.#legacyFor(trigger) };
    const current = trigger.status ?? {};
    if (current.deployment !== undefined) observation.deployment = current.deployment;
    if (current.replicas !== undefined) observation.replicas = current.replicas;
    if (current.readyReplicas !== undefined) observation.readyReplicas = current.readyReplicas;
    if (before?.reason !== reason || before.message !== message) {
      this.#d.log.warn({ trigger: this.#keyOf(trigger), reason, problem: message }, 'trigger not reconciled');
      await this.#d.events.record(this.#subject(trigger), EventType.Warning, reason, message);
    }
    await this.#writeStatus(kind, trigger, buildStatus(trigger, observation, rfc3339(this.#d.clock.now())));
  }

  async #writeStatus(kind: KindInfo, trigger: Trigger, status: TriggerStatus): Promise<Trigger> {
    if (statusUnchanged(trigger.status, status)) return trigger;
    const ns = trigger.metadata.namespace ?? 'default';
    const updated = await this.#d.api.replaceStatus(this.#resource(kind), ns, trigger.metadata.name, {
      ...(trigger as unknown as KubeObject),
      status,
    });
    return updated as unknown as Trigger;
  }

  async #setFinalizer(kind: KindInfo, trigger: Trigger, present: boolean): Promise<Trigger> {
    const others = (trigger.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    const finalizers = present ? [...others, FINALIZER] : others;
    const ns = trigger.metadata.namespace ?? 'default';
    const updated = await this.#d.api.replace(this.#resource(kind), ns, trigger.metadata.name, {
      ...(trigger as unknown as KubeObject),
      metadata: { ...trigger.metadata, finalizers },
    });
    return updated as unknown as Trigger;
  }

  async #finalize(kind: KindInfo, trigger: Trigger): Promise<void> {
    if (!(trigger.metadata.finalizers ?? []).includes(FINALIZER)) return;
    const places: { name: string; namespace: string }[] = [];
    if (trigger.status?.deployment !== undefined) places.push(trigger.status.deployment);
    try {
      const desired = this.#d.render(trigger);
      places.push({ name: desired.metadata.name, namespace: desired.metadata.namespace });
    } catch (err) {
      if (!this.#d.isRenderError(err)) throw err;
    }
    for (const place of places) await this.#deleteIfOwned(trigger, place);
    await this.#setFinalizer(kind, trigger, false);
    this.#d.log.info({ trigger: this.#keyOf(trigger) }, 'cleaned up after a deleted trigger');
  }

  async #deleteIfOwned(trigger: Trigger, place: { name: string; namespace: string }): Promise<void> {
    const triggerNs = trigger.metadata.namespace ?? 'default';
    const crossNamespace = place.namespace !== triggerNs;
    const live = await this.#d.api.get(DEPLOYMENTS, place.namespace, place.name);
    if (live === undefined || !this.#owns(live, trigger, crossNamespace)) return;
    try {
      await this.#d.api.delete(DEPLOYMENTS, place.namespace, place.name);
      this.#written.delete(`${place.namespace}/${place.name}`);
      await this.#d.events.record(
        this.#subject(trigger),
        EventType.Normal,
        'DeploymentDeleted',
        `Deleted Deployment ${place.namespace}/${place.name}`,
      );
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
  }

  #resource(kind: KindInfo): Resource {
    return { group: GROUP, version: VERSION, plural: kind.plural };
  }

  #subject(trigger: Trigger): { apiVersion: string; kind: string; metadata: Trigger['metadata'] } {
    return { apiVersion: trigger.apiVersion, kind: trigger.kind, metadata: trigger.metadata };
  }

  #keyOf(trigger: Trigger): string {
    return triggerKey(trigger.kind, trigger.metadata.namespace ?? 'default', trigger.metadata.name);
  }
}
