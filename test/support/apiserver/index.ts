import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiServerCore } from './server.js';
import type { RequestRecord } from './server.js';
import type { KObj } from './store.js';

export type { RequestRecord } from './server.js';
export type { KObj } from './store.js';

/** A running Kubernetes API server double (see test/support/README.md for what it implements). */
export interface ApiServerDouble {
  readonly url: string;
  readonly kubeconfigPath: string;
  kubeConfig(): KubeConfig;
  readonly requests: RequestRecord[];
  resetRequests(): void;
  /** Plays the Deployment controller: status replicas, readyReplicas, availableReplicas, observedGeneration, conditions. */
  setDeploymentReady(namespace: string, name: string, ready: boolean): Promise<void>;
  /** Creates a namespace unless it exists (requests into a missing namespace answer 404, as in a cluster). */
  ensureNamespace(name: string): void;
  /** Installs CRDs from a YAML file, as `kubectl apply -f` would. */
  installCrds(path: string): object[];
  faults: {
    closeWatches(): void;
    failNext(count: number, status: 500 | 429, match?: (r: { method: string; path: string }) => boolean): void;
    latency(ms: number): void;
    expireResourceVersions(): void;
    /** Answers matching requests 403 Forbidden with RBAC's message (verb, resource, namespace) until the returned function is called. */
    forbid(match: (r: RequestRecord) => boolean, user?: string): () => void;
    /** Leaves matching requests unanswered (a black hole) until the returned function is called. */
    hang(match: (r: RequestRecord) => boolean): () => void;
  };
  store: {
    get(apiVersion: string, kind: string, namespace: string | undefined, name: string): object | undefined;
    list(apiVersion: string, kind: string, namespace?: string): object[];
    /** Calls `listener` with every stored version of an object of this kind, as it is stored. */
    onChange(apiVersion: string, kind: string, listener: (obj: object) => void): void;
  };
  /** The current global resourceVersion. */
  resourceVersion(): string;
  /** Watch streams open right now (a stopped informer's watch is gone). */
  openWatches(): number;
  /** TCP connections accepted so far (a client that pools connections opens few). */
  connectionsAccepted(): number;
  close(): Promise<void>;
}

export interface ApiServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** CRD YAML files installed at start. */
  crds?: string[];
  /** Where to write the kubeconfig (default: a new temporary directory). */
  kubeconfigPath?: string;
  /**
   * Play kube-controller-manager's Deployment controller (no nodes: pods never become ready): a status
   * write after every Deployment create and spec change, as on a real cluster. Default false.
   */
  deploymentController?: boolean;
  /** Create a namespace on first write into it. Default false: like a real cluster, a missing namespace answers 404. */
  autoCreateNamespaces?: boolean;
  /** Interval of BOOKMARK events on watches that allow them (default 1000 ms). */
  bookmarkIntervalMs?: number;
  /** Delay before the garbage collector runs after a change (default 0 ms: next tick). */
  gcDelayMs?: number;
  /** Changes kept for watches to resume from (default 10000); older resourceVersions answer 410 Gone. */
  historyLimit?: number;
}

function kubeconfigYaml(url: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: apiserver-double',
    '  cluster:',
    `    server: ${url}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: apiserver-double',
    '  user:',
    '    token: apiserver-double-token',
    'contexts:',
    '- name: apiserver-double',
    '  context:',
    '    cluster: apiserver-double',
    '    user: apiserver-double',
    '    namespace: default',
    'current-context: apiserver-double',
    '',
  ].join('\n');
}

/** Starts the double on 127.0.0.1 and writes a kubeconfig pointing at it. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServerDouble> {
  const core = new ApiServerCore({
    autoCreateNamespaces: options.autoCreateNamespaces ?? false,
    deploymentController: options.deploymentController ?? false,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    gcDelayMs: options.gcDelayMs ?? 0,
    historyLimit: options.historyLimit ?? 10_000,
  });
  for (const f of options.crds ?? []) core.installCrdYaml(readFileSync(f, 'utf8'));
  const server = createServer((req, res) => {
    void core.handle(req, res);
  });
  // No idle timeout, hence no `Keep-Alive: timeout=N` hint, as kube-apiserver (Go) sends none: undici
  // closes a connection whose hinted timeout is under its 2 s threshold, so a short one made every
  // client-node request open a new connection here while it reuses one against a cluster.
  server.keepAliveTimeout = 0;
  let connectionsAccepted = 0;
  server.on('connection', () => {
    connectionsAccepted++;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const kubeconfigPath = options.kubeconfigPath ?? join(mkdtempSync(join(tmpdir(), 'apiserver-double-')), 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigYaml(url));

  const typeOrThrow = (apiVersion: string, kind: string) => {
    const rt = core.typeForKind(apiVersion, kind);
    if (!rt) throw new Error(`the apiserver double does not serve ${apiVersion} ${kind}`);
    return rt;
  };

  return {
    url,
    kubeconfigPath,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfigYaml(url));
      return kc;
    },
    requests: core.requests,
    resetRequests() {
      core.requests.length = 0;
    },
    setDeploymentReady(namespace, name, ready) {
      const rt = typeOrThrow('apps/v1', 'Deployment');
      const d = core.store.get(rt.storage, namespace, name);
      if (!d) return Promise.reject(new Error(`deployments.apps "${name}" not found in namespace ${namespace}`));
      const spec = (d.spec ?? {}) as { replicas?: number };
      const replicas = spec.replicas ?? 1;
      const t = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const status: Record<string, unknown> = {
        observedGeneration: d.metadata.generation ?? 1,
        replicas,
        updatedReplicas: replicas,
        conditions: [
          ready
            ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: t, lastTransitionTime: t }
            : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: t, lastTransitionTime: t },
          { type: 'Progressing', status: 'True', reason: ready ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', message: `ReplicaSet "${name}" ${ready ? 'has successfully progressed' : 'is progressing'}.`, lastUpdateTime: t, lastTransitionTime: t },
        ],
      };
      if (ready) {
        status.readyReplicas = replicas;
        status.availableReplicas = replicas;
      } else if (replicas > 0) status.unavailableReplicas = replicas;
      core.writeUpdate({ rt, namespace, name, subresource: 'status' }, d, { ...d, status }, { manager: 'kube-controller-manager', fieldValidation: 'Ignore', warnings: [], dryRun: false }, 'update');
      return Promise.resolve();
    },
    ensureNamespace(name) {
      core.ensureNamespace(name);
    },
    installCrds(path) {
      return core.installCrdYaml(readFileSync(path, 'utf8'));
    },
    faults: {
      closeWatches() {
        core.closeWatches();
      },
      failNext(count, status, match) {
        core.addFault(count, status, match);
      },
      latency(ms) {
        core.latencyMs = ms;
      },
      expireResourceVersions() {
        core.expireResourceVersions();
      },
      forbid(match, user) {
        return core.forbid(match, user);
      },
      hang(match) {
        return core.hang(match);
      },
    },
    store: {
      get(apiVersion, kind, namespace, name) {
        const rt = typeOrThrow(apiVersion, kind);
        const o = core.store.get(rt.storage, rt.namespaced ? namespace : undefined, name);
        return o ? core.present(rt, o) : undefined;
      },
      list(apiVersion, kind, namespace) {
        const rt = typeOrThrow(apiVersion, kind);
        return core.store.list(rt.storage, rt.namespaced ? namespace : undefined).map((o: KObj) => core.present(rt, o));
      },
      onChange(apiVersion, kind, listener) {
        const rt = typeOrThrow(apiVersion, kind);
        core.store.onChange((storage, obj, removed) => {
          if (!removed && storage === rt.storage) listener(core.present(rt, obj));
        });
      },
    },
    resourceVersion() {
      return String(core.store.currentRv);
    },
    openWatches() {
      return core.openWatchCount;
    },
    connectionsAccepted() {
      return connectionsAccepted;
    },
    close() {
      core.close();
      server.closeAllConnections();
      return new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
