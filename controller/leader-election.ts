/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: acquire
 * when the lease is free or expired, renew every retry period, and give up leadership when no
 * renewal succeeded within the renew deadline. Writes carry the resourceVersion read, so of two
 * candidates racing for one lease exactly one wins (the other gets 409 Conflict).
 */
import { sleep, systemClock, type Clock } from './clock.js';
import { LEASES, statusCode, type KubeApi, type KubeObject } from './kube.js';
import type { Logger } from './logger.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  /** Called once when leadership is lost or given up. */
  onStoppedLeading(): void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** RFC 3339 with microseconds, the format of a Lease's MicroTime fields. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Checks the timing rules client-go enforces; returns every problem found. */
export function leaderElectionProblems(c: Pick<LeaderElectionConfig, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>): string[] {
  const problems: string[] = [];
  if (!(c.retryPeriodMs > 0)) problems.push('leader election retry period must be > 0');
  if (!(c.renewDeadlineMs > c.retryPeriodMs)) problems.push('leader election renew deadline must be greater than the retry period');
  if (!(c.leaseDurationMs > c.renewDeadlineMs)) problems.push('leader election lease duration must be greater than the renew deadline');
  return problems;
}

export class LeaderElector {
  readonly #api: KubeApi;
  readonly #config: LeaderElectionConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  /** The lease as last read, and when (on our clock) its holder/renewTime last changed. */
  #observed: KubeObject | undefined;
  #observedAt = 0;
  #leading = false;
  #releaseOnCancel = true;
  /** Monotonic time at which the last successful acquire/renew was sent (not answered: sent). */
  #renewedAt = Number.NEGATIVE_INFINITY;

  constructor(api: KubeApi, config: LeaderElectionConfig, options: { clock?: Clock; log: Logger }) {
    this.#api = api;
    this.#config = config;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /**
   * True only while this replica leads and, by its own monotonic clock, its last successful renew
   * was sent less than the renew deadline ago. Another candidate can take the lease only a lease
   * duration (longer) after it saw that renew, so a replica that checks this before each write
   * never writes while someone else leads — not after a freeze (SIGSTOP), a partition or a
   * renew request that hangs: it stops at once, before the elector has noticed anything.
   */
  holdsLease(): boolean {
    return this.#leading && this.#clock.monotonic() - this.#renewedAt < this.#config.renewDeadlineMs;
  }

  /** Milliseconds since the last successful renew was sent (Infinity before the first). */
  get renewAgeMs(): number {
    return this.#clock.monotonic() - this.#renewedAt;
  }

  /** Keep the lease on abort, as a crashed process would (tests of the takeover path). */
  keepLeaseOnCancel(): void {
    this.#releaseOnCancel = false;
  }

  /**
   * Campaigns until elected, leads until the lease is lost or `signal` aborts, then returns.
   * On abort while leading the lease is released so another candidate takes over at once.
   */
  async run(callbacks: LeaderCallbacks, signal: AbortSignal): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.#config;
    const aborted = (): boolean => signal.aborted;
    while (!aborted() && !(await this.#tryAcquireOrRenew())) {
      await sleep(this.#clock, this.#jitter(retryPeriodMs), signal);
    }
    if (aborted()) return;
    this.#leading = true;
    this.#log.info({ lease: this.#leaseKey(), identity: this.#config.identity }, 'became leader');
    callbacks.onStartedLeading();
    while (!aborted()) {
      await sleep(this.#clock, retryPeriodMs, signal);
      if (aborted()) break;
      // an attempt may take only what is left of the renew deadline: a hanging request must not
      // keep this replica leading past it (client-node's own timeout is 300 s)
      const left = renewDeadlineMs - this.renewAgeMs;
      const renewed = left > 0 && (await this.#withDeadline(this.#tryAcquireOrRenew(), left));
      if (!renewed && (this.renewAgeMs >= renewDeadlineMs || !this.#holdsObserved())) break;
    }
    this.#leading = false;
    if (aborted() && this.#releaseOnCancel) await this.#release();
    this.#log.warn({ lease: this.#leaseKey(), identity: this.#config.identity }, 'stopped leading');
    callbacks.onStoppedLeading();
  }

  /** Resolves `false` when `attempt` has not settled within `ms`. */
  async #withDeadline(attempt: Promise<boolean>, ms: number): Promise<boolean> {
    let timer: { cancel(): void } | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = this.#clock.setTimer(() => {
        this.#log.warn({ lease: this.#leaseKey(), waitedMs: Math.round(ms) }, 'leader election: no answer to the lease renew within the renew deadline');
        resolve(false);
      }, ms);
    });
    try {
      return await Promise.race([attempt, expired]);
    } finally {
      timer?.cancel();
    }
  }

  #leaseKey(): string {
    return `${this.#config.namespace}/${this.#config.name}`;
  }

  #jitter(ms: number): number {
    return ms * (1 + Math.random() * 0.2);
  }

  #holdsObserved(): boolean {
    const spec = this.#observed?.['spec'] as LeaseSpec | undefined;
    return spec?.holderIdentity === this.#config.identity;
  }

  #observe(lease: KubeObject): void {
    const before = this.#observed?.['spec'] as LeaseSpec | undefined;
    const after = lease['spec'] as LeaseSpec | undefined;
    if (this.#observed === undefined || before?.holderIdentity !== after?.holderIdentity || before?.renewTime !== after?.renewTime) {
      this.#observedAt = this.#clock.monotonic();
    }
    this.#observed = lease;
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.#config;
    const now = this.#clock.now();
    const sentAt = this.#clock.monotonic();
    const fresh: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(leaseDurationMs / 1000)),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      const current = await this.#api.get(LEASES, namespace, name);
      if (current === undefined) {
        const created = await this.#api.create(LEASES, namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: fresh,
        });
        this.#observe(created);
        this.#renewedAt = sentAt;
        return true;
      }
      this.#observe(current);
      const spec = (current['spec'] ?? {}) as LeaseSpec;
      const holder = spec.holderIdentity ?? '';
      // expiry is judged on our own clock from when we saw the record change: no clock-skew trust
      if (holder !== '' && holder !== identity && this.#observedAt + leaseDurationMs > this.#clock.monotonic()) return false;
      const next: LeaseSpec =
        holder === identity
          ? { ...spec, renewTime: fresh.renewTime, leaseDurationSeconds: fresh.leaseDurationSeconds }
          : { ...fresh, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
      const updated = await this.#api.replace(LEASES, namespace, name, { ...current, spec: next });
      this.#observe(updated);
      this.#renewedAt = sentAt;
      return true;
    } catch (err) {
      const code = statusCode(err);
      if (code !== 409) this.#log.warn({ lease: this.#leaseKey(), err }, 'leader election: lease read/write failed');
      return false;
    }
  }

  async #release(): Promise<void> {
    if (!this.#holdsObserved() || this.#observed === undefined) return;
    const spec = this.#observed['spec'] as LeaseSpec;
    try {
      await this.#api.replace(LEASES, this.#config.namespace, this.#config.name, {
        ...this.#observed,
        spec: { ...spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.#clock.now()) },
      });
    } catch (err) {
      this.#log.warn({ lease: this.#leaseKey(), err }, 'leader election: could not release the lease');
    }
  }
}
