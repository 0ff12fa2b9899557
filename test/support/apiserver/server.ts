import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { builtinFieldTypes, schemaFieldTypes, serverSideApply, trackUpdate } from './apply.js';
import type { FieldTypes } from './apply.js';
import { defaultDeployment, defaultService, eventsV1ToEvent, eventToEventsV1, prepareSecret, validateDeployment, validateEvent, validateService } from './builtin.js';
import { ApiError, alreadyExists, badRequest, conflict, gone, invalid, notFound, qualifiedResource } from './errors.js';
import type { StatusCause } from './errors.js';
import { clone, jsonPatch, mergePatch, stableStringify, strategicMerge } from './patch.js';
import { apiResourceList, apiVersionOf, builtinResources } from './resources.js';
import type { PrinterColumn, ResourceType } from './resources.js';
import { compileCrdSchema } from './schema.js';
import type { SchemaProps } from './schema.js';
import { decodeProtobufObject } from './protobuf.js';
import { QuantityError, canonicalizePodSpecQuantities } from './quantity.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { pruneBuiltin } from './typed.js';
import { Store } from './store.js';
import type { KObj, Locator, OwnerReference, StoredEvent, WatchSink } from './store.js';
import { renderTable, wantsTable } from './table.js';
import { readAsKubectl } from './kubectl-read.js';

/** One request the double answered. */
export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'discovery' | 'other';
  group?: string;
  version?: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  contentType?: string;
  fieldManager?: string;
  userAgent?: string;
  status: number;
  time: string;
}

export interface ServerOptions {
  autoCreateNamespaces: boolean;
  deploymentController: boolean;
  bookmarkIntervalMs: number;
  gcDelayMs: number;
  historyLimit: number;
}

interface Target {
  rt: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

interface Fault {
  remaining: number;
  status: 500 | 429;
  match: ((r: { method: string; path: string }) => boolean) | undefined;
}

/** A standing fault: every matching request is refused (403) or left unanswered until lifted. */
interface StandingFault {
  kind: 'forbid' | 'hang';
  match: (r: RequestRecord) => boolean;
  user: string;
}

interface OpenWatch {
  res: ServerResponse;
  close(): void;
}

type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The request-independent core of the double: storage, resource registry, semantics and faults. */
export class ApiServerCore {
  readonly store: Store;
  readonly options: ServerOptions;
  readonly requests: RequestRecord[] = [];
  private types: ResourceType[] = builtinResources();
  private readonly watches = new Set<OpenWatch>();
  private readonly faults: Fault[] = [];
  private readonly standing = new Set<StandingFault>();
  private readonly hung = new Set<() => void>();
  latencyMs = 0;
  private gcTimer: NodeJS.Timeout | undefined;
  private readonly gcQueue = new Map<string, Locator>();
  private closed = false;

  constructor(options: ServerOptions) {
    this.options = options;
    this.store = new Store(options.historyLimit);
    this.store.onChange((storage, obj, removed) => {
      this.queueForGc(storage, obj, removed);
      if (this.options.deploymentController && storage === 'apps/deployments' && !removed) this.observeDeployment(obj);
    });
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.createNamespace(ns);
  }

  // ---------------------------------------------------------------- registry

  private typeOf(group: string, version: string, resource: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.resource === resource);
  }

  /** The resource type of an apiVersion/kind, if served. */
  typeForKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
  }

  private groups(): { name: string; versions: string[] }[] {
    const out: { name: string; versions: string[] }[] = [];
    for (const t of this.types) {
      if (t.group === '') continue;
      let g = out.find((x) => x.name === t.group);
      if (!g) {
        g = { name: t.group, versions: [] };
        out.push(g);
      }
      if (!g.versions.includes(t.version)) g.versions.push(t.version);
    }
    return out;
  }

  private storageTypes(storage: string): ResourceType[] {
    return this.types.filter((t) => t.storage === storage);
  }

  // ---------------------------------------------------------------- presentation

  /** The object as the given resource version presents it (apiVersion/kind set, events converted). */
  present(rt: ResourceType, obj: KObj): KObj {
    return this.presentView(rt, clone(obj));
  }

  /**
   * `present` without the copy: shares everything below the top level with `obj`, so only for an
   * object that is the caller's own copy, or one serialised or read at once (watch events, responses).
   */
  private presentView(rt: ResourceType, obj: KObj): KObj {
    const out = rt.storage === 'events' && rt.group === 'events.k8s.io' ? eventToEventsV1(clone(obj)) : obj;
    const { apiVersion: _a, kind: _k, ...rest } = out;
    return { apiVersion: apiVersionOf(rt), kind: rt.kind, ...rest };
  }

  private intake(rt: ResourceType, obj: KObj): KObj {
    let out = obj;
    if (rt.storage === 'events' && rt.group === 'events.k8s.io') out = eventsV1ToEvent(out);
    out.apiVersion = apiVersionOf(rt);
    out.kind = rt.kind;
    return out;
  }

  private fieldTypes(rt: ResourceType): FieldTypes {
    return rt.schema ? schemaFieldTypes(rt.schema.root) : builtinFieldTypes;
  }

  // ---------------------------------------------------------------- namespaces

  private createNamespace(name: string): KObj {
    const ns: KObj = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, uid: randomUUID(), creationTimestamp: now(), labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    return this.store.put('/namespaces', ns);
  }

  /** Creates the namespace unless it exists (test setup convenience). */
  ensureNamespace(name: string): void {
    if (!this.store.get('/namespaces', undefined, name)) this.createNamespace(name);
  }

  private checkNamespace(rt: ResourceType, ns: string, name: string, creating: boolean): void {
    const nsObj = this.store.get('/namespaces', undefined, ns);
    if (!nsObj) {
      if (creating && this.options.autoCreateNamespaces) {
        this.createNamespace(ns);
        return;
      }
      throw notFound('', 'namespaces', ns);
    }
    if (creating && nsObj.metadata.deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `${qualifiedResource(rt.group, rt.resource)} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, {
        name,
        group: rt.group || undefined,
        kind: rt.resource,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  // ---------------------------------------------------------------- CRDs

  private crdTypes(crd: KObj): ResourceType[] {
    const spec = (crd.spec ?? {}) as Record<string, unknown>;
    const names = (spec.names ?? {}) as Record<string, unknown>;
    const versions = (Array.isArray(spec.versions) ? spec.versions : []) as Record<string, unknown>[];
    const group = String(spec.group);
    const out: ResourceType[] = [];
    for (const v of versions) {
      if (v.served === false) continue;
      const schema = (v.schema as { openAPIV3Schema?: SchemaProps } | undefined)?.openAPIV3Schema;
      const sub = (v.subresources ?? {}) as Record<string, unknown>;
      const kind = String(names.kind);
      const rt: ResourceType = {
        group,
        version: String(v.name),
        resource: String(names.plural),
        singular: typeof names.singular === 'string' ? names.singular : kind.toLowerCase(),
        kind,
        listKind: typeof names.listKind === 'string' ? names.listKind : `${kind}List`,
        namespaced: spec.scope !== 'Cluster',
        shortNames: Array.isArray(names.shortNames) ? (names.shortNames as string[]) : [],
        categories: Array.isArray(names.categories) ? (names.categories as string[]) : [],
        statusSubresource: isMap(sub.status),
        generation: 'nonMetadata',
        storage: `${group}/${String(names.plural)}`,
        allowCreateOnUpdate: false,
        returnDeletedObject: true,
        fieldSelectors: ['metadata.name', 'metadata.namespace'],
        crd: crd.metadata.name ?? '',
        strategicMerge: false,
      };
      if (schema) rt.schema = compileCrdSchema(schema);
      if (Array.isArray(v.additionalPrinterColumns)) rt.printerColumns = v.additionalPrinterColumns as PrinterColumn[];
      out.push(rt);
    }
    return out;
  }

  private validateCrd(crd: KObj): StatusCause[] {
    const causes: StatusCause[] = [];
    const spec = isMap(crd.spec) ? crd.spec : {};
    const names = isMap(spec.names) ? spec.names : {};
    if (typeof spec.group !== 'string' || spec.group === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.group' });
    if (typeof names.plural !== 'string' || names.plural === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.names.plural' });
    if (typeof names.kind !== 'string' || names.kind === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.names.kind' });
    if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"`, field: 'spec.scope' });
    const expected = `${String(names.plural)}.${String(spec.group)}`;
    if (crd.metadata.name !== expected) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${crd.metadata.name ?? ''}": must be spec.names.plural+"."+spec.group`, field: 'metadata.name' });
    const versions = Array.isArray(spec.versions) ? (spec.versions as Record<string, unknown>[]) : [];
    if (versions.length === 0) causes.push({ reason: 'FieldValueRequired', message: 'Required value: must have exactly one version marked as storage version', field: 'spec.versions' });
    else if (versions.filter((v) => v.storage === true).length !== 1) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(versions.map((v) => v.name))}: must have exactly one version marked as storage version`, field: 'spec.versions' });
    versions.forEach((v, i) => {
      const schema = (v.schema as { openAPIV3Schema?: SchemaProps } | undefined)?.openAPIV3Schema;
      if (!schema) causes.push({ reason: 'FieldValueRequired', message: 'Required value: schemas are required', field: `spec.versions[${i}].schema.openAPIV3Schema` });
      else if (schema.type !== 'object') causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(schema.type ?? '')}: must be object at the root`, field: `spec.versions[${i}].schema.openAPIV3Schema.type` });
      else {
        try {
          causes.push(...compileCrdSchema(schema, `spec.versions[${String(i)}].schema.openAPIV3Schema`).ruleCauses);
        } catch (e) {
          causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: the schema does not compile: ${(e as Error).message}`, field: `spec.versions[${i}].schema.openAPIV3Schema` });
        }
      }
    });
    return causes;
  }

  private crdStatus(crd: KObj): Record<string, unknown> {
    const spec = crd.spec as Record<string, unknown>;
    const names = spec.names as Record<string, unknown>;
    const versions = spec.versions as Record<string, unknown>[];
    const t = now();
    const prev = isMap(crd.status) && Array.isArray(crd.status.storedVersions) ? (crd.status.storedVersions as string[]) : [];
    const storage = String(versions.find((v) => v.storage === true)?.name);
    return {
      acceptedNames: { ...names, singular: names.singular ?? String(names.kind).toLowerCase(), listKind: names.listKind ?? `${String(names.kind)}List` },
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: t },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: t },
      ],
      storedVersions: prev.includes(storage) ? prev : [...prev, storage],
    };
  }

  private registerCrd(crd: KObj): void {
    this.types = this.types.filter((t) => t.crd !== crd.metadata.name);
    this.types.push(...this.crdTypes(crd));
  }

  private unregisterCrd(crd: KObj): void {
    const storages = new Set(this.types.filter((t) => t.crd === crd.metadata.name).map((t) => t.storage));
    this.types = this.types.filter((t) => t.crd !== crd.metadata.name);
    for (const storage of storages) for (const o of this.store.list(storage)) this.store.remove(storage, o.metadata.namespace, o.metadata.name ?? '');
  }

  /** Installs CRDs from multi-document YAML read as kubectl reads it (YAML 1.1), as `kubectl apply -f crd.yaml` would. */
  installCrdYaml(text: string): KObj[] {
    const rt = this.typeOf('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
    const out: KObj[] = [];
    for (const doc of readAsKubectl(text)) {
      const obj = doc as KObj;
      if (!isMap(obj) || obj.kind !== 'CustomResourceDefinition') continue;
      const existing = this.store.get(rt.storage, undefined, obj.metadata.name ?? '');
      const target: Target = { rt, namespace: undefined, name: obj.metadata.name, subresource: undefined };
      const ctx = { manager: 'apiserver-double', fieldValidation: 'Strict' as FieldValidation, warnings: [], dryRun: false };
      out.push(clone(existing ? this.writeUpdate(target, existing, obj, ctx, 'update') : this.writeCreate(target, obj, ctx)));
    }
    return out;
  }

  // ---------------------------------------------------------------- write pipeline

  private validateMeta(rt: ResourceType, obj: KObj, creating: boolean): StatusCause[] {
    const causes: StatusCause[] = [];
    const name = obj.metadata.name ?? '';
    if (creating) {
      const re = rt.resource === 'namespaces' ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
      const max = rt.resource === 'namespaces' ? 63 : 253;
      if (!re.test(name) || name.length > max) {
        const what = rt.resource === 'namespaces' ? 'a lowercase RFC 1123 label' : 'a lowercase RFC 1123 subdomain';
        causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${name}": ${what} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`, field: 'metadata.name' });
      }
    }
    for (const [k, v] of Object.entries(obj.metadata.labels ?? {})) {
      if (!QUALIFIED_NAME.test(k) || k.split('/').pop()!.length > 63) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'`, field: 'metadata.labels' });
      if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, field: 'metadata.labels' });
    }
    for (const [k, v] of Object.entries(obj.metadata.annotations ?? {})) {
      if (typeof v !== 'string') causes.push({ reason: 'FieldValueTypeInvalid', message: `Invalid value: ${JSON.stringify(v)}: annotation values must be strings`, field: `metadata.annotations.${k}` });
    }
    (obj.metadata.ownerReferences ?? []).forEach((r: OwnerReference, i) => {
      for (const f of ['apiVersion', 'kind', 'name', 'uid'] as const) {
        if (!r[f]) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `metadata.ownerReferences[${i}].${f}` });
      }
    });
    if ((obj.metadata.ownerReferences ?? []).filter((r) => r.controller === true).length > 1) {
      causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: only one reference can have Controller set to true', field: 'metadata.ownerReferences' });
    }
    return causes;
  }

  /** Unknown (already pruned) fields: refused under Strict, a Warning header under Warn, silence under Ignore. */
  private checkUnknownFields(rt: ResourceType, unknown: string[], ctx: WriteCtx): void {
    if (unknown.length && ctx.fieldValidation === 'Strict') {
      throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
    }
    if (ctx.fieldValidation === 'Warn') for (const u of unknown) ctx.warnings.push(`unknown field "${u}"`);
  }

  /** Defaulting, pruning and validation of the object a write would store. */
  private admit(rt: ResourceType, obj: KObj, old: KObj | undefined, ctx: WriteCtx, subresource: string | undefined): void {
    // decoding into Go structs: quantities come back canonical, a bad one fails the decoding as a whole
    if (rt.resource === 'deployments' && rt.group === 'apps' && isMap(obj.spec) && isMap(obj.spec.template)) {
      try {
        canonicalizePodSpecQuantities(obj.spec.template.spec);
      } catch (e) {
        if (e instanceof QuantityError) throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: ${e.message}`);
        throw e;
      }
    }
    // decoding drops unknown fields and nulls before anything is defaulted or validated
    this.checkUnknownFields(rt, rt.schema ? rt.schema.prune(obj) : pruneBuiltin(rt.group, rt.kind, obj), ctx);
    if (rt.resource === 'deployments' && rt.group === 'apps') defaultDeployment(obj);
    if (rt.resource === 'secrets' && rt.group === '') prepareSecret(obj);
    if (rt.resource === 'services' && rt.group === '') defaultService(obj);
    if (rt.resource === 'namespaces' && rt.group === '') {
      const name = obj.metadata.name ?? '';
      obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': name };
      const spec = isMap(obj.spec) ? obj.spec : {};
      spec.finalizers ??= ['kubernetes'];
      obj.spec = spec;
      if (!old) obj.status = { phase: 'Active' };
    }
    const kindGroup = rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
    const name = obj.metadata.name ?? obj.metadata.generateName ?? '';
    if (rt.schema) {
      const causes = rt.schema.defaultAndValidate(obj, old);
      if (causes.length) throw invalid(kindGroup, name, causes, rt.group, rt.kind);
    }
    const causes = subresource === 'status' ? [] : this.validateMeta(rt, obj, !old);
    if (rt.resource === 'deployments' && rt.group === 'apps' && subresource !== 'status') causes.push(...validateDeployment(obj, old));
    if (rt.resource === 'services' && rt.group === '' && subresource !== 'status') causes.push(...validateService(obj));
    if (rt.resource === 'customresourcedefinitions') causes.push(...this.validateCrd(obj));
    if (rt.storage === 'events' && !old) causes.push(...validateEvent(rt.group === 'events.k8s.io' ? eventToEventsV1(obj) : obj, rt.group === 'events.k8s.io'));
    if (old?.metadata.deletionTimestamp) {
      const added = (obj.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
      if (added.length) causes.push({ reason: 'FieldValueForbidden', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => `"${f}"`).join(', ')}}`, field: 'metadata.finalizers' });
    }
    if (causes.length) throw invalid(kindGroup, name, causes, rt.group, rt.kind);
  }

  private generateName(rt: ResourceType, ns: string | undefined, prefix: string): string {
    for (let i = 0; i < 8; i++) {
      let s = '';
      for (let j = 0; j < 5; j++) s += GENERATE_ALPHABET.charAt(Math.floor(Math.random() * GENERATE_ALPHABET.length));
      const name = `${prefix}${s}`;
      if (!this.store.get(rt.storage, ns, name)) return name;
    }
    throw new ApiError(409, 'AlreadyExists', `could not generate a unique name for prefix "${prefix}"`);
  }

  writeCreate(t: Target, body: KObj, ctx: WriteCtx): KObj {
    const { rt } = t;
    const obj = this.intake(rt, clone(body));
    if (!isMap(obj.metadata)) obj.metadata = {};
    const m = obj.metadata;
    if (rt.namespaced) {
      if (m.namespace && m.namespace !== t.namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      m.namespace = t.namespace;
    } else delete m.namespace;
    if (!m.name && m.generateName) m.name = this.generateName(rt, m.namespace, m.generateName);
    if (!m.name) {
      const kindGroup = rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
      throw invalid(kindGroup, '', [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }], rt.group, rt.kind);
    }
    if (rt.namespaced) this.checkNamespace(rt, m.namespace!, m.name, true);
    if (this.store.get(rt.storage, m.namespace, m.name)) throw alreadyExists(rt.group, rt.resource, m.name);
    // etcd refuses it; the API server passes the error through as a 500 without a reason
    if (Number(m.resourceVersion ?? 0) > 0) throw new ApiError(500, '', 'resourceVersion should not be set on objects to be created');
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink', 'managedFields']) delete m[k]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
    if (rt.statusSubresource) delete obj.status;
    m.uid = randomUUID();
    m.creationTimestamp = now();
    if (rt.generation !== 'none') m.generation = 1;
    // an applier owns what it applied, not the defaults the server filled in
    const appliedConfig = ctx.applied ? clone(obj) : undefined;
    this.admit(rt, obj, undefined, ctx, undefined);
    if (rt.resource === 'customresourcedefinitions') obj.status = this.crdStatus(obj);
    if (appliedConfig) {
      if (rt.schema) rt.schema.prune(appliedConfig);
      else pruneBuiltin(rt.group, rt.kind, appliedConfig);
      const owned = serverSideApply({ live: undefined, applied: appliedConfig, manager: ctx.manager, force: true, types: this.fieldTypes(rt), apiVersion: apiVersionOf(rt), scope: rt.statusSubresource ? 'main' : 'all', now: now(), describe: '' });
      obj.metadata.managedFields = owned.metadata.managedFields;
    } else trackUpdate({ old: undefined, next: obj, manager: ctx.manager, types: this.fieldTypes(rt), apiVersion: apiVersionOf(rt), scope: rt.statusSubresource ? 'main' : 'all', now: now() });
    if (ctx.dryRun) return this.presentView(rt, { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } });
    // obj is this request's own copy: the store keeps it, and the answer is serialised at once
    const stored = this.store.putOwned(rt.storage, obj);
    if (rt.resource === 'customresourcedefinitions') this.registerCrd(clone(stored));
    this.scheduleGc();
    return this.presentView(rt, stored);
  }

  private bumpGeneration(rt: ResourceType, old: KObj, next: KObj): void {
    if (rt.generation === 'none') {
      delete next.metadata.generation;
      return;
    }
    const strip = (o: KObj): string => {
      if (rt.generation === 'spec') return stableStringify(o.spec ?? null);
      // without a status subresource, status is ordinary content and counts too
      const { metadata: _m, status, apiVersion: _a, kind: _k, ...rest } = o;
      return stableStringify(rt.statusSubresource ? rest : { ...rest, status });
    };
    next.metadata.generation = (old.metadata.generation ?? 1) + (strip(old) !== strip(next) ? 1 : 0);
  }

  /** Normal form for "did this write change anything" (a no-op write keeps the resourceVersion). */
  private fingerprint(o: KObj): string {
    const { resourceVersion: _rv, ...metadata } = o.metadata;
    metadata.managedFields = (o.metadata.managedFields ?? []).map((e) => ({ ...e, time: '' }));
    return stableStringify({ ...o, metadata });
  }

  /** The shared tail of update, patch and apply: preserve system fields, admit, bump generation, store. */
  writeUpdate(t: Target, old: KObj, body: KObj, ctx: WriteCtx, op: 'update' | 'patch' | 'apply'): KObj {
    const { rt } = t;
    let next = this.intake(rt, clone(body));
    if (!isMap(next.metadata)) next.metadata = {};
    const name = old.metadata.name ?? '';
    if (next.metadata.name !== undefined && next.metadata.name !== name) {
      throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (rt.namespaced && next.metadata.namespace !== undefined && next.metadata.namespace !== old.metadata.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const rv = next.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) {
      throw conflict(rt.group, rt.resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    if (next.metadata.uid !== undefined && next.metadata.uid !== '' && next.metadata.uid !== old.metadata.uid) {
      throw conflict(rt.group, rt.resource, name, `Precondition failed: UID in precondition: ${old.metadata.uid ?? ''}, UID in object meta: ${next.metadata.uid}`);
    }
    const sub = t.subresource;
    const appliedManagedFields = next.metadata.managedFields;
    if (sub === 'status') {
      next = { ...clone(old), status: next.status };
      if (next.status === undefined) delete next.status;
    } else {
      const keep = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const;
      for (const k of keep) {
        if (old.metadata[k] === undefined) delete next.metadata[k]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
        else next.metadata[k] = old.metadata[k] as never;
      }
      next.metadata.name = name;
      if (rt.namespaced) next.metadata.namespace = old.metadata.namespace;
      delete next.metadata.selfLink;
      if (rt.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = clone(old.status);
      }
    }
    next.metadata.managedFields = op === 'apply' ? appliedManagedFields : old.metadata.managedFields;
    if (next.metadata.managedFields === undefined) delete next.metadata.managedFields;
    delete next.metadata.resourceVersion;
    this.admit(rt, next, old, ctx, sub);
    this.bumpGeneration(rt, old, next);
    const scope = sub === 'status' ? 'status' : rt.statusSubresource ? 'main' : 'all';
    if (op !== 'apply') trackUpdate({ old, next, manager: ctx.manager, types: this.fieldTypes(rt), apiVersion: apiVersionOf(rt), scope, ...(sub ? { subresource: sub } : {}), now: now() });
    if (rt.resource === 'customresourcedefinitions' && sub !== 'status') next.status = this.crdStatus(next);
    if (this.fingerprint(next) === this.fingerprint({ ...old, metadata: { ...old.metadata } })) return this.presentView(rt, old);
    if (ctx.dryRun) return this.presentView(rt, { ...next, metadata: { ...next.metadata, resourceVersion: old.metadata.resourceVersion } });
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0 && !(rt.resource === 'namespaces' && rt.group === '')) {
      this.store.put(rt.storage, next);
      const gone = this.store.remove(rt.storage, next.metadata.namespace, name)!;
      this.afterRemove(rt, gone);
      return this.presentView(rt, gone);
    }
    const stored = this.store.putOwned(rt.storage, next);
    if (rt.resource === 'customresourcedefinitions') this.registerCrd(clone(stored));
    this.scheduleGc();
    return this.presentView(rt, stored);
  }

  private afterRemove(rt: ResourceType, gone: KObj): void {
    if (rt.resource === 'customresourcedefinitions' && rt.group === 'apiextensions.k8s.io') this.unregisterCrd(gone);
    this.scheduleGc();
  }

  /** Deletes as the API server does: finalizers (and propagation's own finalizers) defer the removal. */
  deleteObject(rt: ResourceType, obj: KObj, policy: string | undefined, dryRun = false): { obj: KObj; removed: boolean } {
    const m = obj.metadata;
    const next = clone(obj);
    if (rt.resource === 'namespaces' && rt.group === '') {
      if (!m.deletionTimestamp) {
        next.metadata.deletionTimestamp = now();
        next.status = { ...(isMap(next.status) ? next.status : {}), phase: 'Terminating' };
        if (dryRun) return { obj: next, removed: false };
        const stored = this.store.put(rt.storage, next);
        this.scheduleGc();
        return { obj: stored, removed: false };
      }
      return { obj, removed: false };
    }
    const fins = [...(m.finalizers ?? [])];
    if (policy === 'Foreground' && !fins.includes('foregroundDeletion')) fins.push('foregroundDeletion');
    if (policy === 'Orphan' && !fins.includes('orphan')) fins.push('orphan');
    if (fins.length > 0) {
      if (m.deletionTimestamp && fins.length === (m.finalizers ?? []).length) return { obj, removed: false };
      next.metadata.finalizers = fins;
      if (!m.deletionTimestamp) {
        next.metadata.deletionTimestamp = now();
        next.metadata.deletionGracePeriodSeconds = 0;
        if (rt.generation !== 'none') next.metadata.generation = (m.generation ?? 1) + 1;
      }
      if (dryRun) return { obj: next, removed: false };
      const stored = this.store.put(rt.storage, next);
      this.scheduleGc();
      return { obj: stored, removed: false };
    }
    if (dryRun) return { obj, removed: true };
    const gone = this.store.remove(rt.storage, m.namespace, m.name ?? '')!;
    this.afterRemove(rt, gone);
    return { obj: gone, removed: true };
  }

  // ---------------------------------------------------------------- garbage collection

  scheduleGc(): void {
    if (this.gcTimer || this.closed) return;
    this.gcTimer = setTimeout(() => {
      this.gcTimer = undefined;
      this.collectGarbage();
    }, this.options.gcDelayMs);
  }

  private typeForStorage(storage: string): ResourceType | undefined {
    return this.storageTypes(storage)[0];
  }

  private ownerExists(ref: OwnerReference, dep: KObj): boolean {
    const owner = this.store.findByUid(ref.uid);
    if (!owner) return false;
    const ownerNs = owner.obj.metadata.namespace;
    return ownerNs === undefined || ownerNs === dep.metadata.namespace;
  }

  private internalUpdate(storage: string, obj: KObj): void {
    const rt = this.typeForStorage(storage);
    if (!rt) return;
    if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0 && !(rt.resource === 'namespaces' && rt.group === '')) {
      this.store.put(storage, obj);
      const gone = this.store.remove(storage, obj.metadata.namespace, obj.metadata.name ?? '')!;
      this.afterRemove(rt, gone);
    } else this.store.put(storage, obj);
  }

  /**
   * Queues what the garbage collector and the namespace controller must look at after a change, as
   * the real ones react to watch events instead of rescanning: the object itself, the owners it names
   * (a foreground deletion waits on it), its dependents when it goes, and its namespace when that is
   * terminating. A pass then costs what changed, not what exists.
   */
  private queueForGc(storage: string, obj: KObj, removed: boolean): void {
    const queue = (s: string, key: string): void => {
      this.gcQueue.set(`${s}\u0000${key}`, { storage: s, key });
    };
    if (!removed) queue(storage, Store.keyOf(obj));
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const owner = this.store.findByUid(ref.uid);
      if (owner) queue(owner.storage, Store.keyOf(owner.obj));
    }
    if (removed) {
      for (const d of this.store.dependentsOf(obj.metadata.uid ?? '')) queue(d.storage, Store.keyOf(d.obj));
      if (obj.metadata.namespace !== undefined) queue('/namespaces', Store.keyOf({ metadata: { name: obj.metadata.namespace } }));
    }
  }

  /** One pass of the garbage collector and the namespace controller over what changed; reschedules itself while there is more. */
  private collectGarbage(): void {
    const batch = [...this.gcQueue.values()];
    this.gcQueue.clear();
    for (const { storage, key } of batch) {
      const rt = this.typeForStorage(storage);
      if (!rt) continue;
      const stored = this.store.peek(storage, key);
      if (!stored) continue;
      // most of what changed (a new Deployment, a status write) has every owner and is not being deleted
      const owners = stored.metadata.ownerReferences ?? [];
      if (!stored.metadata.deletionTimestamp && owners.every((r) => this.ownerExists(r, stored))) continue;
      const current = clone(stored);
      const refs = current.metadata.ownerReferences ?? [];
      if (refs.length > 0 && !current.metadata.deletionTimestamp) {
        const present = refs.filter((r) => this.ownerExists(r, current));
        if (present.length === 0) {
          this.deleteObject(rt, current, 'Background');
          continue;
        }
        if (present.length < refs.length) {
          current.metadata.ownerReferences = present;
          this.internalUpdate(storage, current);
          continue;
        }
      }
      const fins = current.metadata.finalizers ?? [];
      if (current.metadata.deletionTimestamp && fins.includes('orphan')) {
        for (const d of this.store.dependentsOf(current.metadata.uid ?? '')) {
          d.obj.metadata.ownerReferences = (d.obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== current.metadata.uid);
          if (d.obj.metadata.ownerReferences.length === 0) delete d.obj.metadata.ownerReferences;
          this.internalUpdate(d.storage, d.obj);
        }
        current.metadata.finalizers = fins.filter((f) => f !== 'orphan');
        this.internalUpdate(storage, current);
        continue;
      }
      if (current.metadata.deletionTimestamp && fins.includes('foregroundDeletion')) {
        const deps = this.store.dependentsOf(current.metadata.uid ?? '');
        if (deps.length === 0) {
          current.metadata.finalizers = fins.filter((f) => f !== 'foregroundDeletion');
          this.internalUpdate(storage, current);
        } else {
          for (const d of deps) {
            const drt = this.typeForStorage(d.storage);
            if (drt && !d.obj.metadata.deletionTimestamp) this.deleteObject(drt, d.obj, 'Foreground');
          }
        }
        continue;
      }
      if (rt.resource === 'namespaces' && rt.group === '' && current.metadata.deletionTimestamp) {
        const ns = current.metadata.name ?? '';
        const contents = [...this.store.all()].filter((e) => e.obj.metadata.namespace === ns);
        if (contents.length === 0) this.store.remove(storage, undefined, ns);
        else {
          for (const e of contents) {
            const crt = this.typeForStorage(e.storage);
            if (crt && !e.obj.metadata.deletionTimestamp) this.deleteObject(crt, clone(e.obj), 'Background');
          }
        }
      }
    }
    if (this.gcQueue.size > 0) this.scheduleGc();
  }

  // ---------------------------------------------------------------- Deployment controller

  /**
   * Plays kube-controller-manager's Deployment controller on a cluster without nodes: after every create
   * and spec change it writes status (observedGeneration, replicas, updated, unavailable, conditions),
   * which moves the Deployment's resourceVersion as a real cluster does right after a controller's write.
   */
  private observeDeployment(obj: KObj): void {
    const status = isMap(obj.status) ? obj.status : {};
    if (obj.metadata.deletionTimestamp || status.observedGeneration === obj.metadata.generation) return;
    const { namespace, name = '' } = obj.metadata;
    setImmediate(() => {
      const rt = this.typeOf('apps', 'v1', 'deployments');
      const live = rt && this.store.get(rt.storage, namespace, name);
      if (!rt || !live || this.closed) return;
      const liveStatus = isMap(live.status) ? live.status : {};
      if (liveStatus.observedGeneration === live.metadata.generation) return;
      const replicas = isMap(live.spec) && typeof live.spec.replicas === 'number' ? live.spec.replicas : 1;
      const t = now();
      const next: Record<string, unknown> = {
        observedGeneration: live.metadata.generation,
        replicas,
        updatedReplicas: replicas,
        conditions: [
          { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: t, lastTransitionTime: t },
          { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${name}" is progressing.`, lastUpdateTime: t, lastTransitionTime: t },
        ],
      };
      if (replicas > 0) next.unavailableReplicas = replicas;
      try {
        this.writeUpdate({ rt, namespace, name, subresource: 'status' }, live, { ...live, status: next }, { manager: 'kube-controller-manager', fieldValidation: 'Ignore', warnings: [], dryRun: false }, 'update');
      } catch {
        // the Deployment went or changed meanwhile; its next change brings another pass
      }
    });
  }

  // ---------------------------------------------------------------- faults

  addFault(count: number, status: 500 | 429, match?: (r: { method: string; path: string }) => boolean): void {
    this.faults.push({ remaining: count, status, match });
  }

  /** Refuses matching requests with 403 as RBAC would, until the returned function is called. */
  forbid(match: (r: RequestRecord) => boolean, user = 'system:serviceaccount:kurier:kurier-controller'): () => void {
    const fault: StandingFault = { kind: 'forbid', match, user };
    this.standing.add(fault);
    return () => this.standing.delete(fault);
  }

  /** Leaves matching requests unanswered (a black-holed connection) until the returned function is called. */
  hang(match: (r: RequestRecord) => boolean): () => void {
    const fault: StandingFault = { kind: 'hang', match, user: '' };
    this.standing.add(fault);
    return () => {
      this.standing.delete(fault);
      for (const release of [...this.hung]) release();
    };
  }

  closeWatches(): void {
    for (const w of [...this.watches]) w.close();
  }

  /** How many watch streams are open right now. */
  get openWatchCount(): number {
    return this.watches.size;
  }

  expireResourceVersions(): void {
    this.store.compact();
  }

  close(): void {
    this.closed = true;
    for (const release of [...this.hung]) release();
    if (this.gcTimer) clearTimeout(this.gcTimer);
    this.closeWatches();
  }

  // ---------------------------------------------------------------- HTTP

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const rec: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query: url.search, verb: 'other', resource: '', status: 0, time: new Date().toISOString() };
    if (typeof req.headers['content-type'] === 'string') rec.contentType = req.headers['content-type'];
    if (typeof req.headers['user-agent'] === 'string') rec.userAgent = req.headers['user-agent'];
    const fm = url.searchParams.get('fieldManager');
    if (fm) rec.fieldManager = fm;
    this.requests.push(rec);
    const send = (code: number, body: unknown, headers: Record<string, string> = {}): void => {
      rec.status = code;
      if (res.headersSent) return;
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(code, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    try {
      const body = await readBody(req);
      let bodyText = body.toString('utf8');
      if (body.length > 0 && /protobuf/.test(req.headers['content-type'] ?? '')) {
        this.classify(url, rec);
        bodyText = JSON.stringify(decodeProtobufObject(body));
      } else if (body.length > 0 && /cbor/.test(req.headers['content-type'] ?? '')) {
        throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml');
      }
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      if (this.standing.size > 0) {
        this.classify(url, rec);
        const hang = [...this.standing].find((f) => f.kind === 'hang' && f.match(rec));
        if (hang) {
          // answered only once lifted (or never, when the client gives up first)
          await new Promise<void>((resolve) => {
            const release = (): void => {
              this.hung.delete(release);
              resolve();
            };
            this.hung.add(release);
            res.once('close', release);
          });
          if (res.destroyed || this.closed) return;
        }
        const forbid = [...this.standing].find((f) => f.kind === 'forbid' && f.match(rec));
        if (forbid) {
          const resource = rec.subresource === undefined ? rec.resource : `${rec.resource}/${rec.subresource}`;
          const where = rec.namespace === undefined ? 'at the cluster scope' : `in the namespace "${rec.namespace}"`;
          const qualified = rec.group ? `${rec.resource}.${rec.group}` : rec.resource;
          const err = new ApiError(
            403,
            'Forbidden',
            `${qualified}${rec.name === undefined ? '' : ` "${rec.name}"`} is forbidden: User "${forbid.user}" cannot ${rec.verb} resource "${resource}" in API group "${rec.group ?? ''}" ${where}`,
            { ...(rec.name === undefined ? {} : { name: rec.name }), ...(rec.group ? { group: rec.group } : {}), kind: rec.resource },
          );
          send(err.code, err.toStatus(), err.headers);
          return;
        }
      }
      const fault = this.faults.find((f) => f.remaining > 0 && (!f.match || f.match({ method: rec.method, path: rec.path })));
      if (fault) {
        fault.remaining--;
        if (fault.remaining <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
        this.classify(url, rec);
        const err =
          fault.status === 429
            ? new ApiError(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', { retryAfterSeconds: 1 }, { 'Retry-After': '1' })
            : new ApiError(500, 'InternalError', 'Internal error occurred: injected fault', { causes: [{ reason: 'UnexpectedServerResponse', message: 'injected fault' }] });
        send(err.code, err.toStatus(), err.headers);
        return;
      }
      this.route(req, res, url, rec, bodyText, send);
    } catch (e) {
      if (e instanceof ApiError) send(e.code, e.toStatus(), e.headers);
      else {
        const err = new ApiError(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`);
        send(500, err.toStatus());
      }
    }
  }

  private parsePath(url: URL): { target: Target | undefined; discovery: boolean } {
    const segs = url.pathname.split('/').filter((s) => s !== '');
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) {
      group = '';
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else return { target: undefined, discovery: true };
    if (rest.length === 0) return { target: undefined, discovery: true };
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const nested = this.typeOf(group, version, rest[2]!);
      if (nested?.namespaced) {
        namespace = rest[1];
        rest = rest.slice(2);
      }
    }
    const rt = this.typeOf(group, version, rest[0]!);
    if (!rt || rest.length > 3) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (namespace !== undefined && !rt.namespaced) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return { target: { rt, namespace, name: rest[1], subresource: rest[2] }, discovery: false };
  }

  private classify(url: URL, rec: RequestRecord): Target | undefined {
    let parsed: { target: Target | undefined; discovery: boolean };
    try {
      parsed = this.parsePath(url);
    } catch {
      return undefined;
    }
    const t = parsed.target;
    if (!t) {
      rec.verb = 'discovery';
      return undefined;
    }
    rec.group = t.rt.group;
    rec.version = t.rt.version;
    rec.resource = t.rt.resource;
    if (t.namespace !== undefined) rec.namespace = t.namespace;
    if (t.name !== undefined) rec.name = t.name;
    if (t.subresource !== undefined) rec.subresource = t.subresource;
    const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
    switch (rec.method) {
      case 'GET':
        rec.verb = watch ? 'watch' : t.name === undefined ? 'list' : 'get';
        break;
      case 'POST':
        rec.verb = 'create';
        break;
      case 'PUT':
        rec.verb = 'update';
        break;
      case 'PATCH':
        rec.verb = 'patch';
        break;
      case 'DELETE':
        rec.verb = t.name === undefined ? 'deletecollection' : 'delete';
        break;
      default:
        rec.verb = 'other';
    }
    return t;
  }

  private route(req: IncomingMessage, res: ServerResponse, url: URL, rec: RequestRecord, bodyText: string, send: Sender): void {
    const p = url.pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'GET' && this.discovery(p, req, send)) {
      rec.verb = 'discovery';
      return;
    }
    const t = this.classify(url, rec);
    if (!t) {
      if (rec.verb === 'discovery') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const q = url.searchParams;
    if (t.subresource === 'scale' && t.rt.group === 'apps' && t.rt.resource === 'deployments' && t.name !== undefined) {
      this.scale(t, req, rec, bodyText, send);
      return;
    }
    if (t.subresource !== undefined && !(t.subresource === 'status' && t.rt.statusSubresource)) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if ((t.subresource === 'status' && !['get', 'update', 'patch'].includes(rec.verb)) || ((rec.verb === 'update' || rec.verb === 'patch') && t.name === undefined)) {
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    if (t.rt.namespaced && t.namespace === undefined && !(rec.verb === 'list' || rec.verb === 'watch')) {
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    const ctx: WriteCtx = {
      manager: q.get('fieldManager') ?? managerFromUserAgent(req.headers['user-agent']),
      fieldValidation: parseFieldValidation(q.get('fieldValidation')),
      warnings: [],
      dryRun: q.get('dryRun') === 'All',
    };
    const warn = (): Record<string, string> => (ctx.warnings.length ? { Warning: ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') } : {});
    switch (rec.verb) {
      case 'get': {
        const obj = this.getOr404(t);
        send(200, wantsTable(req.headers.accept) ? renderTable(t.rt, [this.presentView(t.rt, obj)], String(this.store.currentRv), q.get('includeObject')) : this.presentView(t.rt, obj));
        return;
      }
      case 'list':
        send(200, this.list(t, q, req.headers.accept));
        return;
      case 'watch':
        this.watch(t, q, req, res, rec);
        return;
      case 'create': {
        if (t.name !== undefined) throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const body = decodeBody(bodyText, req.headers['content-type']) as KObj;
        this.checkKind(t.rt, body);
        send(201, this.writeCreate(t, body, ctx), warn());
        return;
      }
      case 'update': {
        const body = decodeBody(bodyText, req.headers['content-type']) as KObj;
        this.checkKind(t.rt, body);
        const old = this.store.get(t.rt.storage, t.namespace, t.name ?? '');
        if (!old) {
          if (t.rt.allowCreateOnUpdate && t.subresource === undefined) {
            send(201, this.writeCreate(t, { ...body, metadata: { ...body.metadata, name: t.name } }, ctx), warn());
            return;
          }
          throw notFound(t.rt.group, t.rt.resource, t.name ?? '');
        }
        send(200, this.writeUpdate(t, old, body, ctx, 'update'), warn());
        return;
      }
      case 'patch':
        this.patch(t, req, q, bodyText, ctx, send, warn);
        return;
      case 'delete': {
        const obj = this.getOr404(t);
        const opts = (bodyText.trim() ? decodeBody(bodyText, 'application/json') : {}) as Record<string, unknown>;
        const pre = isMap(opts.preconditions) ? opts.preconditions : {};
        if (typeof pre.uid === 'string' && pre.uid !== obj.metadata.uid) throw conflict(t.rt.group, t.rt.resource, t.name ?? '', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid ?? ''}`);
        if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== obj.metadata.resourceVersion) {
          throw conflict(t.rt.group, t.rt.resource, t.name ?? '', `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion ?? ''}`);
        }
        let policy = (opts.propagationPolicy as string | undefined) ?? q.get('propagationPolicy') ?? undefined;
        if (policy === undefined && (opts.orphanDependents === true || q.get('orphanDependents') === 'true')) policy = 'Orphan';
        if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy)) {
          throw invalid('DeleteOptions', '', [{ reason: 'FieldValueNotSupported', message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`, field: 'propagationPolicy' }], '', 'DeleteOptions');
        }
        const dryRun = ctx.dryRun || (Array.isArray(opts.dryRun) && (opts.dryRun as string[]).includes('All'));
        const { obj: after, removed } = this.deleteObject(t.rt, obj, policy, dryRun);
        if (!removed || t.rt.returnDeletedObject) send(200, this.present(t.rt, after));
        else send(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: t.name, ...(t.rt.group ? { group: t.rt.group } : {}), kind: t.rt.resource, uid: obj.metadata.uid } });
        return;
      }
      case 'deletecollection': {
        const items = this.selectObjects(t, q);
        const opts = (bodyText.trim() ? decodeBody(bodyText, 'application/json') : {}) as Record<string, unknown>;
        const policy = (opts.propagationPolicy as string | undefined) ?? q.get('propagationPolicy') ?? undefined;
        const out = items.map((o) => this.present(t.rt, this.deleteObject(t.rt, o, policy, ctx.dryRun).obj));
        send(200, { kind: t.rt.listKind, apiVersion: apiVersionOf(t.rt), metadata: {}, items: out });
        return;
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  /** apps/v1 Deployment `/scale`: an autoscaling/v1 Scale view of spec.replicas (what `kubectl scale` uses). */
  private scale(t: Target, req: IncomingMessage, rec: RequestRecord, bodyText: string, send: Sender): void {
    const view = (d: KObj): KObj => {
      const spec = (d.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
      const status = (d.status ?? {}) as { replicas?: number };
      const m = d.metadata;
      return {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
        spec: { replicas: spec.replicas ?? 0 },
        status: { replicas: status.replicas ?? 0, selector: Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
      };
    };
    const live = this.getOr404(t);
    if (rec.verb === 'get') {
      send(200, view(live));
      return;
    }
    let next: unknown;
    const ct = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
    const body = decodeBody(bodyText, ct);
    if (rec.verb === 'update') next = body;
    else if (rec.verb === 'patch' && ct === 'application/json-patch+json') next = jsonPatch(view(live), body);
    else if (rec.verb === 'patch' && ct === 'application/merge-patch+json') next = mergePatch(view(live), body);
    else if (rec.verb === 'patch' && ct === 'application/strategic-merge-patch+json') next = strategicMerge(view(live), body);
    else throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const scale = (isMap(next) ? next : {}) as { metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
    const replicas = scale.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale.autoscaling', t.name ?? '', [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: 'spec.replicas' }], 'autoscaling', 'Scale');
    }
    const rv = scale.metadata?.resourceVersion;
    const updated = { ...clone(live), spec: { ...(live.spec as object), replicas } } as KObj;
    updated.metadata.resourceVersion = rv ?? live.metadata.resourceVersion;
    const ctx: WriteCtx = { manager: managerFromUserAgent(req.headers['user-agent']), fieldValidation: 'Ignore', warnings: [], dryRun: false };
    const fm = new URL(req.url ?? '/', 'http://double').searchParams.get('fieldManager');
    if (fm) ctx.manager = fm;
    const stored = this.writeUpdate({ ...t, subresource: undefined }, live, updated, ctx, 'update');
    send(200, view(stored));
  }

  private checkKind(rt: ResourceType, body: unknown): void {
    if (!isMap(body)) throw badRequest('the body of the request was in an unknown format');
    const want = apiVersionOf(rt);
    if (body.apiVersion !== undefined && body.apiVersion !== want) {
      throw badRequest(`the API version in the data (${JSON.stringify(body.apiVersion)}) does not match the expected API version (${want})`);
    }
    if (body.kind !== undefined && body.kind !== rt.kind) {
      throw badRequest(`${JSON.stringify(body.kind)} in version "${rt.version}" cannot be handled as a ${rt.kind}: no kind ${JSON.stringify(body.kind)} is registered for version "${want}"`);
    }
  }

  private getOr404(t: Target): KObj {
    const obj = this.store.get(t.rt.storage, t.namespace, t.name ?? '');
    if (!obj) throw notFound(t.rt.group, t.rt.resource, t.name ?? '');
    return obj;
  }

  private patch(t: Target, req: IncomingMessage, q: URLSearchParams, bodyText: string, ctx: WriteCtx, send: Sender, warn: () => Record<string, string>): void {
    const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const { rt } = t;
    const types = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml', 'application/apply-patch+json'];
    if (rt.strategicMerge) types.push('application/strategic-merge-patch+json');
    if (!types.includes(ct)) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${types.join(', ')}`);
    }
    const patchBody = decodeBody(bodyText, ct);
    const live = this.store.get(rt.storage, t.namespace, t.name ?? '');
    if (ct.startsWith('application/apply-patch')) {
      if (!q.get('fieldManager')) {
        throw invalid('PatchOptions', '', [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }], 'meta.k8s.io', 'PatchOptions');
      }
      if (!isMap(patchBody)) throw badRequest('error decoding YAML: the apply configuration must be an object');
      const applied = patchBody as KObj;
      if (!isMap(applied.metadata)) applied.metadata = {};
      this.checkKind(rt, applied);
      if (applied.apiVersion === undefined || applied.kind === undefined) throw badRequest('apiVersion and kind must be set in the apply configuration');
      if (applied.metadata.name !== undefined && applied.metadata.name !== t.name) {
        throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${t.name ?? ''})`);
      }
      applied.metadata.name = t.name;
      if (!rt.schema) {
        // structured-merge-diff types the apply configuration first: an unknown field is an error, whatever fieldValidation says
        const unknown = pruneBuiltin(rt.group, rt.kind, structuredClone(applied));
        if (unknown.length > 0) {
          throw new ApiError(500, '', `failed to create typed patch object (${t.namespace ?? ''}/${t.name ?? ''}; ${apiVersionOf(rt)}, Kind=${rt.kind}): .${unknown[0] ?? ''}: field not declared in schema`);
        }
      }
      const force = q.get('force') === 'true';
      if (!live) {
        if (t.subresource) throw notFound(rt.group, rt.resource, t.name ?? '');
        ctx.applied = true;
        send(201, this.writeCreate(t, applied, ctx), warn());
        return;
      }
      const appliedRv = applied.metadata.resourceVersion;
      if (typeof appliedRv === 'string' && appliedRv !== '' && appliedRv !== live.metadata.resourceVersion) {
        throw conflict(rt.group, rt.resource, t.name ?? '', 'the object has been modified; please apply your changes to the latest version and try again');
      }
      const scope = t.subresource === 'status' ? 'status' : rt.statusSubresource ? 'main' : 'all';
      const appliedIn = this.intake(rt, applied);
      // prune the applied configuration the way the server decodes it
      this.checkUnknownFields(rt, rt.schema ? rt.schema.prune(appliedIn) : pruneBuiltin(rt.group, rt.kind, appliedIn), ctx);
      const merged = serverSideApply({
        live,
        applied: appliedIn,
        manager: ctx.manager,
        force,
        types: this.fieldTypes(rt),
        apiVersion: apiVersionOf(rt),
        scope,
        ...(t.subresource ? { subresource: t.subresource } : {}),
        now: now(),
        describe: `${qualifiedResource(rt.group, rt.resource)} "${t.name ?? ''}"`,
      });
      merged.metadata.resourceVersion = live.metadata.resourceVersion;
      send(200, this.writeUpdate(t, live, merged, { ...ctx, fieldValidation: 'Ignore' }, 'apply'), warn());
      return;
    }
    if (!live) throw notFound(rt.group, rt.resource, t.name ?? '');
    const base = this.present(rt, live);
    let patched: unknown;
    if (ct === 'application/json-patch+json') patched = jsonPatch(base, patchBody);
    else if (ct === 'application/merge-patch+json') patched = mergePatch(base, patchBody);
    else patched = strategicMerge(base, patchBody);
    if (!isMap(patched)) throw badRequest('the patch produced an object that is not a JSON object');
    const obj = patched as KObj;
    // a patch only carries a resourceVersion precondition when it sets one itself
    const patchRv = isMap(patchBody) && isMap(patchBody.metadata) ? patchBody.metadata.resourceVersion : undefined;
    const rvSetByJsonPatch = Array.isArray(patchBody) && JSON.stringify(obj.metadata.resourceVersion) !== JSON.stringify(live.metadata.resourceVersion);
    if (!(typeof patchRv === 'string') && !rvSetByJsonPatch && isMap(obj.metadata)) obj.metadata.resourceVersion = live.metadata.resourceVersion;
    this.checkKind(rt, obj);
    send(200, this.writeUpdate(t, live, obj, ctx, 'patch'), warn());
  }

  private selectObjects(t: Target, q: URLSearchParams): KObj[] {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), t.rt.fieldSelectors);
    return this.store
      .list(t.rt.storage, t.rt.namespaced ? t.namespace : undefined)
      .filter((o) => labels.matches(o.metadata.labels) && fields.matches(this.presentView(t.rt, o)) && (t.name === undefined || o.metadata.name === t.name));
  }

  private list(t: Target, q: URLSearchParams, accept: string | undefined): object {
    const rvParam = q.get('resourceVersion');
    const match = q.get('resourceVersionMatch');
    const current = this.store.currentRv;
    if (rvParam && rvParam !== '0') {
      const n = Number(rvParam);
      if (!Number.isInteger(n)) throw badRequest(`invalid resource version: ${rvParam}`);
      if (n > current) {
        throw new ApiError(504, 'Timeout', `Too large resource version: ${n}, current: ${current}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }, { 'Retry-After': '1' });
      }
      if (match === 'Exact' && n < this.store.oldestResumable) throw gone(`The resourceVersion for the provided list is too old.`);
    }
    let items = this.selectObjects(t, q);
    const limit = Number(q.get('limit') ?? '0');
    const cont = q.get('continue');
    let listRv = String(current);
    if (cont) {
      let token: { rv: number; start: string };
      try {
        token = JSON.parse(Buffer.from(cont, 'base64url').toString()) as { rv: number; start: string };
      } catch {
        throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      }
      if (token.rv < this.store.oldestResumable) {
        throw gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      }
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}` > token.start);
      listRv = String(token.rv);
    }
    const meta: Record<string, unknown> = { resourceVersion: listRv };
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1]!;
      meta.continue = Buffer.from(JSON.stringify({ rv: Number(listRv), start: `${last.metadata.namespace ?? ''}/${last.metadata.name ?? ''}` })).toString('base64url');
      meta.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    const presented = items.map((o) => this.presentView(t.rt, o));
    if (wantsTable(accept)) {
      const table = renderTable(t.rt, presented, listRv, q.get('includeObject')) as Record<string, unknown>;
      table.metadata = { ...(table.metadata as object), ...meta };
      return table;
    }
    // typed (built-in) lists omit each item's apiVersion/kind; custom resource lists keep them
    const out = t.rt.crd ? presented : presented.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    return { kind: t.rt.listKind, apiVersion: apiVersionOf(t.rt), metadata: meta, items: out };
  }

  private watch(t: Target, q: URLSearchParams, req: IncomingMessage, res: ServerResponse, rec: RequestRecord): void {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fieldSel = parseFieldSelector(q.get('fieldSelector'), t.rt.fieldSelectors);
    const ns = t.rt.namespaced ? t.namespace : undefined;
    const matches = (o: KObj | undefined): boolean =>
      !!o && (ns === undefined || o.metadata.namespace === ns) && (t.name === undefined || o.metadata.name === t.name) && labels.matches(o.metadata.labels) && fieldSel.matches(this.presentView(t.rt, o));
    rec.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    let closed = false;
    const timers: NodeJS.Timeout[] = [];
    const table = wantsTable(req.headers.accept);
    const write = (type: string, object: unknown): void => {
      if (closed) return;
      // kubectl get -w asks for Tables; each event then carries a one-row Table (not for ERROR/BOOKMARK)
      const o = table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') ? renderTable(t.rt, [object as KObj], String(this.store.currentRv), q.get('includeObject')) : object;
      res.write(`${JSON.stringify({ type, object: o })}\n`);
    };
    const sink: WatchSink = {
      storage: t.rt.storage,
      deliver: (ev: StoredEvent) => {
        deliverEvent(ev);
      },
    };
    const w: OpenWatch = {
      res,
      close: () => {
        if (closed) return;
        closed = true;
        this.store.sinks.delete(sink);
        this.watches.delete(w);
        for (const tm of timers) clearInterval(tm);
        res.end();
      },
    };
    const deliverEvent = (ev: StoredEvent): void => {
      const now = matches(ev.obj);
      const before = ev.type === 'ADDED' ? false : matches(ev.prev);
      if (ev.type === 'DELETED') {
        if (before) write('DELETED', this.presentView(t.rt, ev.obj));
        return;
      }
      if (now && !before) write('ADDED', this.presentView(t.rt, ev.obj));
      else if (now && before) write('MODIFIED', this.presentView(t.rt, ev.obj));
      else if (!now && before) write('DELETED', this.presentView(t.rt, ev.obj));
    };
    // the response closes when the client goes away (req's 'close' fired already: its body was read)
    res.on('close', () => {
      w.close();
    });
    this.watches.add(w);
    const rvParam = q.get('resourceVersion');
    if (!rvParam || rvParam === '0') {
      for (const o of this.store.list(t.rt.storage, ns)) if (matches(o)) write('ADDED', this.presentView(t.rt, o));
    } else {
      const n = Number(rvParam);
      if (!Number.isInteger(n) || n < this.store.oldestResumable - 1 || n < this.store.compactedBelow) {
        write('ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${rvParam} (${this.store.oldestResumable})`, reason: 'Expired', code: 410 });
        w.close();
        return;
      }
      for (const ev of this.store.since(t.rt.storage, n)) deliverEvent(ev);
    }
    this.store.sinks.add(sink);
    if (['true', '1'].includes(q.get('allowWatchBookmarks') ?? '')) {
      timers.push(
        setInterval(() => {
          write('BOOKMARK', { kind: t.rt.kind, apiVersion: apiVersionOf(t.rt), metadata: { resourceVersion: String(this.store.currentRv) } });
        }, this.options.bookmarkIntervalMs),
      );
    }
    const timeout = Number(q.get('timeoutSeconds') ?? '0');
    if (timeout > 0) timers.push(setTimeout(() => { w.close(); }, timeout * 1000));
  }

  private openApiHash(): string {
    return Buffer.from(this.types.map((t) => `${t.group}/${t.version}/${t.resource}/${t.crd ?? ''}`).join(',')).toString('base64url').slice(-32);
  }

  private discovery(p: string, req: IncomingMessage, send: Sender): boolean {
    const port = req.socket.localPort ?? 0;
    if (p === '/api') {
      send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] });
      return true;
    }
    if (p === '/api/v1') {
      send(200, apiResourceList('v1', this.types.filter((t) => t.group === '' && t.version === 'v1')));
      return true;
    }
    if (p === '/apis') {
      const groups = this.groups().map((g) => ({
        name: g.name,
        versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${g.name}/${g.versions[0]!}`, version: g.versions[0]! },
      }));
      send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
      return true;
    }
    const gm = /^\/apis\/([^/]+)$/.exec(p);
    if (gm) {
      const g = this.groups().find((x) => x.name === gm[1]);
      if (!g) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      send(200, {
        kind: 'APIGroup',
        apiVersion: 'v1',
        name: g.name,
        versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${g.name}/${g.versions[0]!}`, version: g.versions[0]! },
      });
      return true;
    }
    const gv = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
    if (gv) {
      const types = this.types.filter((t) => t.group === gv[1] && t.version === gv[2]);
      if (types.length === 0) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      send(200, apiResourceList(`${gv[1]!}/${gv[2]!}`, types));
      return true;
    }
    if (p === '/version') {
      send(200, { major: '1', minor: '32', gitVersion: 'v1.32.0-kurier-apiserver-double', gitCommit: '', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'n/a', compiler: 'n/a', platform: 'linux/amd64' });
      return true;
    }
    if (p === '/openapi/v3') {
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const gvKey of new Set(this.types.map((t) => (t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`)))) {
        paths[gvKey] = { serverRelativeURL: `/openapi/v3/${gvKey}?hash=${this.openApiHash()}` };
      }
      send(200, { paths });
      return true;
    }
    const oa = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(p);
    if (oa) {
      const group = oa[1] ? '' : oa[2]!;
      const version = oa[1] ?? oa[3]!;
      const types = this.types.filter((t) => t.group === group && t.version === version);
      if (types.length === 0) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      send(200, openApiDocument(types));
      return true;
    }
    if (p === '/healthz' || p === '/readyz' || p === '/livez') {
      send(200, 'ok');
      return true;
    }
    return false;
  }
}

/**
 * A minimal OpenAPI v3 document for one group/version: kubectl reads it to learn that PATCH accepts
 * `fieldValidation` (then it validates server-side) and to find the schemas of custom resources.
 */
function openApiDocument(types: ResourceType[]): object {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const params = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string' }, uniqueItems: true }));
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
    const item = `${base}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}/{name}`;
    const ref = `${t.group ? t.group.split('.').reverse().join('.') : 'io.k8s.api.core'}.${t.version}.${t.kind}`;
    const op = (action: string): object => ({ 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, parameters: params, responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } } } });
    paths[item] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
    paths[`${base}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}`] = { post: op('post') };
    schemas[ref] = { ...(t.schema ? t.schema.root : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }), 'x-kubernetes-group-version-kind': [gvk] };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } };
}

type Sender = (code: number, body: unknown, headers?: Record<string, string>) => void;

interface WriteCtx {
  manager: string;
  fieldValidation: FieldValidation;
  warnings: string[];
  dryRun: boolean;
  applied?: boolean;
}

function parseFieldValidation(v: string | null): FieldValidation {
  if (v === null || v === '') return 'Warn';
  if (v === 'Ignore' || v === 'Warn' || v === 'Strict') return v;
  throw badRequest(`fieldValidation parameter unsupported: ${v}`);
}

/** The API server names an unnamed manager after the user agent's first token. */
function managerFromUserAgent(ua: string | undefined): string {
  const first = (ua ?? '').split('/')[0]?.trim();
  return first ? first.slice(0, 128) : 'unknown';
}

/** The object in `text` when it is one JSON object (read exactly as a YAML reader would), else undefined. */
function jsonObjectOf(text: string): unknown {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function decodeBody(text: string, contentType: string | undefined): unknown {
  const ct = (contentType ?? 'application/json').split(';')[0]!.trim();
  try {
    // the API server reads YAML bodies as YAML 1.1, as kubectl does
    // JSON is YAML, and reads the same as JSON (clients send apply configurations as JSON)
    if (ct.includes('yaml')) return jsonObjectOf(text) ?? readAsKubectl(text)[0] ?? null;
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`the body of the request was in an unknown format: ${(e as Error).message}`);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}
