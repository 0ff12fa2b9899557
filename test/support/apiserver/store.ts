/** Object metadata as stored. */
export interface Meta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  [k: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: object;
  subresource?: string;
}

/** A Kubernetes object as the double stores it. */
export interface KObj {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  [k: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change, kept in the history that watches replay. */
export interface StoredEvent {
  rv: number;
  type: EventType;
  storage: string;
  obj: KObj;
  prev: KObj | undefined;
}

/** A live watch: gets each change of its storage as it happens. */
export interface WatchSink {
  storage: string;
  deliver(ev: StoredEvent): void;
}

const keyOf = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;

/** Where an object lives: its storage and its key in that storage. */
export interface Locator {
  storage: string;
  key: string;
}

/** Told of every stored change, after the watches (the garbage collector's queue). */
export type ChangeListener = (storage: string, obj: KObj, removed: boolean) => void;

/**
 * Objects by storage, one global resourceVersion counter (as etcd's revision), a bounded change history for
 * watches, and the low-water mark below which resourceVersions count as compacted (410 Gone).
 */
export class Store {
  private rv = 1000;
  private readonly objects = new Map<string, Map<string, KObj>>();
  /** uid → where the object is: owner look-ups stay O(1) however many objects there are. */
  private readonly byUid = new Map<string, Locator>();
  /** owner uid → the objects that name it in an ownerReference (the garbage collector's graph). */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly changeListeners: ChangeListener[] = [];
  readonly history: StoredEvent[] = [];
  readonly sinks = new Set<WatchSink>();
  /** Watches (and exact lists) from a resourceVersion below this answer 410 Gone. */
  compactedBelow = 0;
  readonly historyLimit: number;

  constructor(historyLimit = 10_000) {
    this.historyLimit = historyLimit;
  }

  get currentRv(): number {
    return this.rv;
  }

  /**
   * Compacts: every resourceVersion issued so far becomes too old to resume from. The counter moves
   * on by one so that a relist answers a version a watch can resume from (no relist loop).
   */
  compact(): void {
    this.compactedBelow = ++this.rv;
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestResumable(): number {
    const first = this.history[0];
    const fromHistory = first && this.history.length >= this.historyLimit ? first.rv : 0;
    return Math.max(this.compactedBelow, fromHistory);
  }

  private bucket(storage: string): Map<string, KObj> {
    let b = this.objects.get(storage);
    if (!b) {
      b = new Map();
      this.objects.set(storage, b);
    }
    return b;
  }

  onChange(listener: ChangeListener): void {
    this.changeListeners.push(listener);
  }

  private index(storage: string, key: string, prev: KObj | undefined, next: KObj | undefined): void {
    const ref = `${storage}\u0000${key}`;
    if (prev?.metadata.uid !== undefined) this.byUid.delete(prev.metadata.uid);
    for (const o of prev?.metadata.ownerReferences ?? []) {
      const set = this.dependents.get(o.uid);
      set?.delete(ref);
      if (set?.size === 0) this.dependents.delete(o.uid);
    }
    if (next?.metadata.uid !== undefined) this.byUid.set(next.metadata.uid, { storage, key });
    for (const o of next?.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(o.uid);
      if (!set) {
        set = new Set();
        this.dependents.set(o.uid, set);
      }
      set.add(ref);
    }
  }

  get(storage: string, ns: string | undefined, name: string): KObj | undefined {
    const o = this.bucket(storage).get(keyOf(ns, name));
    return o ? structuredClone(o) : undefined;
  }

  list(storage: string, ns?: string): KObj[] {
    const out: KObj[] = [];
    for (const o of this.bucket(storage).values()) if (ns === undefined || o.metadata.namespace === ns) out.push(structuredClone(o));
    out.sort((a, b) => keyOf(a.metadata.namespace, a.metadata.name ?? '').localeCompare(keyOf(b.metadata.namespace, b.metadata.name ?? '')));
    return out;
  }

  storages(): string[] {
    return [...this.objects.keys()];
  }

  /** Writes an object under a new resourceVersion and tells the watches. */
  put(storage: string, obj: KObj): KObj {
    return structuredClone(this.putOwned(storage, structuredClone(obj)));
  }

  /**
   * `put` without the copies: the store keeps `obj` itself (the caller hands it over and must not
   * change it afterwards) and returns it, as stored, for reading only.
   */
  putOwned(storage: string, obj: KObj): KObj {
    const b = this.bucket(storage);
    const key = keyOf(obj.metadata.namespace, obj.metadata.name ?? '');
    const prev = b.get(key);
    const stored = obj;
    stored.metadata.resourceVersion = String(++this.rv);
    b.set(key, stored);
    this.index(storage, key, prev, stored);
    this.record({ rv: this.rv, type: prev ? 'MODIFIED' : 'ADDED', storage, obj: stored, prev });
    for (const l of this.changeListeners) l(storage, stored, false);
    return stored;
  }

  /** Removes an object; the DELETED event carries the deletion's resourceVersion, as etcd's does. */
  remove(storage: string, ns: string | undefined, name: string): KObj | undefined {
    const b = this.bucket(storage);
    const key = keyOf(ns, name);
    const prev = b.get(key);
    if (!prev) return undefined;
    b.delete(key);
    this.index(storage, key, prev, undefined);
    const gone = structuredClone(prev);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, type: 'DELETED', storage, obj: gone, prev });
    for (const l of this.changeListeners) l(storage, gone, true);
    return structuredClone(gone);
  }

  private record(ev: StoredEvent): void {
    this.history.push(ev);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    for (const s of [...this.sinks]) if (s.storage === ev.storage) s.deliver(ev);
  }

  /** Events of a storage after `rv`, oldest first. */
  since(storage: string, rv: number): StoredEvent[] {
    return this.history.filter((e) => e.storage === storage && e.rv > rv);
  }

  /** Every stored object (for garbage collection). */
  *all(): Generator<{ storage: string; obj: KObj }> {
    for (const [storage, b] of this.objects) for (const obj of b.values()) yield { storage, obj };
  }

  /** The stored object (not a copy) with this uid. */
  findByUid(uid: string): { storage: string; obj: KObj } | undefined {
    const at = this.byUid.get(uid);
    const obj = at && this.objects.get(at.storage)?.get(at.key);
    return at && obj ? { storage: at.storage, obj } : undefined;
  }

  /** Copies of the objects whose ownerReferences name this uid. */
  dependentsOf(uid: string): { storage: string; obj: KObj }[] {
    const out: { storage: string; obj: KObj }[] = [];
    for (const ref of this.dependents.get(uid) ?? []) {
      const [storage = '', key = ''] = ref.split('\u0000');
      const obj = this.objects.get(storage)?.get(key);
      if (obj) out.push({ storage, obj: structuredClone(obj) });
    }
    return out;
  }

  /** The stored object at a locator (not a copy: for reading only). */
  peek(storage: string, key: string): KObj | undefined {
    return this.objects.get(storage)?.get(key);
  }

  /** A copy of the object at a locator. */
  at(storage: string, key: string): KObj | undefined {
    const o = this.objects.get(storage)?.get(key);
    return o ? structuredClone(o) : undefined;
  }

  /** The storage key of an object. */
  static keyOf(obj: KObj): string {
    return keyOf(obj.metadata.namespace, obj.metadata.name ?? '');
  }
}
