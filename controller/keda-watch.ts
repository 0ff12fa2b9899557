/**
 * Whether the cluster has KEDA, and a cache of the KEDA objects Kurier wrote. The API server serves
 * `keda.sh/v1alpha1` only once KEDA's CRDs are installed; discovery is asked at start and every
 * period after, so KEDA installed (or removed) later is noticed without a restart. Discovery is
 * open to every authenticated user: it needs no RBAC rule. While KEDA is there, informers cache the
 * ScaledObjects and TriggerAuthentications labelled `app.kubernetes.io/managed-by=kurier`.
 */
import { sleep, type Clock } from './clock.js';
import type { ResilientInformer } from './informers.js';
import type { KubeObject, Resource } from './kube.js';
import type { Logger } from './logger.js';

export const KEDA_GROUP = 'keda.sh';
export const KEDA_VERSION = 'v1alpha1';
export const SCALED_OBJECTS: Resource = { group: KEDA_GROUP, version: KEDA_VERSION, plural: 'scaledobjects' };
export const TRIGGER_AUTHENTICATIONS: Resource = { group: KEDA_GROUP, version: KEDA_VERSION, plural: 'triggerauthentications' };
const NEEDED = [SCALED_OBJECTS, TRIGGER_AUTHENTICATIONS] as const;

/** What discovery last said: KEDA served, not served (naming the missing CRDs), or no answer yet. */
export type KedaState =
  | { readonly available: true }
  | { readonly available: false; readonly reason: 'NotInstalled'; readonly missing: readonly string[] }
  | { readonly available: false; readonly reason: 'DiscoveryFailed'; readonly error: string };

export interface KedaWatchOptions {
  /** The plurals `group/version` serves, or undefined when it is not served. */
  discover(group: string, version: string): Promise<readonly string[] | undefined>;
  /** A started-on-demand informer of `resource` in `namespace` (undefined: all). */
  informer(resource: Resource, namespace: string | undefined): ResilientInformer;
  /** Namespaces watched (`[undefined]` for all). */
  scopes: readonly (string | undefined)[];
  /** Re-discovery period. */
  periodMs: number;
  /** Called after KEDA appeared or went away: every trigger should be reconciled again. */
  onChange(): void;
  clock: Clock;
  log: Logger;
}

const crdName = (r: Resource): string => `${r.plural}.${r.group}`;

export class KedaWatch {
  readonly #o: KedaWatchOptions;
  #state: KedaState = { available: false, reason: 'DiscoveryFailed', error: 'not asked yet' };
  /** plural → namespace ('' = all) → informer; empty while KEDA is absent. */
  #informers = new Map<string, Map<string, ResilientInformer>>();

  constructor(options: KedaWatchOptions) {
    this.#o = options;
  }

  get state(): KedaState {
    return this.#state;
  }

  /** A Kurier-labelled KEDA object from the cache (undefined while KEDA is absent). */
  cached(resource: Resource, namespace: string, name: string): KubeObject | undefined {
    const byNs = this.#informers.get(resource.plural);
    return (byNs?.get('') ?? byNs?.get(namespace))?.get(namespace, name);
  }

  /** Asks discovery once; on a change starts (and waits for the first list of) or stops the informers. */
  async refresh(): Promise<void> {
    let next: KedaState;
    try {
      const served = await this.#o.discover(KEDA_GROUP, KEDA_VERSION);
      const missing = NEEDED.filter((r) => served?.includes(r.plural) !== true).map(crdName);
      next = missing.length === 0 ? { available: true } : { available: false, reason: 'NotInstalled', missing };
    } catch (err) {
      // keep acting on what was last known; only a first failure is recorded as the state
      this.#o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'KEDA discovery failed; asking again later');
      if (this.#state.available || this.#state.reason === 'NotInstalled') return;
      next = { available: false, reason: 'DiscoveryFailed', error: err instanceof Error ? err.message : String(err) };
    }
    const was = this.#state;
    if (JSON.stringify(next) === JSON.stringify(was)) return;
    if (next.available) {
      await this.#startInformers();
      this.#o.log.info({ group: `${KEDA_GROUP}/${KEDA_VERSION}` }, 'KEDA found: writing ScaledObjects for triggers with spec.autoscaling');
    } else if (was.available) {
      await this.#stopInformers();
      this.#o.log.warn({ group: `${KEDA_GROUP}/${KEDA_VERSION}`, state: next }, 'KEDA is gone: triggers with spec.autoscaling run their minimum replicas');
    }
    this.#state = next;
    this.#o.onChange();
  }

  /** Re-discovers every period until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#o.periodMs <= 0) return;
    const aborted = (): boolean => signal.aborted;
    while (!aborted()) {
      await sleep(this.#o.clock, this.#o.periodMs, signal);
      if (!aborted()) await this.refresh();
    }
  }

  async stop(): Promise<void> {
    await this.#stopInformers();
  }

  async #startInformers(): Promise<void> {
    for (const resource of NEEDED) {
      const byNs = new Map<string, ResilientInformer>();
      for (const ns of this.#o.scopes) byNs.set(ns ?? '', this.#o.informer(resource, ns));
      this.#informers.set(resource.plural, byNs);
    }
    const all = [...this.#informers.values()].flatMap((m) => [...m.values()]);
    await Promise.all(all.map((i) => i.start()));
  }

  async #stopInformers(): Promise<void> {
    const all = [...this.#informers.values()].flatMap((m) => [...m.values()]);
    this.#informers = new Map();
    await Promise.all(all.map((i) => i.stop()));
  }
}
