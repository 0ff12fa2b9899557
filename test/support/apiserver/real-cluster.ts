/**
 * The double's interface over a real cluster, for suites run with KURIER_TEST_KUBECONFIG: the kubeconfig
 * is the caller's, namespaces it creates are deleted on close, `store` reads come from watches (so they
 * are eventually consistent, as the suites' `eventually` polls expect), and what only the double can do
 * (its request log, fault injection, playing the Deployment controller) skips the calling test, saying so.
 */
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { CoreV1Api, KubeConfig, ListWatch, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { getCurrentTest } from '@vitest/runner';
import { kubeApi, type Resource } from '../../../controller/kube.js';
import { startApiServer, type ApiServerDouble, type ApiServerOptions, type RequestRecord } from './index.js';

/** The kubeconfig of a real cluster the suites should run against, if one is set. */
export const REAL_CLUSTER_KUBECONFIG: string | undefined = process.env.KURIER_TEST_KUBECONFIG === '' ? undefined : process.env.KURIER_TEST_KUBECONFIG;

const WATCHED: Readonly<Record<string, Resource>> = {
  'apps/v1 Deployment': { group: 'apps', version: 'v1', plural: 'deployments' },
  'v1 Event': { group: '', version: 'v1', plural: 'events' },
  'v1 Service': { group: '', version: 'v1', plural: 'services' },
  'v1 ConfigMap': { group: '', version: 'v1', plural: 'configmaps' },
  'keda.sh/v1alpha1 ScaledObject': { group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects' },
  'keda.sh/v1alpha1 TriggerAuthentication': { group: 'keda.sh', version: 'v1alpha1', plural: 'triggerauthentications' },
  'coordination.k8s.io/v1 Lease': { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' },
  'kurier.dev/v1alpha1 KafkaTrigger': { group: 'kurier.dev', version: 'v1alpha1', plural: 'kafkatriggers' },
  'kurier.dev/v1alpha1 PulsarTrigger': { group: 'kurier.dev', version: 'v1alpha1', plural: 'pulsartriggers' },
  'kurier.dev/v1alpha1 NATSTrigger': { group: 'kurier.dev', version: 'v1alpha1', plural: 'natstriggers' },
  'kurier.dev/v1alpha1 RabbitMQTrigger': { group: 'kurier.dev', version: 'v1alpha1', plural: 'rabbitmqtriggers' },
  'kurier.dev/v1alpha1 CronTrigger': { group: 'kurier.dev', version: 'v1alpha1', plural: 'crontriggers' },
};

const pathOf = (r: Resource): string => (r.group === '' ? `/api/${r.version}/${r.plural}` : `/apis/${r.group}/${r.version}/${r.plural}`);

/** Skips the running test (or fails outside one): what it asked for exists only in the double. */
function needsDouble(what: string): never {
  const note = `needs the API server double's ${what}; KURIER_TEST_KUBECONFIG points at a real cluster`;
  const test = getCurrentTest();
  if (test?.context) test.context.skip(note);
  throw new Error(note);
}

function kubectl(kubeconfig: string, args: string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });
}

/** Connects to the cluster of `kubeconfigPath`; resolves once every watched kind has been listed. */
export async function connectRealCluster(kubeconfigPath: string, options: { crds?: string[] } = {}): Promise<ApiServerDouble> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  for (const crd of options.crds ?? []) kubectl(kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', crd]);
  const api = kubeApi(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const created = new Set<string>();
  const informers = new Map<string, ListWatch<KubernetesObject>>();
  let closed = false;
  for (const [key, resource] of Object.entries(WATCHED)) {
    // kubeApi lists group resources; core ones come from the typed client
    const coreLists: Record<string, () => Promise<unknown>> = {
      events: () => core.listEventForAllNamespaces(),
      services: () => core.listServiceForAllNamespaces(),
      configmaps: () => core.listConfigMapForAllNamespaces(),
    };
    const list = resource.group === '' ? coreLists[resource.plural]! : () => api.list(resource, undefined);
    const informer = new ListWatch<KubernetesObject>(pathOf(resource), new Watch(kc), list as never, false);
    informer.on('error', () => {
      // a CRD not installed yet, or a dropped watch: start over, as an informer does
      setTimeout(() => {
        if (!closed) void informer.start().catch(() => undefined);
      }, 500);
    });
    informers.set(key, informer);
    await informer.start().catch(() => undefined);
  }
  const cached = (apiVersion: string, kind: string): ListWatch<KubernetesObject> => {
    const informer = informers.get(`${apiVersion} ${kind}`);
    if (!informer) throw new Error(`real-cluster mode does not watch ${apiVersion} ${kind}; add it to WATCHED in test/support/apiserver/real-cluster.ts`);
    return informer;
  };
  const cluster = kc.getCurrentCluster();
  const noRequests: RequestRecord[] = [];
  return {
    url: cluster?.server ?? '',
    kubeconfigPath,
    kubeConfig() {
      const fresh = new KubeConfig();
      fresh.loadFromFile(kubeconfigPath);
      return fresh;
    },
    get requests(): RequestRecord[] {
      needsDouble('request log');
      return noRequests;
    },
    resetRequests() {
      // nothing is recorded against a real cluster; a test reading the log skips there
    },
    setDeploymentReady() {
      return needsDouble('setDeploymentReady (a Deployment becomes ready only through kubelets)');
    },
    ensureNamespace(name) {
      try {
        kubectl(kubeconfigPath, ['create', 'namespace', name]);
        created.add(name);
      } catch (e) {
        if (!String((e as { stderr?: unknown }).stderr).includes('AlreadyExists')) throw e;
      }
    },
    installCrds(path) {
      kubectl(kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', path]);
      return [];
    },
    faults: {
      closeWatches: () => needsDouble('fault injection (faults.closeWatches)'),
      failNext: () => needsDouble('fault injection (faults.failNext)'),
      latency: () => needsDouble('fault injection (faults.latency)'),
      expireResourceVersions: () => needsDouble('fault injection (faults.expireResourceVersions)'),
      forbid: () => needsDouble('fault injection (faults.forbid)'),
      hang: () => needsDouble('fault injection (faults.hang)'),
    },
    store: {
      get(apiVersion, kind, namespace, name) {
        return cached(apiVersion, kind).get(name, namespace);
      },
      list(apiVersion, kind, namespace) {
        return [...cached(apiVersion, kind).list(namespace)];
      },
      onChange: () => needsDouble('the change feed of the store'),
    },
    resourceVersion() {
      return needsDouble('global resourceVersion');
    },
    openWatches() {
      return needsDouble('count of open watches');
    },
    connectionsAccepted() {
      return needsDouble('count of accepted connections');
    },
    async close() {
      closed = true;
      await Promise.all([...informers.values()].map((informer) => informer.stop()));
      for (const name of created) {
        try {
          kubectl(kubeconfigPath, ['delete', 'namespace', name, '--wait=false']);
        } catch {
          // already going
        }
      }
    },
  };
}

/**
 * The API server a suite should use: the real cluster of KURIER_TEST_KUBECONFIG when set (CRDs applied
 * with kubectl, double-only options ignored), else a fresh double.
 */
export async function startTestApiServer(options: ApiServerOptions = {}): Promise<ApiServerDouble> {
  if (REAL_CLUSTER_KUBECONFIG !== undefined) return connectRealCluster(REAL_CLUSTER_KUBECONFIG, { crds: options.crds ?? [] });
  return startApiServer(options);
}

/** One authenticated request with the credentials of `kc` (what fetch cannot do with client certificates). */
export async function kubeRequest(kc: KubeConfig, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
  const options: https.RequestOptions = { method, headers: { 'content-type': contentType, accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  const url = new URL(`${kc.getCurrentCluster()?.server ?? ''}${path}`);
  return new Promise((resolve, reject) => {
    const req = https.request(url, options, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 400) reject(new Error(`${method} ${path}: ${String(res.statusCode)} ${text}`));
        else resolve(text === '' ? undefined : (JSON.parse(text) as unknown));
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}
