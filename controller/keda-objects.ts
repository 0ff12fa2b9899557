/**
 * The KEDA objects a trigger with `spec.autoscaling` owns: its ScaledObject and, when the scaler
 * needs credentials, its TriggerAuthentication, both named like the dispatcher Deployment and
 * written by server-side apply as `kurier-controller`. Without KEDA the dispatcher runs a fixed
 * `max(minReplicas, 1)` replicas and the trigger says why in its `Autoscaling` condition.
 */
import { fallbackReplicas, withFixedReplicas, type KedaObjects } from '../render/autoscaling.js';
import { isSubset } from '../render/json.js';
import { labelValue } from '../render/names.js';
import { SPEC_HASH_ANNOTATION, type Deployment } from '../render/render.js';
import type { Trigger } from '../render/trigger.js';
import { EventType, type EventRecorder } from './events.js';
import { SCALED_OBJECTS, TRIGGER_AUTHENTICATIONS, type KedaState } from './keda-watch.js';
import type { KubeApi, KubeObject, Resource } from './kube.js';
import type { Logger } from './logger.js';
import { AUTOSCALING_CONDITION, Reason, type ReadyState } from './status.js';

export interface KedaObjectsDeps {
  api: KubeApi;
  /** What discovery last said about keda.sh/v1alpha1. */
  state(): KedaState;
  /** A Kurier-labelled KEDA object from the informer cache. */
  cached(resource: Resource, namespace: string, name: string): KubeObject | undefined;
  /** The trigger's KEDA objects as `kurier render` prints them; undefined without spec.autoscaling. */
  render(trigger: Trigger): KedaObjects | undefined;
  events: EventRecorder;
  log: Logger;
}

type Subject = { apiVersion: string; kind: string; metadata: Trigger['metadata'] };
type Place = { name: string; namespace: string };

const KIND_OF = new Map([
  [SCALED_OBJECTS.plural, 'ScaledObject'],
  [TRIGGER_AUTHENTICATIONS.plural, 'TriggerAuthentication'],
]);

/** Ours: controlled by this trigger, or (no controller at all) labelled for it by Kurier. */
function ownedBy(live: KubeObject, trigger: Trigger): boolean {
  const controller = (live.metadata.ownerReferences ?? []).find((o) => o.controller === true);
  if (controller !== undefined) return trigger.metadata.uid !== undefined && controller.uid === trigger.metadata.uid;
  const labels = live.metadata.labels ?? {};
  return labels['app.kubernetes.io/managed-by'] === 'kurier' && labels['kurier.dev/trigger'] === labelValue(trigger.metadata.name) && labels['kurier.dev/kind'] === trigger.kind.toLowerCase() && labels['kurier.dev/trigger-namespace'] === (trigger.metadata.namespace ?? 'default');
}

/** True when the live object still has everything Kurier applies (fields others add stay theirs). */
function matches(live: KubeObject, want: KubeObject): boolean {
  const liveOwners = live.metadata.ownerReferences ?? [];
  return (
    live.metadata.annotations?.[SPEC_HASH_ANNOTATION] === want.metadata.annotations?.[SPEC_HASH_ANNOTATION] &&
    isSubset(want.metadata.labels ?? {}, live.metadata.labels ?? {}) &&
    (want.metadata.ownerReferences ?? []).every((o) => liveOwners.some((l) => l.uid === o.uid && l.controller === o.controller)) &&
    isSubset(want['spec'] ?? {}, live['spec'] ?? {})
  );
}

/** Thrown into the reconciler's refusal path: the name is taken by an object Kurier does not own. */
class NotOwned extends Error {}

export class OwnedKedaObjects {
  readonly #d: KedaObjectsDeps;

  constructor(deps: KedaObjectsDeps) {
    this.#d = deps;
  }

  /** The Deployment to apply: without KEDA, a trigger with spec.autoscaling runs `max(minReplicas, 1)` replicas. */
  deploymentFor<T extends KubeObject>(trigger: Trigger, desired: T): T {
    const autoscaling = trigger.spec.autoscaling;
    if (autoscaling === undefined || this.#d.state().available) return desired;
    return withFixedReplicas(desired as unknown as Deployment, fallbackReplicas(autoscaling)) as unknown as T;
  }

  /**
   * Converges the trigger's KEDA objects next to its Deployment `target` and returns its
   * `Autoscaling` condition (null: the trigger does not autoscale). Objects left from an earlier
   * spec.autoscaling are deleted. Refused requests (403, …) are thrown, as for the Deployment.
   */
  async sync(trigger: Trigger, target: Place): Promise<ReadyState | null> {
    const subject: Subject = { apiVersion: trigger.apiVersion, kind: trigger.kind, metadata: trigger.metadata };
    const wanted = trigger.spec.autoscaling === undefined ? undefined : this.#d.render(trigger);
    const state = this.#d.state();
    if (!state.available) {
      if (wanted === undefined) return null;
      const replicas = fallbackReplicas(trigger.spec.autoscaling ?? {});
      const unavailable: ReadyState =
        state.reason === 'NotInstalled'
          ? {
              status: 'False',
              reason: Reason.KedaNotInstalled,
              message: `KEDA is not installed: the API server does not serve keda.sh/v1alpha1 ${state.missing.join(', ')} (CustomResourceDefinitions ${state.missing.join(', ')}); running ${String(replicas)} replica(s) (minReplicas, at least 1) until KEDA is installed`,
            }
          : { status: 'False', reason: Reason.KedaDiscoveryFailed, message: `cannot tell whether KEDA is installed (discovery of keda.sh/v1alpha1 failed: ${state.error}); running ${String(replicas)} replica(s) meanwhile` };
      await this.#announce(trigger, subject, unavailable);
      return unavailable;
    }
    try {
      // the TriggerAuthentication first: the ScaledObject refers to it by name
      await this.#converge(trigger, subject, TRIGGER_AUTHENTICATIONS, target, wanted?.triggerAuthentication as KubeObject | undefined);
      await this.#converge(trigger, subject, SCALED_OBJECTS, target, wanted?.scaledObject as KubeObject | undefined);
    } catch (err) {
      if (!(err instanceof NotOwned)) throw err;
      const refused: ReadyState = { status: 'False', reason: Reason.KedaObjectNotOwned, message: err.message };
      await this.#announce(trigger, subject, refused);
      return refused;
    }
    if (wanted === undefined) return null;
    const spec = wanted.scaledObject['spec'] as { minReplicaCount: number; maxReplicaCount: number; triggers: { type: string }[] };
    return {
      status: 'True',
      reason: Reason.KedaScaling,
      message: `ScaledObject ${target.namespace}/${target.name} scales Deployment ${target.name} from ${String(spec.minReplicaCount)} to ${String(spec.maxReplicaCount)} replicas on the ${spec.triggers[0]?.type ?? ''} backlog`,
    };
  }

  /** A Warning Event when the condition turns to this problem (not on every pass). */
  async #announce(trigger: Trigger, subject: Subject, state: ReadyState): Promise<void> {
    const before = trigger.status?.conditions?.find((c) => c.type === AUTOSCALING_CONDITION);
    if (before?.reason === state.reason && before.message === state.message) return;
    this.#d.log.warn({ trigger: `${trigger.kind}/${trigger.metadata.namespace ?? 'default'}/${trigger.metadata.name}`, reason: state.reason }, state.message);
    await this.#d.events.record(subject, EventType.Warning, state.reason, state.message);
  }

  /** Applies `want` when the live object differs, or deletes an object of ours that is no longer wanted. */
  async #converge(trigger: Trigger, subject: Subject, resource: Resource, target: Place, want: KubeObject | undefined): Promise<void> {
    const kind = KIND_OF.get(resource.plural) ?? resource.plural;
    const where = `${kind} ${target.namespace}/${target.name}`;
    const cached = this.#d.cached(resource, target.namespace, target.name);
    if (want === undefined) {
      // only the cache is asked: a Kurier-labelled object of this trigger is always in it
      if (cached === undefined || !ownedBy(cached, trigger)) return;
      if (await this.#d.api.delete(resource, target.namespace, target.name)) {
        await this.#d.events.record(subject, EventType.Normal, `${kind}Deleted`, `Deleted ${where}: spec.autoscaling no longer needs it`);
      }
      return;
    }
    // an object without Kurier's labels is not cached: ask before applying over someone else's
    const live = cached ?? (await this.#d.api.get(resource, target.namespace, target.name));
    if (live !== undefined && !ownedBy(live, trigger)) {
      throw new NotOwned(`${where} exists and is not managed by this trigger; Kurier will not touch it: delete or rename it`);
    }
    if (live !== undefined && matches(live, want)) return;
    await this.#d.api.apply(resource, target.namespace, target.name, want);
    const verb = live === undefined ? 'Created' : 'Updated';
    this.#d.log.info({ trigger: `${trigger.kind}/${target.namespace}/${trigger.metadata.name}`, object: where }, `${verb.toLowerCase()} the ${kind}`);
    await this.#d.events.record(subject, EventType.Normal, `${kind}${verb}`, `${verb} ${where}`);
  }
}
