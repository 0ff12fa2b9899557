/**
 * The controller: informers for every trigger kind and for the Deployments it manages, a work
 * queue of trigger keys, N workers running the reconciler, a periodic resync, and (optionally)
 * leader election so that of several replicas exactly one reconciles.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock } from './clock.js';
import { ApiWatchdog } from './api-watchdog.js';
import { KubeEventRecorder, type EventRecorder } from './events.js';
import { ownershipOnly, ResilientInformer, runResync, type InformerOptions } from './informers.js';
import { FunctionTargets, TARGETS_CONFIGMAP_SELECTOR } from './function-targets.js';
import { OwnedKedaObjects } from './keda-objects.js';
import { KedaWatch } from './keda-watch.js';
import { apiResources, closeConnections, CONFIG_MAPS, DEPLOYMENTS, kubeApi, SERVICES, shareConnections, statusCode, versionProbe, type KubeApi, type KubeObject } from './kube.js';
import { LeaderElector, type LeaderElectionConfig } from './leader-election.js';
import type { Logger } from './logger.js';
import { createMetrics, ReconcileResult, type ControllerMetrics, type TriggerReadiness } from './metrics.js';
import { readyCondition, Reason } from './status.js';
import {
  deploymentForCache,
  LABEL_KIND,
  LABEL_MANAGED_BY,
  LABEL_TRIGGER,
  LABEL_TRIGGER_NAMESPACE,
  LEGACY_LABEL,
  LEGACY_VALUE,
  Outcome,
  Reconciler,
  SPEC_HASH,
  triggerKey,
  type KindInfo,
  type SpecProblem,
} from './reconciler.js';
import type { KedaObjects } from '../render/autoscaling.js';
import { GROUP, VERSION, type Trigger } from '../render/trigger.js';
import { WorkQueue } from './work-queue.js';
import { fenceWrites, NotLeaderError } from './write-fence.js';

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** Defaults to the real client built from `kubeConfig`. */
  api?: KubeApi;
  kinds: readonly KindInfo[];
  render(trigger: Trigger): KubeObject & { metadata: { name: string; namespace: string } };
  isRenderError(err: unknown): err is Error;
  validate(trigger: Trigger): readonly SpecProblem[];
  /** The KEDA objects of a trigger that `render` accepted (undefined without spec.autoscaling). */
  renderAutoscaling?: (trigger: Trigger) => KedaObjects | undefined;
  /** How often API discovery is asked whether KEDA is installed (default 30 s; 0: only at start). */
  kedaDiscoveryPeriodMs?: number;
  /** `undefined` watches every namespace. */
  namespaces?: readonly string[] | undefined;
  workers?: number;
  /** 0 disables the periodic resync. */
  resyncPeriodMs?: number;
  /** Without it this instance reconciles at once. */
  leaderElection?: LeaderElectionConfig | undefined;
  identity?: string;
  queue?: { baseDelayMs?: number; maxDelayMs?: number };
  informerRestart?: { baseMs?: number; maxMs?: number };
  /** How often `GET /version` checks that the API server answers (outages are logged); 0 disables. Default 10 s. */
  apiProbeIntervalMs?: number;
  clock?: Clock;
  log: Logger;
  events?: EventRecorder;
  defaultMetrics?: boolean;
}

/** Why the controller stopped. */
export type StopReason = 'stopped' | 'lost-leadership';

export class Controller {
  readonly metrics: ControllerMetrics;
  readonly queue: WorkQueue;
  readonly #o: ControllerOptions;
  readonly #api: KubeApi;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #kinds: Map<string, KindInfo>;
  readonly #kindByLower: Map<string, string>;
  /** kind → namespace ('' = all) → informer */
  readonly #triggerInformers = new Map<string, Map<string, ResilientInformer>>();
  readonly #deploymentInformers = new Map<string, ResilientInformer>();
  /**
   * Every other Deployment, reduced to whose it is: with both caches, a name in neither is free, and
   * the reconciler creates a Deployment without asking the API server first.
   */
  readonly #otherDeploymentInformers = new Map<string, ResilientInformer>();
  readonly #legacyInformers: ResilientInformer[] = [];
  /** Services (the targets of fan-out triggers) and the targets ConfigMaps, per watched namespace ('' = all). */
  readonly #serviceInformers = new Map<string, ResilientInformer>();
  readonly #targetsInformers = new Map<string, ResilientInformer>();
  readonly #targets: FunctionTargets;
  readonly #keda: KedaWatch;
  readonly #reconciler: Reconciler;
  readonly #abort = new AbortController();
  #workers: Promise<void>[] = [];
  #elector: LeaderElector | undefined;
  readonly #watchdog: ApiWatchdog;
  #electorRun: Promise<void> | undefined;
  #reconciling = false;
  #stopped = false;
  #resolveDone!: (reason: StopReason) => void;
  /** Resolves when the controller stops, saying why. */
  readonly done: Promise<StopReason>;

  constructor(options: ControllerOptions) {
    this.#o = options;
    shareConnections(options.kubeConfig);
    // every request ends well before a lease renew deadline (client-node's own timeout is 300 s)
    const requestTimeoutMs = Math.min(30_000, Math.max(1000, (options.leaderElection?.renewDeadlineMs ?? 60_000) / 2));
    this.#api = options.api ?? kubeApi(options.kubeConfig, { requestTimeoutMs });
    // with leader election, reconciles and Events write only while the lease is known to be held
    const writer = options.leaderElection === undefined ? this.#api : fenceWrites(this.#api, () => this.#elector?.holdsLease() === true);
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log;
    const probeInterval = options.apiProbeIntervalMs ?? 10_000;
    this.#watchdog = new ApiWatchdog(versionProbe(options.kubeConfig, Math.min(requestTimeoutMs, Math.max(probeInterval, 1000))), {
      clock: this.#clock,
      log: this.#log,
      intervalMs: probeInterval,
      timeoutMs: Math.min(requestTimeoutMs, Math.max(probeInterval, 1000)),
    });
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.queue = new WorkQueue({ clock: this.#clock, ...options.queue });
    this.metrics = createMetrics({
      queueDepth: () => this.queue.length,
      triggers: () => (this.#reconciling ? this.#readiness() : []),
      defaultMetrics: options.defaultMetrics ?? false,
    });
    this.#kinds = new Map(options.kinds.map((k) => [k.kind, k]));
    this.#kindByLower = new Map(options.kinds.map((k) => [k.kind.toLowerCase(), k.kind]));
    const events =
      options.events ?? new KubeEventRecorder(writer, { clock: this.#clock, instance: options.identity ?? 'kurier-controller', log: this.#log });
    const scopes: (string | undefined)[] = options.namespaces === undefined ? [undefined] : [...options.namespaces];
    const informerOptions = {
      clock: this.#clock,
      log: this.#log,
      ...(options.informerRestart?.baseMs === undefined ? {} : { restartBaseMs: options.informerRestart.baseMs }),
      ...(options.informerRestart?.maxMs === undefined ? {} : { restartMaxMs: options.informerRestart.maxMs }),
    };

    for (const kind of options.kinds) {
      const byNs = new Map<string, ResilientInformer>();
      for (const ns of scopes) {
        const informer = new ResilientInformer(
          options.kubeConfig,
          this.#api,
          { ...informerOptions, name: `${kind.plural}${ns === undefined ? '' : `@${ns}`}`, resource: { group: GROUP, version: VERSION, plural: kind.plural }, namespace: ns },
          {
            onChange: (obj) => {
              this.#enqueueTrigger(kind.kind, obj);
            },
            onDelete: (obj) => {
              this.#enqueueTrigger(kind.kind, obj);
            },
          },
        );
        byNs.set(ns ?? '', informer);
      }
      this.#triggerInformers.set(kind.kind, byNs);
    }
    for (const ns of scopes) {
      this.#watchFanOut(options.kubeConfig, ns, informerOptions);
      this.#watchDeployments(options.kubeConfig, ns, informerOptions);
      if (this.#kinds.has('PulsarTrigger')) {
        this.#legacyInformers.push(
          new ResilientInformer(
            options.kubeConfig,
            this.#api,
            {
              ...informerOptions,
              name: `legacy-deployments${ns === undefined ? '' : `@${ns}`}`,
              resource: DEPLOYMENTS,
              namespace: ns,
              labelSelector: `${LEGACY_LABEL}=${LEGACY_VALUE}`,
            },
            {
              onChange: (obj) => {
                this.#enqueueLegacy(obj);
              },
              onDelete: (obj) => {
                this.#enqueueLegacy(obj);
              },
            },
          ),
        );
      }
    }

    this.#targets = new FunctionTargets({
      api: writer,
      services: (namespace) => this.#servicesIn(namespace),
      configMaps: () => [...this.#targetsInformers.values()].flatMap((i) => i.list()),
      events,
      log: this.#log,
    });

    this.#keda = this.#kedaWatch(scopes, informerOptions);
    this.#reconciler = new Reconciler({
      api: writer,
      kinds: this.#kinds,
      trigger: (kind, namespace, name) => this.#triggerInformer(kind, namespace)?.get(namespace, name) as Trigger | undefined,
      cachedDeployment: (namespace, name) => this.#deploymentInformer(namespace)?.get(namespace, name),
      otherDeployment: (namespace, name) => {
        const kurier = this.#deploymentInformer(namespace);
        const other = this.#otherDeploymentInformers.get('') ?? this.#otherDeploymentInformers.get(namespace);
        if (kurier?.synced !== true || other?.synced !== true) return { known: false };
        return { known: true, object: other.get(namespace, name) };
      },
      inScope: (namespace) => options.namespaces === undefined || options.namespaces.includes(namespace),
      scopeDescription: options.namespaces === undefined ? 'all namespaces' : `watched: ${options.namespaces.join(', ')}`,
      legacyDeployments: () => this.#legacyInformers.flatMap((i) => i.list()),
      render: (trigger) => options.render(trigger),
      isRenderError: (err): err is Error => options.isRenderError(err),
      validate: (trigger) => options.validate(trigger),
      ...this.#ownedKedaObjects(writer, events),
      events,
      clock: this.#clock,
      log: this.#log,
      targets: this.#targets,
    });
  }

  #servicesIn(namespace: string): KubeObject[] {
    const informer = this.#serviceInformers.get('') ?? this.#serviceInformers.get(namespace);
    return (informer?.list() ?? []).filter((s) => s.metadata.namespace === namespace);
  }

  /** Informers for Kurier's Deployments in `ns`, and for the others there reduced to whose they are. */
  #watchDeployments(kubeConfig: KubeConfig, ns: string | undefined, informerOptions: { clock: Clock; log: Logger; restartBaseMs?: number; restartMaxMs?: number }): void {
    this.#deploymentInformers.set(
      ns ?? '',
      new ResilientInformer(
        kubeConfig,
        this.#api,
        {
          ...informerOptions,
          name: `deployments${ns === undefined ? '' : `@${ns}`}`,
          resource: DEPLOYMENTS,
          namespace: ns,
          labelSelector: `${LABEL_MANAGED_BY}=kurier`,
          trim: deploymentForCache,
        },
        {
          onChange: (obj) => {
            this.#reconciler.observedDeployment(obj);
            this.#enqueueOwner(obj);
          },
          onDelete: (obj) => {
            this.#reconciler.observedDeployment(obj);
            this.#enqueueOwner(obj);
          },
        },
      ),
    );
    this.#otherDeploymentInformers.set(
      ns ?? '',
      new ResilientInformer(
        kubeConfig,
        this.#api,
        {
          ...informerOptions,
          name: `other-deployments${ns === undefined ? '' : `@${ns}`}`,
          resource: DEPLOYMENTS,
          namespace: ns,
          labelSelector: `${LABEL_MANAGED_BY}!=kurier`,
          trim: ownershipOnly([SPEC_HASH]),
        },
        {
          onChange: () => undefined,
          onDelete: (obj) => {
            this.#enqueueRefused(obj);
          },
        },
      ),
    );
  }

  /** Informers for fan-out: the Services of `ns` and the targets ConfigMaps this controller writes there. */
  #watchFanOut(kubeConfig: KubeConfig, ns: string | undefined, informerOptions: { clock: Clock; log: Logger; restartBaseMs?: number; restartMaxMs?: number }): void {
    const suffix = ns === undefined ? '' : `@${ns}`;
    this.#serviceInformers.set(
      ns ?? '',
      new ResilientInformer(
        kubeConfig,
        this.#api,
        { ...informerOptions, name: `services${suffix}`, resource: SERVICES, namespace: ns },
        {
          onChange: (obj) => {
            this.#enqueueForService(obj);
          },
          onDelete: (obj) => {
            this.#enqueueForService(obj);
          },
        },
      ),
    );
    this.#targetsInformers.set(
      ns ?? '',
      new ResilientInformer(
        kubeConfig,
        this.#api,
        { ...informerOptions, name: `targets-configmaps${suffix}`, resource: CONFIG_MAPS, namespace: ns, labelSelector: TARGETS_CONFIGMAP_SELECTOR },
        {
          onChange: (obj) => {
            this.#targets.observed(obj, false);
            this.#enqueueOwner(obj);
          },
          onDelete: (obj) => {
            this.#targets.observed(obj, true);
            this.#enqueueOwner(obj);
          },
        },
      ),
    );
  }

  /** True once every informer listed successfully (for `/readyz`). */
  get synced(): boolean {
    return this.#allInformers().every((i) => i.synced);
  }

  /**
   * For `/healthz`: false when this replica believes it leads but has not renewed its lease for
   * longer than the renew deadline (its elector should have given up by then: it is stuck).
   */
  get live(): boolean {
    const elector = this.#elector;
    const election = this.#o.leaderElection;
    if (elector === undefined || election === undefined || !elector.leading) return true;
    return elector.renewAgeMs < election.renewDeadlineMs + election.retryPeriodMs;
  }

  /** False while the API server does not answer `GET /version` (see the log). */
  get apiReachable(): boolean {
    return this.#watchdog.reachable;
  }

  /** Entries the reconciler keeps per trigger and Deployment (they go with the trigger). */
  get remembered(): number {
    return this.#reconciler.remembered + this.#targets.remembered;
  }

  /** True while this instance runs reconciles (leader, or no leader election). */
  get reconciling(): boolean {
    return this.#reconciling;
  }

  /** Starts the informers, then reconciles at once or after winning the leader election. */
  async start(): Promise<void> {
    // KEDA's presence is known before the first reconcile: a trigger with spec.autoscaling must not start at a guessed replica count
    await Promise.all([...this.#allInformers().map((i) => i.start()), this.#keda.refresh()]);
    void this.#keda.run(this.#abort.signal);
    if ((this.#o.apiProbeIntervalMs ?? 10_000) > 0) void this.#watchdog.run(this.#abort.signal);
    void runResync(
      this.#clock,
      this.#o.resyncPeriodMs ?? 600_000,
      () => {
        this.enqueueAll();
      },
      this.#abort.signal,
    );
    const election = this.#o.leaderElection;
    if (election === undefined) {
      this.#startWorkers();
      return;
    }
    this.#elector = new LeaderElector(this.#api, election, { clock: this.#clock, log: this.#log });
    this.#electorRun = this.#elector.run(
      {
        onStartedLeading: () => {
          this.#startWorkers();
        },
        onStoppedLeading: () => {
          if (!this.#stopped) {
            this.#log.error({ identity: election.identity }, 'lost the leader lease; stopping reconciles');
            void this.#shutdown('lost-leadership');
          }
        },
      },
      this.#abort.signal,
    );
  }

  /** Stops reconciling (finishing what is in process), releases the lease, stops the informers. */
  async stop(): Promise<void> {
    await this.#shutdown('stopped');
  }

  /**
   * Stops everything without releasing the lease or finishing work, as if the process died
   * (tests use it to show that another replica takes over once the lease expires).
   */
  async crash(): Promise<void> {
    this.#stopped = true;
    this.#reconciling = false;
    this.queue.shutDown();
    this.#elector?.keepLeaseOnCancel();
    this.#abort.abort();
    await this.#electorRun;
    await Promise.all([...this.#allInformers().map((i) => i.stop()), this.#keda.stop()]);
    await closeConnections(this.#o.kubeConfig);
    this.#resolveDone('stopped');
  }

  /** Renders every trigger anew with what `render` now returns (the templates were reloaded). */
  rerenderAll(): void {
    this.#reconciler.forgetRendered();
    this.enqueueAll();
  }

  /** Queues every trigger in the caches. */
  enqueueAll(): void {
    for (const [kind, byNs] of this.#triggerInformers) {
      for (const informer of byNs.values()) {
        for (const obj of informer.list()) this.#enqueueTrigger(kind, obj);
      }
    }
  }

  /** Every cached trigger's Ready condition, for `kurier_controller_trigger_ready`. */
  #readiness(): TriggerReadiness[] {
    const all: TriggerReadiness[] = [];
    for (const [kind, byNs] of this.#triggerInformers) {
      for (const informer of byNs.values()) {
        for (const obj of informer.list() as unknown as Trigger[]) {
          const { namespace, name } = obj.metadata;
          if (namespace === undefined) continue;
          all.push({ kind, namespace, name, ready: readyCondition(obj.status)?.status === 'True' });
        }
      }
    }
    return all;
  }

  async #shutdown(reason: StopReason): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reconciling = false;
    this.metrics.leader.set(0);
    // finish the keys in process, drop the queued ones (the next leader lists everything anyway);
    // not the abort yet: a lost lease must not be released, a clean stop releases after the drain
    await this.queue.shutDownWithDrain({ discardQueued: true });
    await Promise.all(this.#workers);
    this.#abort.abort();
    await this.#electorRun;
    await Promise.all([...this.#allInformers().map((i) => i.stop()), this.#keda.stop()]);
    await closeConnections(this.#o.kubeConfig);
    this.#log.info({ reason }, 'controller stopped');
    this.#resolveDone(reason);
  }

  #startWorkers(): void {
    if (this.#stopped || this.#reconciling) return;
    this.#reconciling = true;
    this.metrics.leader.set(1);
    this.enqueueAll();
    const n = this.#o.workers ?? 2;
    this.#workers = Array.from({ length: n }, () => this.#work());
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#process(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #process(key: string): Promise<void> {
    const end = this.metrics.reconcileDuration.startTimer();
    try {
      const outcome = await this.#reconciler.reconcile(key);
      this.queue.forget(key);
      const result =
        outcome === Outcome.Invalid ? ReconcileResult.Invalid : outcome === Outcome.Refused ? ReconcileResult.Refused : ReconcileResult.Success;
      this.metrics.reconciles.inc({ result });
    } catch (err) {
      this.metrics.reconciles.inc({ result: ReconcileResult.Error });
      if (this.#stopped) return;
      if (err instanceof NotLeaderError) {
        // the lease is not known to be held: the elector renews or gives up within a retry period
        this.#log.warn({ trigger: key, err: err.message }, 'write refused: leader lease not held');
        this.queue.addRateLimited(key);
        return;
      }
      this.metrics.retries.inc();
      const delay = this.queue.addRateLimited(key);
      const fields = { trigger: key, err, retryInMs: delay, attempt: this.queue.numRequeues(key) };
      // a conflict only means our cache was behind the API server: routine, retried at once
      if (statusCode(err) === 409) this.#log.debug(fields, 'conflict; will retry');
      else this.#log.warn(fields, 'reconcile failed; will retry');
    } finally {
      end();
    }
  }

  /** Discovery of keda.sh/v1alpha1 and, while KEDA is there, informers of the KEDA objects Kurier wrote. */
  #kedaWatch(scopes: readonly (string | undefined)[], informerOptions: Omit<InformerOptions, 'name' | 'resource' | 'namespace'>): KedaWatch {
    const requestTimeoutMs = Math.min(30_000, Math.max(1000, (this.#o.leaderElection?.renewDeadlineMs ?? 60_000) / 2));
    return new KedaWatch({
      discover: apiResources(this.#o.kubeConfig, requestTimeoutMs),
      informer: (resource, ns) =>
        new ResilientInformer(
          this.#o.kubeConfig,
          this.#api,
          { ...informerOptions, name: `${resource.plural}${ns === undefined ? '' : `@${ns}`}`, resource, namespace: ns, labelSelector: `${LABEL_MANAGED_BY}=kurier` },
          {
            onChange: (obj) => {
              this.#enqueueOwner(obj);
            },
            onDelete: (obj) => {
              this.#enqueueOwner(obj);
            },
          },
        ),
      scopes,
      periodMs: this.#o.kedaDiscoveryPeriodMs ?? 30_000,
      onChange: () => {
        this.enqueueAll();
      },
      clock: this.#clock,
      log: this.#log,
    });
  }

  /** The reconciler's writer of KEDA objects, when the controller was given their renderer. */
  #ownedKedaObjects(writer: KubeApi, events: EventRecorder): { autoscaling?: OwnedKedaObjects } {
    const render = this.#o.renderAutoscaling;
    if (render === undefined) return {};
    const autoscaling = new OwnedKedaObjects({
      api: writer,
      state: () => this.#keda.state,
      cached: (resource, namespace, name) => this.#keda.cached(resource, namespace, name),
      render,
      events,
      log: this.#log,
    });
    return { autoscaling };
  }

  #allInformers(): ResilientInformer[] {
    return [
      ...[...this.#triggerInformers.values()].flatMap((m) => [...m.values()]),
      ...this.#deploymentInformers.values(),
      ...this.#otherDeploymentInformers.values(),
      ...this.#legacyInformers,
      ...this.#serviceInformers.values(),
      ...this.#targetsInformers.values(),
    ];
  }

  #triggerInformer(kind: string, namespace: string): ResilientInformer | undefined {
    const byNs = this.#triggerInformers.get(kind);
    return byNs?.get('') ?? byNs?.get(namespace);
  }

  #deploymentInformer(namespace: string): ResilientInformer | undefined {
    return this.#deploymentInformers.get('') ?? this.#deploymentInformers.get(namespace);
  }

  #enqueueTrigger(kind: string, obj: KubeObject): void {
    this.queue.add(triggerKey(kind, obj.metadata.namespace ?? 'default', obj.metadata.name));
  }

  /** A managed Deployment changed: queue the trigger it belongs to. */
  #enqueueOwner(obj: KubeObject): void {
    const labels = obj.metadata.labels ?? {};
    const kind = this.#kindByLower.get(labels[LABEL_KIND] ?? '');
    if (kind === undefined) return;
    const owner = (obj.metadata.ownerReferences ?? []).find((o) => o.controller === true && o.kind === kind);
    const namespace = labels[LABEL_TRIGGER_NAMESPACE] ?? obj.metadata.namespace ?? 'default';
    if (owner !== undefined) {
      this.queue.add(triggerKey(kind, namespace, owner.name));
      return;
    }
    const label = labels[LABEL_TRIGGER];
    if (label === undefined) return;
    const direct = this.#triggerInformer(kind, namespace)?.get(namespace, label);
    if (direct !== undefined) {
      this.queue.add(triggerKey(kind, namespace, label));
      return;
    }
    // a shortened label (long trigger name): find the trigger whose Deployment this is
    for (const trigger of this.#triggerInformer(kind, namespace)?.list() ?? []) {
      const status = (trigger as unknown as Trigger).status?.deployment;
      if (status?.name === obj.metadata.name && status.namespace === obj.metadata.namespace) {
        this.queue.add(triggerKey(kind, namespace, trigger.metadata.name));
      }
    }
  }

  /** A Service came, changed or went: queue the fan-out triggers of its namespace whose targets it may change. */
  #enqueueForService(service: KubeObject): void {
    const namespace = service.metadata.namespace ?? 'default';
    for (const kind of this.#triggerInformers.keys()) {
      for (const obj of this.#triggerInformer(kind, namespace)?.list() ?? []) {
        if (obj.metadata.namespace !== namespace) continue;
        const key = triggerKey(kind, namespace, obj.metadata.name);
        if (this.#targets.concerns(key, obj as unknown as Trigger, service)) this.queue.add(key);
      }
    }
  }

  /** A Deployment that is not Kurier's went: a trigger refused for its name may now create its own. */
  #enqueueRefused(deployment: KubeObject): void {
    const namespace = deployment.metadata.namespace ?? 'default';
    for (const kind of this.#triggerInformers.keys()) {
      for (const obj of this.#triggerInformer(kind, namespace)?.list() ?? []) {
        if (obj.metadata.namespace === namespace && readyCondition((obj as unknown as Trigger).status)?.reason === Reason.DeploymentNotOwned) {
          this.#enqueueTrigger(kind, obj);
        }
      }
    }
  }

  #enqueueLegacy(obj: KubeObject): void {
    for (const informer of this.#triggerInformers.get('PulsarTrigger')?.values() ?? []) {
      for (const trigger of informer.list()) {
        if (trigger.metadata.name === obj.metadata.name) this.#enqueueTrigger('PulsarTrigger', trigger);
      }
    }
  }
}
