/**
 * client-node informers made fit for a controller: restarted with capped exponential backoff after
 * any error (client-node gives up after a non-410 error), with a periodic resync and a `synced`
 * flag for `/readyz`. Handlers should only enqueue keys.
 */
import { ListWatch, Watch, type Informer, type KubeConfig, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import { sleep, systemClock, type Clock, type TimerHandle } from './clock.js';
import type { KubeApi, KubeObject, Resource } from './kube.js';
import type { Logger } from './logger.js';

export interface InformerHandlers {
  onChange(obj: KubeObject): void;
  onDelete(obj: KubeObject): void;
}

export interface InformerOptions {
  name: string;
  resource: Resource;
  /** `undefined` watches every namespace. */
  namespace: string | undefined;
  labelSelector?: string;
  /** What the cache keeps of each object (default `trimForCache`: everything but managedFields). */
  trim?: (obj: KubeObject) => KubeObject;
  /** First restart delay after an error. */
  restartBaseMs?: number;
  /** Cap on the restart delay. */
  restartMaxMs?: number;
  clock?: Clock;
  log: Logger;
}

/**
 * Drops `metadata.managedFields` before an object reaches the cache: the controller never reads
 * it, and at 1,000 Deployments it is most of the cache's memory (controller-runtime strips it too).
 */
export function trimForCache<T extends object>(obj: T): T {
  const meta = (obj as { metadata?: { managedFields?: unknown } }).metadata;
  if (meta !== undefined) delete meta.managedFields;
  return obj;
}

/**
 * Only what tells whose an object is: identity, labels, owner references and the annotations named
 * in `keep`. For caches of objects that are not Kurier's (many, and changing all the time), where
 * a full copy would cost memory for nothing.
 */
export function ownershipOnly(keep: readonly string[]): (obj: KubeObject) => KubeObject {
  return (obj) => {
    const m = obj.metadata;
    const meta: KubeObject['metadata'] = { name: m.name };
    if (m.namespace !== undefined) meta.namespace = m.namespace;
    if (m.uid !== undefined) meta.uid = m.uid;
    if (m.resourceVersion !== undefined) meta.resourceVersion = m.resourceVersion;
    if (m.labels !== undefined) meta.labels = m.labels;
    if (m.ownerReferences !== undefined) meta.ownerReferences = m.ownerReferences;
    const annotations = Object.entries(m.annotations ?? {}).filter(([k]) => keep.includes(k));
    if (annotations.length > 0) meta.annotations = Object.fromEntries(annotations);
    const stub: KubeObject = { metadata: meta };
    if (obj.apiVersion !== undefined) stub.apiVersion = obj.apiVersion;
    if (obj.kind !== undefined) stub.kind = obj.kind;
    return stub;
  };
}

/**
 * The informer's watch: asks for bookmarks (so a quiet watch resumes from a recent
 * resourceVersion instead of an old one the server may have compacted), trims objects for the
 * cache, and says when a watch stream is open, which is as good a sign of health as a list.
 */
class TrimmingWatch extends Watch {
  readonly #onOpen: () => void;
  readonly #trim: (obj: KubeObject) => KubeObject;
  constructor(kc: KubeConfig, onOpen: () => void, trim: (obj: KubeObject) => KubeObject) {
    super(kc);
    this.#onOpen = onOpen;
    this.#trim = trim;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: object, watchObj?: object) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const controller = await super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true },
      (phase, apiObj: object, watchObj?: object) => {
        if (phase !== 'ERROR') this.#onOpen();
        // an ERROR event carries a Status, not an object of the watched kind
        callback(phase, phase === 'ERROR' ? apiObj : this.#trim(apiObj as KubeObject), watchObj);
      },
      done,
    );
    this.#onOpen();
    return controller;
  }
}

function watchPath(r: Resource, namespace: string | undefined): string {
  const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  return namespace === undefined ? `${prefix}/${r.plural}` : `${prefix}/namespaces/${namespace}/${r.plural}`;
}

/** One list+watch of one resource in one namespace (or all). */
export class ResilientInformer {
  readonly name: string;
  readonly #informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #baseMs: number;
  readonly #maxMs: number;
  #failures = 0;
  #synced = false;
  #stopped = true;
  #restartTimer: TimerHandle | undefined;
  /** Restarts seen, for tests and logs. */
  restarts = 0;

  constructor(kc: KubeConfig, api: KubeApi, options: InformerOptions, handlers: InformerHandlers) {
    this.name = options.name;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log;
    this.#baseMs = options.restartBaseMs ?? 1000;
    this.#maxMs = options.restartMaxMs ?? 30_000;
    const trim = options.trim ?? trimForCache;
    const list = async (): Promise<{ metadata?: { resourceVersion?: string }; items: KubeObject[] }> => {
      const result = await api.list(options.resource, options.namespace, options.labelSelector);
      result.items = result.items.map(trim);
      this.#synced = true;
      this.#onHealthy();
      return result;
    };
    // what makeInformer builds, with a watch that trims objects; the list function is typed for
    // typed clients, ours returns plain JSON lists
    this.#informer = new ListWatch<KubernetesObject>(
      watchPath(options.resource, options.namespace),
      new TrimmingWatch(
        kc,
        () => {
          this.#onHealthy();
        },
        trim,
      ),
      list as never,
      false,
      options.labelSelector,
    );
    this.#informer.on('add', (obj) => {
      handlers.onChange(obj as KubeObject);
    });
    this.#informer.on('update', (obj) => {
      handlers.onChange(obj as KubeObject);
    });
    this.#informer.on('delete', (obj) => {
      handlers.onDelete(obj as KubeObject);
    });
    this.#informer.on('error', (err?: unknown) => {
      this.#onError(err);
    });
  }

  /** True once the first list succeeded; stays true across restarts (the cache is kept). */
  get synced(): boolean {
    return this.#synced;
  }

  /** Starts listing and watching; resolves after the first attempt (successful or not). */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#informer.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#restartTimer?.cancel();
    this.#restartTimer = undefined;
    await this.#informer.stop();
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.#informer.get(name, namespace) as KubeObject | undefined;
  }

  list(): KubeObject[] {
    return this.#informer.list() as KubeObject[];
  }

  /** Restart delay for the next error; rises only while errors follow each other. */
  get nextRestartDelayMs(): number {
    return Math.min(this.#baseMs * 2 ** this.#failures, this.#maxMs);
  }

  /** A list answered or a watch stream opened: the next error restarts after the base delay again. */
  #onHealthy(): void {
    if (this.#failures > 0) this.#log.info({ informer: this.name, afterFailures: this.#failures }, 'informer connected again');
    this.#failures = 0;
  }

  #onError(err: unknown): void {
    if (this.#stopped || this.#restartTimer !== undefined) return;
    const delay = this.nextRestartDelayMs;
    this.#failures += 1;
    this.#log.warn({ informer: this.name, err, retryInMs: delay }, 'informer stopped on an error; restarting');
    this.#restartTimer = this.#clock.setTimer(() => {
      this.#restartTimer = undefined;
      if (this.#stopped) return;
      this.restarts += 1;
      this.#informer.start().catch((e: unknown) => {
        this.#onError(e);
      });
    }, delay);
  }
}

/** Calls `tick` every `periodMs` until `signal` aborts; `periodMs` 0 disables it. */
export async function runResync(clock: Clock, periodMs: number, tick: () => void, signal: AbortSignal): Promise<void> {
  if (periodMs <= 0) return;
  const aborted = (): boolean => signal.aborted;
  while (!aborted()) {
    await sleep(clock, periodMs, signal);
    if (!aborted()) tick();
  }
}
