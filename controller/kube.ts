/** Kubernetes access: kubeconfig loading and the few verbs the controller uses, on plain JSON. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  VersionApi,
  KubeConfig,
  Observable,
  PatchStrategy,
  type ConfigurationOptions,
  type CoreV1Event,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import type { ObjectMeta } from '../render/trigger.js';

export const FIELD_MANAGER = 'kurier-controller';

/** A resource addressed by group, version and plural (`apps/v1 deployments`, a trigger kind, …). */
export interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

export const DEPLOYMENTS: Resource = { group: 'apps', version: 'v1', plural: 'deployments' };
export const LEASES: Resource = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };
export const SERVICES: Resource = { group: '', version: 'v1', plural: 'services' };
export const CONFIG_MAPS: Resource = { group: '', version: 'v1', plural: 'configmaps' };

/** Any namespaced object as plain JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta & { creationTimestamp?: string };
  [field: string]: unknown;
}

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

export interface KubeList {
  metadata?: { resourceVersion?: string };
  items: KubeObject[];
}

/** Where the kubeconfig came from, for the start-up log. */
export type KubeConfigSource = 'flag' | 'KUBECONFIG' | 'home' | 'in-cluster';

/**
 * Loads credentials in kubectl's order: `--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`, then the
 * in-cluster service account. Throws naming what was tried when nothing is usable.
 */
export function loadKubeConfig(options: {
  kubeconfig?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
}): { kubeConfig: KubeConfig; source: KubeConfigSource } {
  const loaded = loadAny(options);
  const cluster = loaded.kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error(`kubeconfig (${loaded.source}): no current context or cluster`);
  // client-node refuses plain HTTP on every request unless told to; say so once, at start
  if (cluster.server.startsWith('http://') && !cluster.skipTLSVerify) {
    throw new Error(
      `kubeconfig (${loaded.source}): cluster "${cluster.name}" is plain http (${cluster.server}); @kubernetes/client-node only allows that with insecure-skip-tls-verify: true`,
    );
  }
  return loaded;
}

function loadAny(options: {
  kubeconfig?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
}): { kubeConfig: KubeConfig; source: KubeConfigSource } {
  const kc = new KubeConfig();
  if (options.kubeconfig !== undefined) {
    kc.loadFromFile(options.kubeconfig);
    return { kubeConfig: kc, source: 'flag' };
  }
  const fromEnv = options.env['KUBECONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const first = fromEnv.split(':').find((p) => p !== '') ?? fromEnv;
    kc.loadFromFile(first);
    return { kubeConfig: kc, source: 'KUBECONFIG' };
  }
  const home = options.env['HOME'];
  if (home !== undefined && existsSync(join(home, '.kube', 'config'))) {
    kc.loadFromFile(join(home, '.kube', 'config'));
    return { kubeConfig: kc, source: 'home' };
  }
  if (options.env['KUBERNETES_SERVICE_HOST'] !== undefined) {
    kc.loadFromCluster();
    return { kubeConfig: kc, source: 'in-cluster' };
  }
  throw new Error(
    'no Kubernetes credentials: give --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or run in a cluster (KUBERNETES_SERVICE_HOST)',
  );
}

interface Closable {
  close(): Promise<void>;
}

const pools = new WeakMap<KubeConfig, Map<string, Closable>>();

/**
 * Makes every request made with `kc` share one connection pool per cluster and TLS identity.
 * client-node 2.0 builds a new undici Agent for every request, so a busy controller opens a
 * connection per call and keeps the Agents alive: slow, and hundreds of MB at 1,000 triggers.
 * Idempotent; `closeConnections` releases the pools.
 */
export function shareConnections(kc: KubeConfig): KubeConfig {
  if (pools.has(kc)) return kc;
  const pool = new Map<string, Closable>();
  pools.set(kc, pool);
  const target = kc as unknown as { createDispatcher: (cluster: unknown, agentOptions: Record<string, unknown>) => Closable | undefined };
  const original = target.createDispatcher.bind(kc);
  target.createDispatcher = (cluster, agentOptions) => {
    const server = (cluster as { server?: string } | null)?.server ?? '';
    const o = agentOptions;
    const key = [server, o['ca'], o['cert'], o['key'], o['pfx'], o['passphrase'], o['rejectUnauthorized'], o['servername']]
      .map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : String(v)))
      .join('\u0000');
    const cached = pool.get(key);
    if (cached !== undefined) return cached;
    const created = original(cluster, agentOptions);
    if (created !== undefined) pool.set(key, created);
    return created;
  };
  return kc;
}

/** Closes the pools `shareConnections` made for `kc`. */
export async function closeConnections(kc: KubeConfig): Promise<void> {
  const pool = pools.get(kc);
  if (pool === undefined) return;
  pools.delete(kc);
  await Promise.all([...pool.values()].map((d) => d.close().catch(() => undefined)));
}

/** The HTTP status of a failed API call, if it has one. */
export function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** A failed API call, naming what was asked: `cannot create deployments.apps "x" in namespace "ns": 403 …`. */
export class KubeCallError extends Error {
  override readonly name = 'KubeCallError';
  readonly code: number | undefined;
  readonly verb: string;
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly reason: string | undefined;
  constructor(call: { verb: string; resource: Resource; namespace: string | undefined; name?: string | undefined }, cause: unknown) {
    const code = statusCode(cause);
    const status = serverStatus(cause);
    const [plural = '', subresource] = call.resource.plural.split('/');
    const resource = `${plural}${call.resource.group === '' ? '' : `.${call.resource.group}`}${subresource === undefined ? '' : `/${subresource}`}`;
    const what = `${call.verb} ${resource}${call.name === undefined ? '' : ` "${call.name}"`}${call.namespace === undefined ? '' : ` in namespace "${call.namespace}"`}`;
    const detail = status?.message ?? (cause instanceof Error ? cause.message : String(cause));
    super(`cannot ${what}: ${code === undefined ? '' : `${String(code)} ${status?.reason ?? ''}`.trimEnd() + ': '}${detail}`, { cause });
    this.code = code;
    this.verb = call.verb;
    this.resource = resource;
    this.namespace = call.namespace;
    this.reason = status?.reason;
  }
}

/** The `Status` object an API server answered with, when the error carries one. */
function serverStatus(err: unknown): { message?: string; reason?: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const raw = (err as { body?: unknown }).body;
  let body: unknown = raw;
  if (typeof raw === 'string') {
    try {
      body = JSON.parse(raw) as unknown;
    } catch {
      return raw === '' ? undefined : { message: raw };
    }
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { message, reason } = body as { message?: unknown; reason?: unknown };
  return {
    ...(typeof message === 'string' ? { message } : {}),
    ...(typeof reason === 'string' ? { reason } : {}),
  };
}

/**
 * An error no retry will fix until someone changes something: permissions (403), a missing
 * namespace (404 on a write), a refused object (400, 422). The trigger's status must say so.
 */
export function isPersistent(err: unknown): boolean {
  const code = statusCode(err);
  // server-side apply answers 500 for an apply configuration it cannot type (an unknown field)
  const message = err instanceof Error ? err.message : '';
  const untypable = code === 500 && message.includes('failed to create typed patch object');
  return code === 400 || code === 403 || code === 404 || code === 422 || untypable;
}

/** A watch/list/write error that the next attempt may not see (not a programming error). */
export function isTransient(err: unknown): boolean {
  const code = statusCode(err);
  return code === undefined || code === 409 || code === 410 || code === 429 || code >= 500;
}

/** The verbs the controller needs. Everything is plain JSON so a hash of what we read is stable. */
export interface KubeApi {
  list(resource: Resource, namespace: string | undefined, labelSelector?: string): Promise<KubeList>;
  get(resource: Resource, namespace: string, name: string): Promise<KubeObject | undefined>;
  create(resource: Resource, namespace: string, body: KubeObject): Promise<KubeObject>;
  replace(resource: Resource, namespace: string, name: string, body: KubeObject): Promise<KubeObject>;
  replaceStatus(resource: Resource, namespace: string, name: string, body: KubeObject): Promise<KubeObject>;
  /**
   * Server-side apply as this controller's field manager, taking over conflicting fields: the
   * server merges `body` into the live object (creating it when missing), keeps fields other
   * managers own and removes fields this manager applied before and no longer applies.
   * `dryRun` answers what the object would become without storing it.
   */
  apply(resource: Resource, namespace: string, name: string, body: KubeObject, options?: { dryRun?: boolean }): Promise<KubeObject>;
  /** Deletes; resolves `false` when it was already gone. */
  delete(resource: Resource, namespace: string, name: string): Promise<boolean>;
  createEvent(namespace: string, event: CoreV1Event): Promise<CoreV1Event>;
  /** Applies a JSON patch (RFC 6902) to an Event. */
  patchEvent(namespace: string, name: string, ops: readonly JsonPatchOp[]): Promise<CoreV1Event>;
}

/** What `KubeConfig.applySecurityAuthentication` sets on a request: its headers and its connection pool. */
class Credentials {
  readonly headers: Record<string, string> = {};
  dispatcher: JsonDispatcher | undefined;
  setHeaderParam(name: string, value: string): void {
    this.headers[name] = value;
  }
  setDispatcher(dispatcher: unknown): void {
    this.dispatcher = dispatcher as JsonDispatcher;
  }
}

/** The part of an undici Dispatcher (the pool `shareConnections` keeps) that sends one request. */
interface JsonDispatcher {
  request(options: {
    origin: string;
    path: string;
    method: string;
    headers: Record<string, string>;
    body?: string;
    signal?: AbortSignal;
  }): Promise<{ statusCode: number; headers: Record<string, unknown>; body: { text(): Promise<string> } }>;
}

/**
 * One JSON request over the same pooled connections and credentials client-node uses, without its
 * fetch and model layers: for the writes the controller makes once or twice per trigger, where
 * those layers cost more CPU than the request. Resolves `undefined` when the kubeconfig gives no
 * dispatcher of its own (the caller then goes through client-node); a non-2xx answer rejects with
 * client-node's `ApiException` (`code`, `body`), as its clients do.
 */
export function jsonRequester(
  kc: KubeConfig,
  timeoutMs: number,
): (method: string, path: string, body: unknown, contentType?: string) => Promise<{ value: unknown } | undefined> {
  return async (method, path, body, contentType = 'application/json') => {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) return undefined;
    const credentials = new Credentials();
    await kc.applySecurityAuthentication(credentials as never);
    const dispatcher = credentials.dispatcher;
    if (dispatcher === undefined) return undefined;
    const server = new URL(cluster.server);
    const headers: Record<string, string> = { ...credentials.headers, Accept: 'application/json' };
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (text !== undefined) headers['Content-Type'] = contentType;
    const response = await dispatcher.request({
      origin: server.origin,
      path: `${server.pathname.replace(/\/$/, '')}${path}`,
      method,
      headers,
      ...(text === undefined ? {} : { body: text }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const answer = await response.body.text();
    let parsed: unknown = answer;
    try {
      parsed = answer === '' ? undefined : (JSON.parse(answer) as unknown);
    } catch {
      // not JSON: kept as text (an error page from a proxy)
    }
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw new ApiException(response.statusCode, 'Unknown API Status Code!', parsed, response.headers as Record<string, string>);
    }
    return { value: parsed };
  };
}

/** `/apis/<group>/<version>/namespaces/<ns>/<plural>/<name>` (`/api/v1/…` for the core group), URL-escaped. */
function objectPath(r: Resource, namespace: string, name?: string, subresource?: string): string {
  const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const tail = [name, subresource].filter((p) => p !== undefined).map((p) => `/${encodeURIComponent(p)}`).join('');
  return `${prefix}/namespaces/${encodeURIComponent(namespace)}/${r.plural}${tail}`;
}

/**
 * The real client. Group resources (Deployments, Leases, triggers) go through the custom-objects
 * API so they stay plain JSON end to end, exactly what watch events carry; the typed models would
 * turn timestamps into Dates and drop fields they do not know.
 */
export function kubeApi(kc: KubeConfig, options: { requestTimeoutMs?: number } = {}): KubeApi {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const base = (r: Resource, namespace: string): { group: string; version: string; plural: string; namespace: string } => ({
    group: r.group,
    version: r.version,
    plural: r.plural,
    namespace,
  });
  const call = async <T>(what: { verb: string; resource: Resource; namespace: string | undefined; name?: string }, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new KubeCallError(what, err);
    }
  };
  const plain = (r?: Resource): ConfigurationOptions => requestOptions(timeoutMs, undefined, r?.group === '');
  const lean = jsonRequester(kc, timeoutMs);
  return {
    async list(r, namespace, labelSelector) {
      const selector = labelSelector === undefined ? {} : { labelSelector };
      const list: unknown = await call({ verb: 'list', resource: r, namespace }, () =>
        namespace === undefined
          ? custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, ...selector }, plain(r))
          : custom.listNamespacedCustomObject({ ...base(r, namespace), ...selector }, plain(r)),
      );
      return list as KubeList;
    },
    async get(r, namespace, name) {
      try {
        return (await call({ verb: 'get', resource: r, namespace, name }, () => custom.getNamespacedCustomObject({ ...base(r, namespace), name }, plain(r)))) as KubeObject;
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw err;
      }
    },
    async create(r, namespace, body) {
      return (await call({ verb: 'create', resource: r, namespace, name: body.metadata.name }, () =>
        custom.createNamespacedCustomObject({ ...base(r, namespace), body, fieldManager: FIELD_MANAGER }, plain(r)),
      )) as KubeObject;
    },
    async replace(r, namespace, name, body) {
      return (await call({ verb: 'update', resource: r, namespace, name }, () =>
        custom.replaceNamespacedCustomObject({ ...base(r, namespace), name, body, fieldManager: FIELD_MANAGER }, plain(r)),
      )) as KubeObject;
    },
    async replaceStatus(r, namespace, name, body) {
      return (await call({ verb: 'update', resource: { ...r, plural: `${r.plural}/status` }, namespace, name }, async () => {
        const sent = await lean('PUT', `${objectPath(r, namespace, name, 'status')}?fieldManager=${FIELD_MANAGER}`, body);
        return sent === undefined
          ? custom.replaceNamespacedCustomObjectStatus({ ...base(r, namespace), name, body, fieldManager: FIELD_MANAGER }, plain(r))
          : sent.value;
      })) as KubeObject;
    },
    async apply(r, namespace, name, body, applyOptions = {}) {
      const dryRun = applyOptions.dryRun === true;
      return (await call({ verb: 'patch', resource: r, namespace, name }, async () => {
        const query = `?fieldManager=${FIELD_MANAGER}&force=true${dryRun ? '&dryRun=All' : ''}`;
        const sent = await lean('PATCH', `${objectPath(r, namespace, name)}${query}`, body, PatchStrategy.ServerSideApply);
        return sent === undefined
          ? custom.patchNamespacedCustomObject(
              { ...base(r, namespace), name, body, fieldManager: FIELD_MANAGER, force: true, ...(dryRun ? { dryRun: 'All' } : {}) },
              requestOptions(timeoutMs, PatchStrategy.ServerSideApply, r.group === ''),
            )
          : sent.value;
      })) as KubeObject;
    },
    async delete(r, namespace, name) {
      try {
        await call({ verb: 'delete', resource: r, namespace, name }, () =>
          custom.deleteNamespacedCustomObject({ ...base(r, namespace), name, propagationPolicy: 'Background' }, plain(r)),
        );
        return true;
      } catch (err) {
        if (statusCode(err) === 404) return false;
        throw err;
      }
    },
    async createEvent(namespace, event) {
      return call({ verb: 'create', resource: EVENTS, namespace }, async () => {
        const sent = await lean('POST', objectPath(EVENTS, namespace), event);
        return sent === undefined ? core.createNamespacedEvent({ namespace, body: event }, plain()) : (sent.value as CoreV1Event);
      });
    },
    async patchEvent(namespace, name, ops) {
      // the generated client sends the first media type it lists: application/json-patch+json
      return call({ verb: 'patch', resource: EVENTS, namespace, name }, () => core.patchNamespacedEvent({ namespace, name, body: ops }, plain()));
    },
  };
}

const EVENTS: Resource = { group: '', version: 'v1', plural: 'events' };

/** `GET /version` with a deadline: allowed to every authenticated user, the cheapest sign of life. */
export function versionProbe(kc: KubeConfig, timeoutMs: number): () => Promise<unknown> {
  const version = kc.makeApiClient(VersionApi);
  return () => version.getCode({}, requestOptions(timeoutMs));
}

/**
 * API discovery of one group/version (`GET /apis/<group>/<version>`, allowed to every authenticated
 * user by the default `system:discovery` role): the plurals it serves, or `undefined` when the API
 * server does not serve that group/version (404: its CRDs are not installed).
 */
export function apiResources(kc: KubeConfig, timeoutMs: number): (group: string, version: string) => Promise<readonly string[] | undefined> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  return async (group, version) => {
    try {
      const list = await custom.getAPIResources({ group, version }, requestOptions(timeoutMs));
      return list.resources.map((r) => r.name);
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw new KubeCallError({ verb: 'discover', resource: { group, version, plural: '' }, namespace: undefined }, err);
    }
  };
}

/**
 * Per-request options: a deadline (client-node's own is 300 s, longer than any lease renew
 * deadline), for patches the content type that selects the patch strategy, and for the core group
 * (Services, ConfigMaps) its path: the custom-objects client, which keeps objects plain JSON,
 * builds `/apis/<group>/…`, and the core group is served at `/api/v1`.
 */
function requestOptions(timeoutMs: number, contentType?: string, coreGroup = false): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (request) => {
      request.setSignal(AbortSignal.timeout(timeoutMs));
      if (coreGroup) request.setUrl(request.getUrl().replace('/apis//v1/', '/api/v1/'));
      if (contentType !== undefined) request.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
