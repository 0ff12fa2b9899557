/**
 * A minimal, fast local "function" for the dispatcher benchmark: answers every POST at once,
 * counts distinct messages of the current run by the `seq` in their JSON body, and can fail a
 * fraction of requests with 503. It keeps counters only (no per-request records), so it stays
 * cheap next to what it measures.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Deterministic PRNG (mulberry32) so failure injection is repeatable across runs. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RunStats {
  readonly expected: number;
  readonly distinct: number;
  /** 2xx answers for a message already answered 2xx (redeliveries). */
  readonly duplicates: number;
  readonly requests: number;
  readonly failuresInjected: number;
  /** performance.now() of the first request of the run, and of the last new distinct 2xx. */
  readonly firstAt: number;
  readonly lastAt: number;
  /** Distinct connections the client used (a keep-alive client at concurrency c uses at most c). */
  readonly connections: number;
  /** Milliseconds from publish to arrival, for the messages whose publish time was recorded. */
  readonly latenciesMs: readonly number[];
}

interface Run {
  readonly id: string;
  readonly expected: number;
  readonly seen: Uint8Array;
  readonly publishedAt: Float64Array;
  readonly failFraction: number;
  readonly random: () => number;
  distinct: number;
  duplicates: number;
  requests: number;
  failuresInjected: number;
  firstAt: number;
  lastAt: number;
  readonly sockets: Set<Socket>;
  latenciesMs: number[];
  waiters: { target: number; resolve: () => void }[];
  onFirst: (() => void) | undefined;
  /** Called synchronously when `distinct` reaches `target` (the end of a warm-up). */
  mark: { readonly target: number; readonly callback: (at: number) => void } | undefined;
}

/** The run id and sequence number, from a JSON body or a text body (`run <id> seq <n>`). */
const BODY_PATTERN = /"run":"([^"]*)","seq":(\d+)|^run (\S+) seq (\d+)$/;

export class BenchFunction {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private run: Run | undefined;
  port = 0;
  /** Milliseconds the function takes per request (the 5 ms variant); 0 answers at once. */
  delayMs = 0;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const answer = (): void => {
          const status = this.onRequest(Buffer.concat(chunks).toString('utf8'), req.socket);
          res.writeHead(status, { 'content-type': 'text/plain', 'content-length': '2' }).end(status === 200 ? 'ok' : 'no');
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(): Promise<BenchFunction> {
    const fn = new BenchFunction();
    await new Promise<void>((resolve, reject) => {
      fn.server.once('error', reject);
      fn.server.listen(0, '127.0.0.1', () => {
        fn.port = (fn.server.address() as AddressInfo).port;
        resolve();
      });
    });
    return fn;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Starts counting a new run: messages carry `"run":"<id>","seq":<0..expected-1>`. */
  begin(id: string, expected: number, options: { failFraction?: number; seed?: number; extra?: number } = {}): void {
    const size = expected + (options.extra ?? 0);
    this.run = {
      id,
      expected: size,
      seen: new Uint8Array(size),
      publishedAt: new Float64Array(size),
      failFraction: options.failFraction ?? 0,
      random: seededRandom(options.seed ?? 42),
      distinct: 0,
      duplicates: 0,
      requests: 0,
      failuresInjected: 0,
      firstAt: 0,
      lastAt: 0,
      sockets: new Set(),
      latenciesMs: [],
      waiters: [],
      onFirst: undefined,
      mark: undefined,
    };
  }

  /** Resolves at the first request of the current run (synchronously with it, for CPU readings). */
  firstRequest(callback: () => void): void {
    if (this.run !== undefined) this.run.onFirst = callback;
  }

  /** Calls back synchronously, with performance.now(), when the `target`th distinct message of the run arrives. */
  atDistinct(target: number, callback: (at: number) => void): void {
    if (this.run !== undefined) this.run.mark = { target, callback };
  }

  /** Records when message `seq` was published, for the latency of its arrival. */
  published(seq: number, at: number): void {
    if (this.run !== undefined) this.run.publishedAt[seq] = at;
  }

  /** Resolves once `target` distinct messages of the current run were answered 2xx. */
  waitForDistinct(target: number, timeoutMs: number): Promise<void> {
    const run = this.run;
    if (run === undefined) return Promise.reject(new Error('no run begun'));
    if (run.distinct >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${timeoutMs}ms: ${run.distinct} of ${target} distinct messages delivered`));
      }, timeoutMs);
      run.waiters.push({ target, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  stats(): RunStats {
    const run = this.run;
    if (run === undefined) throw new Error('no run begun');
    return {
      expected: run.expected,
      distinct: run.distinct,
      duplicates: run.duplicates,
      requests: run.requests,
      failuresInjected: run.failuresInjected,
      firstAt: run.firstAt,
      lastAt: run.lastAt,
      connections: run.sockets.size,
      latenciesMs: run.latenciesMs,
    };
  }

  /** Closes idle keep-alive sockets of the previous client so the next one starts from scratch. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => { resolve(); }));
  }

  private onRequest(body: string, socket: Socket): number {
    const run = this.run;
    const match = BODY_PATTERN.exec(body);
    const id = match?.[1] ?? match?.[3];
    if (run?.id !== id || run === undefined) return 200; // a straggler of an earlier run
    const now = performance.now();
    run.requests += 1;
    run.sockets.add(socket);
    if (run.firstAt === 0) {
      run.firstAt = now;
      run.onFirst?.();
    }
    if (run.failFraction > 0 && run.random() < run.failFraction) {
      run.failuresInjected += 1;
      return 503;
    }
    const seq = Number(match?.[2] ?? match?.[4]);
    if (!(seq >= 0 && seq < run.expected)) return 200;
    if (run.seen[seq] === 1) {
      run.duplicates += 1;
      return 200;
    }
    run.seen[seq] = 1;
    run.distinct += 1;
    run.lastAt = now;
    if (run.mark?.target === run.distinct) run.mark.callback(now);
    const publishedAt = run.publishedAt[seq] ?? 0;
    if (publishedAt > 0) run.latenciesMs.push(now - publishedAt);
    if (run.waiters.length > 0) {
      run.waiters = run.waiters.filter((waiter) => {
        if (run.distinct < waiter.target) return true;
        waiter.resolve();
        return false;
      });
    }
    return 200;
  }
}
