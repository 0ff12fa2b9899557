/**
 * Notices an API server outage and says so in the log: informers' watches go silent when the
 * connection is black-holed, and a controller without work sends nothing else, so without this an
 * outage of minutes leaves no trace. A cheap `GET /version` every interval, with its own timeout.
 */
import { sleep, type Clock } from './clock.js';
import type { Logger } from './logger.js';

export interface WatchdogOptions {
  clock: Clock;
  log: Logger;
  intervalMs: number;
  timeoutMs: number;
  /** While the outage lasts, repeat the error line this often. */
  repeatMs?: number;
}

export class ApiWatchdog {
  readonly #probe: () => Promise<unknown>;
  readonly #o: WatchdogOptions;
  #downSince: number | undefined;
  #lastLog = 0;

  constructor(probe: () => Promise<unknown>, options: WatchdogOptions) {
    this.#probe = probe;
    this.#o = options;
  }

  /** False while the last probe failed or timed out. */
  get reachable(): boolean {
    return this.#downSince === undefined;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { clock, intervalMs } = this.#o;
    const stopped = (): boolean => signal.aborted;
    while (!stopped()) {
      await sleep(clock, intervalMs, signal);
      if (stopped()) return;
      const problem = await this.#check();
      if (stopped()) return;
      this.#report(problem);
    }
  }

  async #check(): Promise<unknown> {
    const { clock, timeoutMs } = this.#o;
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<Error>((resolve) => {
      timer = clock.setTimer(() => {
        resolve(new Error(`no answer within ${String(timeoutMs)} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([
        this.#probe().then(
          () => undefined,
          (err: unknown) => err ?? new Error('failed'),
        ),
        timeout,
      ]);
    } finally {
      timer?.cancel();
    }
  }

  #report(problem: unknown): void {
    const { clock, log } = this.#o;
    const now = clock.monotonic();
    if (problem === undefined) {
      if (this.#downSince !== undefined) log.warn({ outageMs: Math.round(now - this.#downSince) }, 'API server reachable again');
      this.#downSince = undefined;
      return;
    }
    if (this.#downSince === undefined) {
      this.#downSince = now;
      this.#lastLog = now;
      log.error({ err: problem }, 'API server unreachable');
    } else if (now - this.#lastLog >= (this.#o.repeatMs ?? 60_000)) {
      this.#lastLog = now;
      log.error({ err: problem, outageMs: Math.round(now - this.#downSince) }, 'API server still unreachable');
    }
  }
}
