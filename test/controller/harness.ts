/** A controller wired to its own API server double, through the real @kubernetes/client-node. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemClock, type Clock, type TimerHandle } from '../../controller/clock.js';
import { Controller } from '../../controller/controller.js';
import { kubeApi, type KubeApi, type KubeObject } from '../../controller/kube.js';
import type { LeaderElectionConfig } from '../../controller/leader-election.js';
import { silentLogger, type Logger } from '../../controller/logger.js';
import { dispatcherEnv, renderKedaObjects } from '../../render/autoscaling.js';
import { render, RenderError } from '../../render/render.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import type { Trigger } from '../../render/trigger.js';
import { loadSchemas, validateTrigger, type TriggerSchemas } from '../../render/validate.js';
import { KubeConfig } from '@kubernetes/client-node';
import type { ApiServerDouble, RequestRecord } from '../support/apiserver/index.js';
import { REAL_CLUSTER_KUBECONFIG, startTestApiServer } from '../support/apiserver/real-cluster.js';
import { repoRoot } from '../support/run-kurier.js';

export const CRD = `${repoRoot}crd.yaml`;
export const TEMPLATES = `${repoRoot}templates`;
/**
 * Where tests that elect a leader keep their Lease: on a real cluster the chart's Lease rules hold only in
 * the release namespace (KURIER_TEST_RELEASE_NAMESPACE, default kurier-system).
 */
export const TEST_LEASE_NAMESPACE = REAL_CLUSTER_KUBECONFIG === undefined ? 'default' : (process.env.KURIER_TEST_RELEASE_NAMESPACE ?? 'kurier-system');

let loaded: { templates: Templates; schemas: TriggerSchemas } | undefined;

export async function templatesAndSchemas(): Promise<{ templates: Templates; schemas: TriggerSchemas }> {
  loaded ??= { templates: await loadTemplates(TEMPLATES), schemas: loadSchemas(CRD) };
  return loaded;
}

export interface ControllerSetup {
  allowCrossNamespace?: boolean;
  clock?: Clock;
  informerRestart?: { baseMs?: number; maxMs?: number };
  log?: Logger;
  apiProbeIntervalMs?: number;
  resyncPeriodMs?: number;
  leaderElection?: LeaderElectionConfig;
  identity?: string;
  namespaces?: string[];
  kedaDiscoveryPeriodMs?: number;
}

/**
 * What the controller authenticates with: KURIER_TEST_CONTROLLER_KUBECONFIG (e.g. a ServiceAccount token
 * bound to the chart's RBAC on a real cluster) when set and naming the server's cluster, else the server's own kubeconfig.
 */
export function controllerKubeConfig(server: ApiServerDouble): KubeConfig {
  const own = server.kubeConfig();
  const path = process.env.KURIER_TEST_CONTROLLER_KUBECONFIG;
  if (path === undefined || path === '') return own;
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  // tests that start a double of their own (fault and leader-election tests) keep it in real-cluster mode
  return kc.getCurrentCluster()?.server === own.getCurrentCluster()?.server ? kc : own;
}

/** A controller with short backoffs, suitable for tests. */
export async function makeController(server: ApiServerDouble, setup: ControllerSetup = {}): Promise<Controller> {
  const { templates, schemas } = await templatesAndSchemas();
  return new Controller({
    kubeConfig: controllerKubeConfig(server),
    kinds: [...templates.kinds.values()].map((k) => ({ kind: k.kind, plural: k.plural })),
    render: (trigger: Trigger) => render(trigger, templates, { allowCrossNamespace: setup.allowCrossNamespace ?? false }),
    renderAutoscaling: (trigger: Trigger) => {
      const deployment = render(trigger, templates, { allowCrossNamespace: setup.allowCrossNamespace ?? false });
      return renderKedaObjects(trigger, templates.kinds.get(trigger.kind)?.source ?? '', { ...deployment.metadata, env: dispatcherEnv(deployment) });
    },
    isRenderError: (err): err is Error => err instanceof RenderError,
    validate: (trigger: Trigger) => validateTrigger(trigger, schemas),
    // discovery only at start unless a test installs KEDA later: a short period is load a tight lease deadline notices
    kedaDiscoveryPeriodMs: setup.kedaDiscoveryPeriodMs ?? 0,
    namespaces: setup.namespaces,
    workers: 2,
    resyncPeriodMs: setup.resyncPeriodMs ?? 0,
    leaderElection: setup.leaderElection,
    identity: setup.identity ?? 'test-controller',
    queue: { baseDelayMs: 10, maxDelayMs: 200 },
    informerRestart: setup.informerRestart ?? { baseMs: 20, maxMs: 200 },
    ...(setup.clock === undefined ? {} : { clock: setup.clock }),
    ...(setup.apiProbeIntervalMs === undefined ? {} : { apiProbeIntervalMs: setup.apiProbeIntervalMs }),
    log: setup.log ?? silentLogger,
  });
}

export interface Env {
  server: ApiServerDouble;
  api: KubeApi;
  controller: Controller;
  ns: string;
  close(): Promise<void>;
}

/** A fresh API server double (or the real cluster of KURIER_TEST_KUBECONFIG), a namespace with a unique name, and a started controller. */
export async function startEnv(setup: ControllerSetup & { extraNamespaces?: string[]; extraCrds?: string[] } = {}): Promise<Env> {
  // kube-controller-manager writes a Deployment's status after every spec change; so does the double here
  const server = await startTestApiServer({ crds: [CRD, ...(setup.extraCrds ?? [])], deploymentController: true });
  const ns = `t-${randomBytes(3).toString('hex')}`;
  server.ensureNamespace(ns);
  for (const extra of setup.extraNamespaces ?? []) server.ensureNamespace(extra);
  const api = kubeApi(server.kubeConfig());
  // a real cluster is shared by every test running at once: each controller keeps to its test's namespaces
  const namespaces = setup.namespaces ?? (REAL_CLUSTER_KUBECONFIG === undefined ? undefined : [ns, ...(setup.extraNamespaces ?? [])]);
  const controller = await makeController(server, { ...setup, ...(namespaces === undefined ? {} : { namespaces }) });
  await controller.start();
  const env: Env = {
    server,
    api,
    controller,
    ns,
    async close() {
      // the test may have swapped in another controller
      await env.controller.stop();
      await server.close();
    },
  };
  return env;
}

/** Polls `probe` until it returns a value other than `undefined`/`false`, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : JSON.stringify(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${last}`}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Edits an object as `kubectl edit` does: reads it (from the watch cache), changes it, writes it; reads and
 * writes again when another writer came first (409 Conflict: on a real cluster kube-controller-manager's
 * status writes and the controller's own land between the read and the write).
 */
export async function editLive<T, R>(read: () => T | undefined | Promise<T | undefined>, write: (live: T) => Promise<R>, what: string, timeoutMs = 10_000): Promise<R> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const live = await read();
    if (live === undefined) throw new Error(`cannot edit ${what}: not found`);
    try {
      return await write(structuredClone(live));
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || Date.now() > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The system clock, whose monotonic time a test can move forward at once: what a process sees after SIGSTOP … SIGCONT. */
export class FreezableClock implements Clock {
  #skipped = 0;
  now(): number {
    return systemClock.now() + this.#skipped;
  }
  monotonic(): number {
    return systemClock.monotonic() + this.#skipped;
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    return systemClock.setTimer(fn, ms);
  }
  /** As if the process had been frozen for `ms`. */
  skip(ms: number): void {
    this.#skipped += ms;
  }
}

/** A logger that keeps every line, for tests of what gets logged. */
export function recordingLogger(): Logger & { lines: { level: string; message: string; fields: object }[] } {
  const lines: { level: string; message: string; fields: object }[] = [];
  const at =
    (level: string) =>
    (fields: object, message = ''): void => {
      lines.push({ level, message, fields });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Requests that changed something (create, update, patch, delete) and succeeded; dry runs change nothing. */
export function writes(requests: readonly RequestRecord[]): RequestRecord[] {
  return requests.filter((r) => ['create', 'update', 'patch', 'delete'].includes(r.verb) && r.status < 400 && !r.query.includes('dryRun=All'));
}

/** Server-side applies (PATCH application/apply-patch+yaml) that were not dry runs. */
export function applies(requests: readonly RequestRecord[], resource = 'deployments'): RequestRecord[] {
  return writes(requests).filter((r) => r.resource === resource && (r.contentType ?? '').startsWith('application/apply-patch'));
}

/** `verb resource[/subresource]` of each write, e.g. `create deployments`, `update kafkatriggers/status`. */
export function describeWrites(requests: readonly RequestRecord[]): string[] {
  return writes(requests).map((r) => `${r.verb} ${r.resource}${r.subresource === undefined ? '' : `/${r.subresource}`}`);
}

export function kafkaTrigger(ns: string, name: string, topic = 'orders', extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'kurier.dev/v1alpha1',
    kind: 'KafkaTrigger',
    metadata: { name, namespace: ns },
    spec: {
      kafka: { brokers: ['kafka.kafka:9092'], topic },
      function: { url: `http://${name}-fn.${ns}.svc.cluster.local:8080/` },
      ...extra,
    },
  };
}

export const TRIGGERS = { group: 'kurier.dev', version: 'v1alpha1', plural: 'kafkatriggers' } as const;

export function getTrigger(server: ApiServerDouble, ns: string, name: string, kind = 'KafkaTrigger'): Trigger | undefined {
  return server.store.get('kurier.dev/v1alpha1', kind, ns, name) as Trigger | undefined;
}

export function getDeployment(server: ApiServerDouble, ns: string, name: string): KubeObject | undefined {
  return server.store.get('apps/v1', 'Deployment', ns, name) as KubeObject | undefined;
}

export function readyOf(trigger: Trigger | undefined): { status: string; reason: string; message: string } | undefined {
  return trigger?.status?.conditions?.find((c) => c.type === 'Ready');
}

export function eventsIn(server: ApiServerDouble, ns: string): { reason?: string; type?: string; message?: string; count?: number; involvedObject?: { name?: string } }[] {
  return server.store.list('v1', 'Event', ns);
}

export function envOf(deployment: KubeObject | undefined): Record<string, string | undefined> {
  const spec = deployment?.['spec'] as { template?: { spec?: { containers?: { name: string; env?: { name: string; value?: string }[] }[] } } } | undefined;
  const dispatcher = spec?.template?.spec?.containers?.find((c) => c.name === 'dispatcher');
  return Object.fromEntries((dispatcher?.env ?? []).map((e) => [e.name, e.value]));
}

const runFile = promisify(execFile);
/** The real kubectl the tests drive (KUBECTL=path picks one). */
export const KUBECTL = process.env['KUBECTL'] ?? 'kubectl';
let kubectlFound: Promise<boolean> | undefined;

/** True when the kubectl binary runs here; suites that need it skip (and say so) otherwise. */
export function kubectlAvailable(): Promise<boolean> {
  kubectlFound ??= runFile(KUBECTL, ['version', '--client']).then(
    () => true,
    () => false,
  );
  return kubectlFound;
}

let kubectlCacheDir: string | undefined;

/** kubectl against the test's double, in the test's namespace, with a discovery cache of its own. */
export async function kubectl(e: Env, ...args: string[]): Promise<string> {
  kubectlCacheDir ??= mkdtempSync(join(tmpdir(), 'kurier-kubectl-'));
  const { stdout } = await runFile(KUBECTL, ['--kubeconfig', e.server.kubeconfigPath, '--cache-dir', kubectlCacheDir, '-n', e.ns, ...args]);
  return stdout;
}
