/**
 * Keeps the targets ConfigMap of every fan-out trigger (`spec.functionSelector`) current: the
 * Services its selector chooses, written with server-side apply only when the set changed. The
 * Deployment never changes for a target change (no rollout): the dispatcher re-reads the mounted file.
 */
import { contentHash } from '../render/hash.js';
import { jsonEqual } from '../render/json.js';
import { LABEL_COMPONENT, TARGETS_COMPONENT, targetsConfigMap, usesFunctionSelector } from '../render/function-targets.js';
import type { OwnerReference, TargetsStatus, Trigger } from '../render/trigger.js';
import { EventType, type EventRecorder } from './events.js';
import { CONFIG_MAPS, type KubeApi, type KubeObject } from './kube.js';
import type { Logger } from './logger.js';
import { selectorMatches, selectTargets, targetsStatus, type LeftOut } from './target-selection.js';

/** Selects the ConfigMaps this module writes (the controller's informer uses it). */
export const TARGETS_CONFIGMAP_SELECTOR = `app.kubernetes.io/managed-by=kurier,${LABEL_COMPONENT}=${TARGETS_COMPONENT}`;

/** What the trigger's status says about its targets. */
export interface TargetsObservation {
  readonly status: TargetsStatus;
  readonly leftOut: readonly LeftOut[];
}

export interface FunctionTargetsDeps {
  api: KubeApi;
  /** The Services of a namespace, from the informer cache. */
  services(namespace: string): readonly KubeObject[];
  /** Every targets ConfigMap in the cache (selected by {@link TARGETS_CONFIGMAP_SELECTOR}). */
  configMaps(): readonly KubeObject[];
  events: EventRecorder;
  log: Logger;
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

export class FunctionTargets {
  readonly #d: FunctionTargetsDeps;
  /**
   * Per ConfigMap: what our last apply wrote and the resourceVersions around it, until the cache
   * shows that write. While the cache still shows the object as it was before, it lags behind us:
   * comparing with it would only repeat the write.
   */
  readonly #written = new Map<string, { fingerprint: string; before: string; after: string }>();
  /** Per trigger key: the Services its selector matched last time (targets and left out). */
  readonly #matched = new Map<string, Set<string>>();

  constructor(deps: FunctionTargetsDeps) {
    this.#d = deps;
  }

  /** Entries kept per trigger and ConfigMap (they go with the trigger). */
  get remembered(): number {
    return this.#written.size + this.#matched.size;
  }

  /**
   * For a fan-out trigger: selects its targets, applies its ConfigMap beside `deployment` when it
   * differs, and says what the status should show. For any other trigger: removes a ConfigMap left
   * from when it had a selector, and returns `undefined`.
   */
  async converge(triggerKey: string, trigger: Trigger, deployment: KubeObject): Promise<TargetsObservation | undefined> {
    const triggerNamespace = trigger.metadata.namespace ?? 'default';
    const place = { name: deployment.metadata.name, namespace: deployment.metadata.namespace ?? triggerNamespace };
    const selector = trigger.spec.functionSelector;
    const selection = selector === undefined ? undefined : selectTargets(this.#d.services(triggerNamespace), selector, triggerNamespace);
    const desired = targetsConfigMap(trigger, place, selection?.targets ?? []);
    const { name, namespace } = desired.metadata;
    await this.#removeStale(trigger, desired.metadata.labels, usesFunctionSelector(trigger.spec) ? keyOf(namespace, name) : undefined);
    if (selection === undefined) {
      this.#matched.delete(triggerKey);
      return undefined;
    }
    this.#matched.set(triggerKey, new Set([...selection.targets.map((t) => t.name), ...selection.leftOut.map((s) => s.name)]));
    const body: KubeObject = { ...desired, metadata: { ...desired.metadata, ownerReferences: [ownerOf(trigger, deployment, namespace === triggerNamespace)] } };
    const cached = this.#d.configMaps().find((c) => c.metadata.name === name && (c.metadata.namespace ?? '') === namespace);
    if (!this.#converged(body, cached)) {
      const before = JSON.stringify(cached?.['data'] ?? null);
      const live = await this.#d.api.apply(CONFIG_MAPS, namespace, name, body);
      this.#written.set(keyOf(namespace, name), { fingerprint: fingerprint(body), before: cached?.metadata.resourceVersion ?? '', after: live.metadata.resourceVersion ?? '' });
      const count = selection.targets.length;
      this.#d.log.info({ trigger: triggerKey, configMap: keyOf(namespace, name), targets: count }, 'wrote the function targets');
      if (before !== JSON.stringify(body['data'])) {
        const names = selection.targets.map((t) => t.name).join(', ');
        await this.#d.events.record(
          { apiVersion: trigger.apiVersion, kind: trigger.kind, metadata: trigger.metadata },
          EventType.Normal,
          'TargetsChanged',
          `${String(count)} target${count === 1 ? '' : 's'} in ConfigMap ${keyOf(namespace, name)}${count === 0 ? '' : `: ${names}`}`,
        );
      }
    }
    return { status: targetsStatus(selection), leftOut: selection.leftOut };
  }

  /** True when a change to `service` may change the targets of the fan-out trigger `trigger`. */
  concerns(triggerKey: string, trigger: Trigger, service: KubeObject): boolean {
    const selector = trigger.spec.functionSelector;
    if (selector === undefined || (trigger.metadata.namespace ?? 'default') !== (service.metadata.namespace ?? 'default')) return false;
    return selectorMatches(selector, service.metadata.labels ?? {}) || this.#matched.get(triggerKey)?.has(service.metadata.name) === true;
  }

  /** The cache showed a targets ConfigMap change: once it shows our own write, stop guarding against its lag. */
  observed(configMap: KubeObject, deleted: boolean): void {
    const key = keyOf(configMap.metadata.namespace ?? '', configMap.metadata.name);
    const written = this.#written.get(key);
    if (written !== undefined && (deleted || configMap.metadata.resourceVersion === written.after)) this.#written.delete(key);
  }

  forget(triggerKey: string): void {
    this.#matched.delete(triggerKey);
  }

  /** Converged: the cache shows what we would write, or still shows the object from before our identical last write. */
  #converged(body: KubeObject, cached: KubeObject | undefined): boolean {
    const key = keyOf(body.metadata.namespace ?? '', body.metadata.name);
    if (cached !== undefined && matches(body, cached)) {
      this.#written.delete(key);
      return true;
    }
    const written = this.#written.get(key);
    return written !== undefined && written.fingerprint === fingerprint(body) && (cached?.metadata.resourceVersion ?? '') === written.before;
  }

  /** Deletes this trigger's targets ConfigMaps other than `keep` (the selector was removed, or the Deployment moved). */
  async #removeStale(trigger: Trigger, labels: Readonly<Record<string, string>>, keep: string | undefined): Promise<void> {
    const uid = trigger.metadata.uid;
    for (const cm of this.#d.configMaps()) {
      const key = keyOf(cm.metadata.namespace ?? '', cm.metadata.name);
      if (key === keep || !Object.entries(labels).every(([k, v]) => cm.metadata.labels?.[k] === v)) continue;
      // labels say whose it is; an owner reference to another trigger of that name (deleted and re-created) is not ours
      const owner = (cm.metadata.ownerReferences ?? []).find((o) => o.kind === trigger.kind);
      if (owner !== undefined && owner.uid !== uid) continue;
      if (await this.#d.api.delete(CONFIG_MAPS, cm.metadata.namespace ?? '', cm.metadata.name)) {
        this.#d.log.info({ trigger: `${trigger.kind}/${trigger.metadata.namespace ?? 'default'}/${trigger.metadata.name}`, configMap: key }, 'deleted a targets ConfigMap no longer used');
      }
      this.#written.delete(key);
    }
  }
}

/**
 * In the trigger's namespace the trigger owns the ConfigMap, as it owns the Deployment. Owner
 * references cannot cross namespaces: beside a Deployment in another namespace, the Deployment owns
 * it (the trigger's finalizer deletes the Deployment, the garbage collector the ConfigMap).
 */
function ownerOf(trigger: Trigger, deployment: KubeObject, sameNamespace: boolean): OwnerReference {
  if (sameNamespace) {
    return { apiVersion: trigger.apiVersion, kind: trigger.kind, name: trigger.metadata.name, uid: trigger.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
  }
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name, uid: deployment.metadata.uid ?? '', controller: true };
}

function fingerprint(body: KubeObject): string {
  return contentHash({ labels: body.metadata.labels ?? {}, owners: (body.metadata.ownerReferences ?? []).map((o) => o.uid), data: body['data'] ?? {} });
}

/** The cached ConfigMap has our data, our labels and our owner. */
function matches(body: KubeObject, cached: KubeObject): boolean {
  const labels = cached.metadata.labels ?? {};
  const owners = cached.metadata.ownerReferences ?? [];
  return (
    jsonEqual(cached['data'] ?? {}, body['data'] ?? {}) &&
    Object.entries(body.metadata.labels ?? {}).every(([k, v]) => labels[k] === v) &&
    (body.metadata.ownerReferences ?? []).every((o) => owners.some((l) => l.uid === o.uid))
  );
}
