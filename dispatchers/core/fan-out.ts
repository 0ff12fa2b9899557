import type { DispatchPipeline } from './pipeline.js';
import type { Target } from './targets-file.js';
import type { Admission, AdmitOptions, Logger, Message, Settlement } from './types.js';
import { ReleasedError } from './types.js';

/** One target's own delivery pipeline (its URL, retries, ordering lanes and maxInFlight slots). */
export interface TargetPipeline {
  readonly pipeline: DispatchPipeline;
  /** Frees what the pipeline holds (its HTTP client); called once it drained. */
  close(): void;
}

export interface FanOutOptions {
  readonly targets: readonly Target[];
  readonly createTarget: (target: Target) => TargetPipeline;
  readonly logger: Logger;
  /** Counted once per message taken from the source, however many targets it goes to. */
  readonly received: { inc(): void };
  /** Set to the number of targets whenever it changes. */
  readonly targetCount?: { set(value: number): void };
}

/** The core's pipeline in front of several targets, with the target list it delivers to. */
export interface FanOutPipeline extends DispatchPipeline {
  /** Replaces the targets: those added receive messages admitted from now on; those gone are abandoned. */
  setTargets(targets: readonly Target[]): void;
  readonly targets: readonly Target[];
  /** Resolves once there is at least one target (at once if there is). */
  whenTargets(): Promise<void>;
  /** Closes every target's client (after {@link drain}). */
  close(): void;
}

const RELEASED_BY_SOURCE = 'released: the source took the message back';
const EVERY_TARGET_LEFT = 'every target it was for left before it settled';

interface Lane {
  readonly target: Target;
  readonly pipeline: DispatchPipeline;
  readonly close: () => void;
  /** Set before the lane's pipeline is drained, so its releases read as abandoned, not as shutdown. */
  removed: boolean;
  /** Messages admitted to this lane and not yet settled there. */
  pending: number;
}

export type LaneResult =
  | { readonly kind: 'settled'; readonly settlement: Settlement; readonly target: string }
  | { readonly kind: 'abandoned' }
  | { readonly kind: 'released'; readonly error: ReleasedError };

interface Waiter {
  readonly message: Message;
  readonly release: AbortSignal | undefined;
  readonly resolve: (admission: Promise<Admission>) => void;
  readonly reject: (error: ReleasedError) => void;
  readonly detach: () => void;
}

function asReleased(error: unknown): ReleasedError {
  return error instanceof ReleasedError ? error : new ReleasedError('released after an unexpected error', { cause: error });
}

/**
 * One message's settlement from its targets' results: released if any target still listed
 * released it (the source delivers it again, to every target), else acknowledged — dropped when
 * a target dropped it or every target left, dead-lettered when one dead-lettered it.
 */
export function combineSettlements(results: readonly LaneResult[]): Settlement {
  const released = results.find((result) => result.kind === 'released');
  if (released !== undefined) throw released.error;
  const settled = results.flatMap((result) => (result.kind === 'settled' ? [result] : []));
  const attempts = Math.max(0, ...settled.map((result) => result.settlement.attempts));
  if (settled.length === 0) return { outcome: 'dropped', status: undefined, attempts, reason: EVERY_TARGET_LEFT };
  const dropped = settled.filter((result) => result.settlement.outcome === 'dropped');
  if (dropped.length > 0) {
    const reasons = dropped.map(({ target, settlement }) => `${target}: ${settlement.outcome === 'dropped' ? settlement.reason : ''}`);
    return { outcome: 'dropped', status: dropped[0]?.settlement.status, attempts, reason: reasons.join('; ') };
  }
  const deadLettered = settled.find((result) => result.settlement.outcome === 'dead-lettered');
  if (deadLettered !== undefined) return { outcome: 'dead-lettered', status: deadLettered.settlement.status, attempts };
  return { outcome: 'delivered', status: settled[0]?.settlement.status ?? 200, attempts };
}

/**
 * Creates the fan-out: every message goes to each target's own pipeline; it is settled (and so
 * acknowledged by the adapter) once every target settled it or left. Admission waits for a slot
 * at every target, so the source's window is bounded by the slowest target and a fast target runs
 * at most that window ahead of it. With no targets, admission waits until one appears.
 */
export function createFanOut(options: FanOutOptions): FanOutPipeline {
  return new FanOut(options);
}

class FanOut implements FanOutPipeline {
  private readonly options: FanOutOptions;
  private readonly lanes = new Map<string, Lane>();
  private readonly waiting: Waiter[] = [];
  private readonly targetWaiters: (() => void)[] = [];
  /** Pipelines of removed targets still draining (their HTTP attempts being aborted). */
  private readonly leaving = new Set<Promise<void>>();
  private isDraining = false;
  private admitted = 0;

  constructor(options: FanOutOptions) {
    this.options = options;
    this.setTargets(options.targets);
  }

  get draining(): boolean {
    return this.isDraining;
  }

  get pending(): number {
    return this.admitted;
  }

  get targets(): readonly Target[] {
    return [...this.lanes.values()].map((lane) => lane.target);
  }

  whenTargets(): Promise<void> {
    if (this.lanes.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.targetWaiters.push(resolve));
  }

  admit(message: Message, options: AdmitOptions = {}): Promise<Admission> {
    if (this.isDraining) return Promise.reject(new ReleasedError());
    const { release } = options;
    if (release?.aborted === true) return Promise.reject(new ReleasedError(RELEASED_BY_SOURCE));
    this.options.received.inc();
    if (this.lanes.size > 0 && this.waiting.length === 0) return this.spread(message, release);
    return new Promise<Admission>((resolve, reject) => {
      const onRelease = (): void => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new ReleasedError(RELEASED_BY_SOURCE));
      };
      const waiter: Waiter = { message, release, resolve, reject, detach: () => release?.removeEventListener('abort', onRelease) };
      release?.addEventListener('abort', onRelease, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Admits `message` to every current target at once (in call order, which is each target's order). */
  private spread(message: Message, release: AbortSignal | undefined): Promise<Admission> {
    const lanes = [...this.lanes.values()];
    this.admitted += 1;
    const admissions = lanes.map((lane) => {
      lane.pending += 1;
      return lane.pipeline.admit(message, release === undefined ? {} : { release });
    });
    const results = lanes.map((lane, index) => this.resultAt(lane, admissions[index] as Promise<Admission>));
    const settled = Promise.all(results).then(combineSettlements).finally(() => { this.admitted -= 1; });
    // The adapter handles the rejection; this keeps an unobserved release from crashing the process.
    settled.catch(() => undefined);
    return Promise.allSettled(admissions).then((outcomes) => {
      const refused = outcomes.findIndex((outcome, index) => outcome.status === 'rejected' && lanes[index]?.removed !== true);
      const outcome = outcomes[refused];
      if (outcome?.status === 'rejected') throw asReleased(outcome.reason);
      return { settled };
    });
  }

  private async resultAt(lane: Lane, admission: Promise<Admission>): Promise<LaneResult> {
    try {
      const settlement = await (await admission).settled;
      return { kind: 'settled', settlement, target: lane.target.name };
    } catch (error) {
      return lane.removed ? { kind: 'abandoned' } : { kind: 'released', error: asReleased(error) };
    } finally {
      lane.pending -= 1;
    }
  }

  setTargets(targets: readonly Target[]): void {
    const wanted = new Map(targets.map((target) => [target.name, target]));
    for (const lane of [...this.lanes.values()]) {
      const next = wanted.get(lane.target.name);
      if (next?.url !== lane.target.url) this.remove(lane, next === undefined ? 'left' : 'changed its URL');
    }
    for (const target of targets) {
      if (this.lanes.has(target.name)) continue;
      const created = this.options.createTarget(target);
      this.lanes.set(target.name, { target, pipeline: created.pipeline, close: () => { created.close(); }, removed: false, pending: 0 });
    }
    this.options.targetCount?.set(this.lanes.size);
    if (this.lanes.size === 0) return;
    for (const resolve of this.targetWaiters.splice(0)) resolve();
    // Synchronously, in arrival order: no admit can slip in between.
    for (const waiter of this.waiting.splice(0)) {
      waiter.detach();
      waiter.resolve(this.spread(waiter.message, waiter.release));
    }
  }

  private remove(lane: Lane, why: string): void {
    lane.removed = true;
    this.lanes.delete(lane.target.name);
    this.options.logger.warn(
      { target: lane.target.name, abandoned: lane.pending },
      `target ${why}: its ${String(lane.pending)} pending deliveries are abandoned and no longer hold acknowledgements`,
    );
    // No grace: an attempt in progress is aborted now; the other targets' acks wait for nothing.
    const leaving = lane.pipeline.drain(0).finally(() => {
      lane.close();
      this.leaving.delete(leaving);
    });
    this.leaving.add(leaving);
  }

  async drain(graceMs: number): Promise<void> {
    this.isDraining = true;
    for (const waiter of this.waiting.splice(0)) {
      waiter.detach();
      waiter.reject(new ReleasedError());
    }
    for (const resolve of this.targetWaiters.splice(0)) resolve();
    await Promise.all([...[...this.lanes.values()].map((lane) => lane.pipeline.drain(graceMs)), ...this.leaving]);
  }

  close(): void {
    for (const lane of this.lanes.values()) lane.close();
  }
}
