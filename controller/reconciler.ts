/**
 * One reconcile pass for one trigger key (`Kind/namespace/name`): read the trigger from the cache,
 * validate, render, compare with the live Deployment, write only the difference, then write
 * status only when it changed. Level-based: a second pass over the same state writes nothing.
 */
import type { Clock } from './clock.js';
import { EventType, type EventRecorder } from './events.js';
import { contentHash } from '../render/hash.js';
import { isSubset } from '../render/json.js';
import { trimForCache } from './informers.js';
import type { OwnedKedaObjects } from './keda-objects.js';
import { dropUnknownDeploymentFields } from './known-fields.js';
import type { FunctionTargets, TargetsObservation } from './function-targets.js';
import { DEPLOYMENTS, isPersistent, KubeCallError, type KubeApi, type KubeObject, type Resource } from './kube.js';
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
  withTargets,
  type Observation,
} from './status.js';
import { selectorText } from './target-selection.js';
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
  /**
   * Any other Deployment of that name (without `app.kubernetes.io/managed-by=kurier`), reduced to
   * labels and owner references, once a cache of them has synced (`known`). Without it, a name
   * missing from `cachedDeployment` is asked of the API server before anything is applied there.
   */
  otherDeployment?(namespace: string, name: string): { known: false } | { known: true; object: KubeObject | undefined };
  /** True when `namespace` is one this controller watches (every namespace without --namespaces). */
  inScope(namespace: string): boolean;
  /** How the watched namespaces were configured, for messages. */
  scopeDescription: string;
  /** Deployments labelled created-by=kubeless-pulsar-trigger. */
  legacyDeployments(): readonly KubeObject[];
  /** Pure render; throws an error `isRenderError` recognises for spec problems and policy refusals. */
  render(trigger: Trigger): KubeObject & { metadata: { name: string; namespace: string } };
  isRenderError(err: unknown): err is Error;
  validate(trigger: Trigger): readonly SpecProblem[];
  /** The KEDA objects of triggers with spec.autoscaling (controller/keda-objects.ts). */
  autoscaling?: Pick<OwnedKedaObjects, 'deploymentFor' | 'sync'>;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  /** Keeps the targets ConfigMap of fan-out triggers (spec.functionSelector); without it they get none. */
  targets?: FunctionTargets;
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

type Desired =
  | { desired: KubeObject & { metadata: { name: string; namespace: string } }; dropped: readonly string[] }
  | { reason: Reason; message: string };

/** A `Desired` as `#memo` keeps it. */
type Remembered = { text: string; dropped: readonly string[] } | { reason: Reason; message: string };

function remembered(result: Desired): Remembered {
  return 'reason' in result ? result : { text: JSON.stringify(result.desired), dropped: result.dropped };
}

function recalled(memo: Remembered): Desired {
  return 'reason' in memo ? memo : { desired: JSON.parse(memo.text) as Extract<Desired, { desired: unknown }>['desired'], dropped: memo.dropped };
}

/** How long an apply's answer stands in for a Deployment the informer has not reported yet. */
const APPLIED_TRUSTED_MS = 30_000;

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function dropNulls<T extends object>(meta: T): T {
  return Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== null && v !== undefined)) as T;
}

/** The parts of a Deployment that writers set: metadata maps and owner references, and the spec. */
function writable(obj: KubeObject): unknown {
  const m = obj.metadata;
  return { labels: m.labels ?? {}, annotations: m.annotations ?? {}, ownerReferences: m.ownerReferences ?? [], spec: obj['spec'] ?? {} };
}

/** Where a cached Deployment keeps the fingerprint of what it had instead of its pod template. */
const FINGERPRINT = 'kurier.dev/writable-fingerprint';

/** The fingerprint of a Deployment's writable parts, taken from the cache when it has one. */
function fingerprintOf(deployment: KubeObject): string {
  const kept = deployment[FINGERPRINT];
  return typeof kept === 'string' ? kept : contentHash(writable(deployment));
}

/**
 * What the controller's cache keeps of one of Kurier's Deployments: metadata, status and
 * `spec.replicas` (what readiness is judged from), and instead of the rest of the spec (the pod
 * template, most of the object) the fingerprint of its writable parts, which is all a reconcile
 * compares it by. At 10,000 Deployments that is tens of MB less heap for the garbage collector.
 */
export function deploymentForCache(deployment: KubeObject): KubeObject {
  trimForCache(deployment);
  if (deployment['spec'] === undefined) return deployment; // a BOOKMARK
  const spec = deployment['spec'] as { replicas?: unknown };
  const cached: KubeObject = { ...deployment, spec: spec.replicas === undefined ? {} : { replicas: spec.replicas } };
  cached[FINGERPRINT] = contentHash(writable(deployment));
  return cached;
}

export class Reconciler {
  readonly #d: ReconcilerDeps;
  /**
   * Per Deployment (`namespace/name`): a fingerprint of its writable parts when they last matched
   * what this controller applies (after an apply, or a dry-run apply that would change nothing).
   * While the live object has that fingerprint, no request is needed to know it is converged.
   */
  readonly #converged = new Map<string, { fingerprint: string; resourceVersion: string | undefined }>();
  /** Trigger key → the Deployment key it owns in `#converged`, to forget it with the trigger. */
  readonly #deploymentOf = new Map<string, string>();
  /**
   * Validation and render per trigger key, until its uid or generation changes. A rendered
   * Deployment is kept as its JSON text: a third of the memory of the objects (at 10,000 triggers,
   * tens of MB), and each pass gets its own copy to change.
   */
  readonly #memo = new Map<string, { stamp: string; result: Remembered }>();
  /**
   * The trigger as our last write returned it, and the resourceVersions the cache may still show
   * while it lags behind that write: reading our own writes instead of a stale cache avoids a
   * duplicate status write and the 409 Conflict it would get.
   */
  readonly #ownWrites = new Map<string, { stale: Set<string>; trigger: Trigger }>();
  /**
   * Deployments (`namespace/name`) as our last apply returned them, until the informer reports them:
   * a pass that runs before the cache has our write sees what it wrote instead of a free name.
   */
  readonly #applied = new Map<string, { deployment: KubeObject; at: number }>();

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  /** The Deployment informer saw `deployment` (added, changed or deleted): its cache is now the truth. */
  observedDeployment(deployment: KubeObject): void {
    this.#applied.delete(`${deployment.metadata.namespace ?? 'default'}/${deployment.metadata.name}`);
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
    const cached = this.#d.trigger(parsed.kind, parsed.namespace, parsed.name);
    // gone: same-namespace Deployments are collected through their owner reference
    if (cached === undefined) {
      this.#forget(key);
      return Outcome.Success;
    }
    const trigger = this.#readOwnWrites(key, cached);
    if (trigger.metadata.deletionTimestamp !== undefined) {
      await this.#finalize(kind, trigger);
      return Outcome.Success;
    }

    const { result, fresh } = this.#desired(key, trigger);
    if ('reason' in result) {
      await this.#reportProblem(kind, trigger, result.reason, result.message);
      return Outcome.Invalid;
    }
    if (fresh && result.dropped.length > 0) {
      const message = `spec.deployment: fields a Deployment does not have were left out: ${result.dropped.join(', ')}`;
      this.#d.log.warn({ trigger: key, dropped: result.dropped }, 'unknown Deployment fields left out');
      await this.#d.events.record(this.#subject(trigger), EventType.Warning, 'UnknownFieldsDropped', message);
    }
    try {
      return await this.#converge(kind, trigger, result.desired);
    } catch (err) {
      // permissions and refusals do not heal by retrying alone: say so on the trigger, then retry with backoff
      if (err instanceof KubeCallError && isPersistent(err)) {
        const reason = err.code === 403 ? Reason.Forbidden : Reason.ApiRequestFailed;
        await this.#reportProblem(kind, this.#latest(key, trigger), reason, err.message).catch((reportErr: unknown) => {
          this.#d.log.warn({ trigger: key, err: reportErr }, 'could not report a refused request on the trigger');
        });
      }
      throw err;
    }
  }

  /** Entries kept per trigger and per Deployment (memory that must shrink when triggers go). */
  get remembered(): number {
    return this.#converged.size + this.#deploymentOf.size + this.#memo.size + this.#ownWrites.size + this.#applied.size;
  }

  #forget(key: string): void {
    this.#d.targets?.forget(key);
    this.#memo.delete(key);
    this.#ownWrites.delete(key);
    const deploymentKey = this.#deploymentOf.get(key);
    if (deploymentKey !== undefined) {
      this.#converged.delete(deploymentKey);
      this.#applied.delete(deploymentKey);
    }
    this.#deploymentOf.delete(key);
  }

  /** The cached trigger, or the newer one our own last write returned while the cache lags behind it. */
  #readOwnWrites(key: string, cached: Trigger): Trigger {
    const own = this.#ownWrites.get(key);
    if (own === undefined) return cached;
    const rv = cached.metadata.resourceVersion;
    if (rv !== undefined && own.stale.has(rv) && own.trigger.metadata.uid === cached.metadata.uid) return own.trigger;
    // the cache caught up with our write, or moved past it
    this.#ownWrites.delete(key);
    return cached;
  }

  #latest(key: string, fallback: Trigger): Trigger {
    return this.#ownWrites.get(key)?.trigger ?? fallback;
  }

  #rememberOwnWrite(key: string, before: Trigger, after: Trigger): Trigger {
    trimForCache(after);
    const previous = this.#ownWrites.get(key);
    const stale = previous?.trigger === before ? previous.stale : new Set<string>();
    if (before.metadata.resourceVersion !== undefined) stale.add(before.metadata.resourceVersion);
    this.#ownWrites.set(key, { stale, trigger: after });
    return after;
  }

  /**
   * Validates and renders, remembering the result per key until the trigger's uid or generation
   * changes: both depend only on the spec and identity, and a resync should not redo them.
   */
  #desired(key: string, trigger: Trigger): { result: Desired; fresh: boolean } {
    const stamp = trigger.metadata.generation === undefined ? undefined : `${trigger.metadata.uid ?? ''}/${String(trigger.metadata.generation)}`;
    const memo = this.#memo.get(key);
    if (stamp !== undefined && memo?.stamp === stamp) return { result: recalled(memo.result), fresh: false };
    let result: Desired;
    const errors = this.#d.validate(trigger).filter((p) => p.severity === 'error');
    if (errors.length > 0) {
      const message = errors.map((p) => `${p.path}: ${p.message}`).join('; ');
      result = { reason: Reason.InvalidSpec, message: `invalid trigger: ${message}` };
    } else {
      try {
        const desired = this.#d.render(trigger);
        // server-side apply refuses what a PUT would drop: drop it here, and say so
        result = { desired, dropped: dropUnknownDeploymentFields(desired) };
      } catch (err) {
        if (!this.#d.isRenderError(err)) throw err;
        result = { reason: Reason.RenderRefused, message: `cannot render the dispatcher Deployment: ${err.message}` };
      }
    }
    if (stamp !== undefined) this.#memo.set(key, { stamp, result: remembered(result) });
    return { result, fresh: true };
  }

  async #converge(kind: KindInfo, initial: Trigger, rendered: KubeObject & { metadata: { name: string; namespace: string } }): Promise<Outcome> {
    let trigger = initial;
    const desired = this.#d.autoscaling?.deploymentFor(trigger, rendered) ?? rendered;
    const key = this.#keyOf(trigger);
    const triggerNs = trigger.metadata.namespace ?? 'default';
    const target = { name: desired.metadata.name, namespace: desired.metadata.namespace };
    const deploymentKey = `${target.namespace}/${target.name}`;
    const crossNamespace = target.namespace !== triggerNs;
    if (!this.#d.inScope(target.namespace)) {
      // refused before any request: a Deployment there would be neither watched nor, with
      // per-namespace RBAC, writable, and deleting the trigger could not clean it up
      await this.#reportProblem(
        kind,
        trigger,
        Reason.NamespaceNotWatched,
        `spec.deployment.metadata.namespace: the Deployment would go to namespace "${target.namespace}", which this controller does not watch (${this.#d.scopeDescription}); add it to --namespaces (chart: watchNamespaces) or leave the Deployment in the trigger's namespace`,
      );
      return Outcome.Refused;
    }
    const hasFinalizer = (trigger.metadata.finalizers ?? []).includes(FINALIZER);
    if (crossNamespace && !hasFinalizer) {
      // before the Deployment exists, so a delete can never leave it behind
      trigger = await this.#setFinalizer(kind, trigger, true);
    }

    const previous = trigger.status?.deployment;
    if (previous !== undefined && (previous.name !== target.name || previous.namespace !== target.namespace)) {
      await this.#deleteIfOwned(trigger, previous);
    }

    const body: KubeObject = { ...desired, metadata: dropNulls(desired.metadata) };
    let live = await this.#live(target.namespace, target.name);
    if (live === undefined) {
      if (this.#hadDeployment(key, trigger, deploymentKey) && !(await this.#isCurrent(kind, trigger))) {
        // the cache still holds a trigger that is gone: re-creating would only feed the garbage collector
        this.#d.log.info({ trigger: key, deployment: deploymentKey }, 'not re-creating the Deployment of a trigger that is gone or replaced');
        return Outcome.Success;
      }
      live = await this.#apply(key, deploymentKey, body);
      this.#d.log.info({ trigger: key, deployment: deploymentKey }, 'created the dispatcher Deployment');
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
      const why = await this.#difference(live, body, deploymentKey);
      if (why !== undefined) {
        live = await this.#apply(key, deploymentKey, body);
        this.#d.log.info({ trigger: key, deployment: deploymentKey, why }, 'updated the dispatcher Deployment');
        await this.#d.events.record(this.#subject(trigger), EventType.Normal, 'DeploymentUpdated', `Updated Deployment ${deploymentKey}: ${why}`);
      }
    }
    this.#deploymentOf.set(key, deploymentKey);
    const autoscaling = await this.#d.autoscaling?.sync(trigger, target);
    const targets = await this.#d.targets?.converge(key, trigger, live);
    trigger = await this.#reportReadiness(kind, trigger, live, target, autoscaling, targets);
    if (!crossNamespace && (trigger.metadata.finalizers ?? []).includes(FINALIZER)) {
      await this.#setFinalizer(kind, trigger, false);
    }
    return Outcome.Success;
  }

  /** Mirrors the Deployment's rollout into the trigger's status (and Events for what needs a person). */
  async #reportReadiness(
    kind: KindInfo,
    trigger: Trigger,
    live: KubeObject,
    target: { name: string; namespace: string },
    autoscaling: Observation['autoscaling'],
    targets: TargetsObservation | undefined,
  ): Promise<Trigger> {
    const readiness = readinessOf(live);
    const legacy = this.#legacyFor(trigger);
    const selector = trigger.spec.functionSelector;
    const ready = { status: readiness.status, reason: readiness.reason, message: readiness.message };
    const observation: Observation = {
      ready: selector === undefined ? ready : withTargets(ready, targets, trigger.metadata.namespace ?? 'default', selectorText(selector)),
      deployment: target,
      replicas: readiness.replicas,
      readyReplicas: readiness.readyReplicas,
      legacy,
      autoscaling,
    };
    if (targets !== undefined) observation.targets = targets;
    const hadLegacy = trigger.status?.conditions?.some((c) => c.type === ConditionType.LegacyDeployment) === true;
    if (legacy.length > 0 && !hadLegacy) {
      await this.#d.events.record(this.#subject(trigger), EventType.Warning, Reason.LegacyDeploymentFound, legacyMessage(legacy));
    }
    if (readiness.reason === Reason.ProgressDeadlineExceeded && readyCondition(trigger.status)?.reason !== readiness.reason) {
      await this.#d.events.record(this.#subject(trigger), EventType.Warning, readiness.reason, readiness.message);
    }
    return this.#writeStatus(kind, trigger, buildStatus(trigger, observation, rfc3339(this.#d.clock.now())));
  }

  /**
   * The Deployment at that name as far as the caches know it, without a request when they can tell:
   * Kurier's own Deployments, the one our last apply returned while the cache lags behind it, or
   * whoever else's (reduced to labels and owner references). A name in none of them is free. Only
   * when the caches of other Deployments cannot tell is the API server asked, so that an apply
   * never lands on someone else's Deployment.
   */
  async #live(namespace: string, name: string): Promise<KubeObject | undefined> {
    const deploymentKey = `${namespace}/${name}`;
    const cached = this.#d.cachedDeployment(namespace, name);
    if (cached !== undefined) {
      this.#applied.delete(deploymentKey);
      return cached;
    }
    const applied = this.#applied.get(deploymentKey);
    if (applied !== undefined) {
      if (this.#d.clock.now() - applied.at < APPLIED_TRUSTED_MS) return applied.deployment;
      // the informer never reported it (it may have been deleted while it was down): look again
      this.#applied.delete(deploymentKey);
    }
    const other = this.#d.otherDeployment?.(namespace, name) ?? { known: false };
    if (other.known) return other.object;
    return this.#d.api.get(DEPLOYMENTS, namespace, name);
  }

  /** Server-side apply of the rendered Deployment: writes only the fields Kurier owns. */
  async #apply(key: string, deploymentKey: string, body: KubeObject): Promise<KubeObject> {
    const [namespace = '', name = ''] = deploymentKey.split('/');
    const live = await this.#d.api.apply(DEPLOYMENTS, namespace, name, body);
    this.#converged.set(deploymentKey, { fingerprint: fingerprintOf(live), resourceVersion: live.metadata.resourceVersion });
    this.#deploymentOf.set(key, deploymentKey);
    if (this.#d.cachedDeployment(namespace, name)?.metadata.resourceVersion !== live.metadata.resourceVersion) {
      this.#applied.set(deploymentKey, { deployment: trimForCache(live), at: this.#d.clock.now() });
    }
    return live;
  }

  /** True when this trigger's Deployment existed before (so a missing one may have been collected). */
  #hadDeployment(key: string, trigger: Trigger, deploymentKey: string): boolean {
    const recorded = trigger.status?.deployment;
    return this.#deploymentOf.get(key) === deploymentKey || (recorded !== undefined && `${recorded.namespace}/${recorded.name}` === deploymentKey);
  }

  /** Asks the API server whether the trigger as cached still exists and is not being deleted. */
  async #isCurrent(kind: KindInfo, trigger: Trigger): Promise<boolean> {
    const current = await this.#d.api.get(this.#resource(kind), trigger.metadata.namespace ?? 'default', trigger.metadata.name);
    return current !== undefined && current.metadata.uid === trigger.metadata.uid && current.metadata.deletionTimestamp === undefined;
  }

  /**
   * Why the live Deployment needs an apply, or `undefined` when it matches. Fields other writers
   * own (replicas under an autoscaler, `kubectl rollout restart`'s annotation) and the API server's
   * normalisation (`0.5` → `500m`, dropped unknown fields) are no difference: when the live object
   * changed since it last matched, a dry-run apply says whether applying would change anything.
   */
  async #difference(live: KubeObject, body: KubeObject, deploymentKey: string): Promise<string | undefined> {
    const liveHash = live.metadata.annotations?.[SPEC_HASH];
    const wantHash = body.metadata.annotations?.[SPEC_HASH];
    if (liveHash !== wantHash) return 'the trigger changed';
    if (!isSubset(body.metadata.labels ?? {}, live.metadata.labels ?? {})) return 'its labels were edited';
    const wantOwners = Array.isArray(body.metadata.ownerReferences) ? body.metadata.ownerReferences : [];
    const liveOwners = live.metadata.ownerReferences ?? [];
    if (!wantOwners.every((o) => liveOwners.some((l) => l.uid === o.uid && l.controller === o.controller))) {
      return 'its owner reference was removed';
    }
    const known = this.#converged.get(deploymentKey);
    // the very object that last matched: no need to hash it again
    if (known !== undefined && live.metadata.resourceVersion !== undefined && known.resourceVersion === live.metadata.resourceVersion) return undefined;
    const fingerprint = fingerprintOf(live);
    if (known?.fingerprint === fingerprint) {
      this.#converged.set(deploymentKey, { fingerprint, resourceVersion: live.metadata.resourceVersion });
      return undefined;
    }
    const [namespace = '', name = ''] = deploymentKey.split('/');
    const wouldBe = await this.#d.api.apply(DEPLOYMENTS, namespace, name, body, { dryRun: true });
    if (fingerprintOf(wouldBe) === fingerprint) {
      this.#converged.set(deploymentKey, { fingerprint, resourceVersion: live.metadata.resourceVersion });
      return undefined;
    }
    return 'a field Kurier owns was changed';
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
    return this.#rememberOwnWrite(this.#keyOf(trigger), trigger, updated as unknown as Trigger);
  }

  async #setFinalizer(kind: KindInfo, trigger: Trigger, present: boolean): Promise<Trigger> {
    const others = (trigger.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    const finalizers = present ? [...others, FINALIZER] : others;
    const ns = trigger.metadata.namespace ?? 'default';
    const updated = await this.#d.api.replace(this.#resource(kind), ns, trigger.metadata.name, {
      ...(trigger as unknown as KubeObject),
      metadata: { ...trigger.metadata, finalizers },
    });
    return this.#rememberOwnWrite(this.#keyOf(trigger), trigger, updated as unknown as Trigger);
  }

  async #finalize(kind: KindInfo, trigger: Trigger): Promise<void> {
    if (!(trigger.metadata.finalizers ?? []).includes(FINALIZER)) return;
    const key = this.#keyOf(trigger);
    const places: { name: string; namespace: string }[] = [];
    if (trigger.status?.deployment !== undefined) places.push(trigger.status.deployment);
    try {
      const desired = this.#d.render(trigger);
      if (!places.some((p) => p.name === desired.metadata.name && p.namespace === desired.metadata.namespace)) {
        places.push({ name: desired.metadata.name, namespace: desired.metadata.namespace });
      }
    } catch (err) {
      if (!this.#d.isRenderError(err)) throw err;
    }
    for (const place of places) {
      const deploymentKey = `${place.namespace}/${place.name}`;
      try {
        await this.#deleteIfOwned(trigger, place);
      } catch (err) {
        if (!(err instanceof KubeCallError) || !isPersistent(err)) throw err;
        if (!this.#hadDeployment(key, trigger, deploymentKey)) {
          // never created (its create was refused too): nothing can be left behind there
          this.#d.log.info({ trigger: key, deployment: deploymentKey, err: err.message }, 'cannot look at a Deployment that was never created; not waiting for it');
          continue;
        }
        await this.#reportProblem(
          kind,
          trigger,
          Reason.CleanupRefused,
          `cannot delete Deployment ${deploymentKey} of this deleted trigger (${err.message}); grant the controller get and delete on deployments in "${place.namespace}", or delete the Deployment yourself and then remove the finalizer ${FINALIZER} from this trigger`,
        );
        throw err;
      }
    }
    await this.#setFinalizer(kind, trigger, false);
    this.#forget(key);
    this.#d.log.info({ trigger: key }, 'cleaned up after a deleted trigger');
  }

  async #deleteIfOwned(trigger: Trigger, place: { name: string; namespace: string }): Promise<void> {
    const triggerNs = trigger.metadata.namespace ?? 'default';
    const crossNamespace = place.namespace !== triggerNs;
    const live = await this.#d.api.get(DEPLOYMENTS, place.namespace, place.name);
    if (live === undefined || !this.#owns(live, trigger, crossNamespace)) return;
    if (await this.#d.api.delete(DEPLOYMENTS, place.namespace, place.name)) {
      this.#converged.delete(`${place.namespace}/${place.name}`);
      this.#applied.delete(`${place.namespace}/${place.name}`);
      await this.#d.events.record(
        this.#subject(trigger),
        EventType.Normal,
        'DeploymentDeleted',
        `Deleted Deployment ${place.namespace}/${place.name}`,
      );
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
