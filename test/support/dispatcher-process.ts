/**
 * Runs `kurier dispatch <source>` as a real child process, configured only by env, the way a
 * dispatcher pod runs: wait for /readyz, read its JSON logs and /metrics, SIGTERM/SIGKILL it, restart it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { repoRoot } from './run-kurier.js';
import { metricsText, sampleValue } from './metrics-text.js';

export interface LogLine {
  readonly level?: string;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class DispatcherProcess {
  readonly source: string;
  readonly env: Readonly<Record<string, string>>;
  readonly logs: LogLine[] = [];
  /** Every stdout line as printed (before JSON parsing merges duplicate keys). */
  readonly lines: string[] = [];
  stderr = '';
  /** The health/metrics port the process reported (METRICS_PORT defaults to 0 = any free port). */
  port = 0;
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private exit: Exit | undefined;
  private readonly waiters: (() => void)[] = [];

  private constructor(source: string, env: Readonly<Record<string, string>>) {
    this.source = source;
    this.env = env;
    this.child = spawn(process.execPath, [`${repoRoot}bin/kurier.js`, 'dispatch', source], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', METRICS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) this.onLine(line);
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.wake();
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        this.wake();
        resolve(this.exit);
      });
    });
  }

  /** Spawns the dispatcher; does not wait for it (see {@link ready}). */
  static spawn(source: string, env: Readonly<Record<string, string>>): DispatcherProcess {
    return new DispatcherProcess(source, env);
  }

  /** Spawns the dispatcher and waits until /readyz answers 200. */
  static async start(source: string, env: Readonly<Record<string, string>>, timeoutMs = 20_000): Promise<DispatcherProcess> {
    const dispatcher = new DispatcherProcess(source, env);
    await dispatcher.ready(timeoutMs);
    return dispatcher;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Resolves once a log line matches. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 20_000, what = 'log line'): Promise<LogLine> {
    return this.until(() => this.logs.find(predicate), timeoutMs, what);
  }

  /** Resolves once /readyz answers 200. */
  async ready(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.waitForLog((line) => typeof line.port === 'number' && line.msg === 'health and metrics server listening', timeoutMs, 'the health server');
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`dispatcher exited before ready: ${JSON.stringify(this.exit)}\n${this.stderr}\n${this.tail()}`);
      if ((await this.get('/readyz').catch(() => 0)) === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`dispatcher not ready after ${timeoutMs}ms\n${this.stderr}\n${this.tail()}`);
  }

  /** GETs a path on the health server; resolves with the status. */
  async get(path: string): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${this.port}${path}`, { signal: AbortSignal.timeout(2_000) });
    await response.text();
    return response.status;
  }

  async metricsText(): Promise<string> {
    return metricsText(this.port);
  }

  /** The value of one sample in /metrics, e.g. `metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered' })`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sampleValue(await this.metricsText(), name, labels);
  }

  /** Sends SIGTERM and waits for the exit. */
  async terminate(timeoutMs = 30_000): Promise<Exit> {
    this.child.kill('SIGTERM');
    return this.waitExit(timeoutMs);
  }

  /** Sends SIGKILL (no drain, no acks) and waits for the exit. */
  async kill(): Promise<Exit> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async waitExit(timeoutMs = 30_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`dispatcher did not exit within ${timeoutMs}ms\n${this.tail()}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a new process with the same source and env (the pod restarting). */
  restart(timeoutMs = 20_000): Promise<DispatcherProcess> {
    return DispatcherProcess.start(this.source, this.env, timeoutMs);
  }

  /** The last log lines, for failure messages. */
  tail(lines = 20): string {
    return this.logs.slice(-lines).map((line) => JSON.stringify(line)).join('\n');
  }

  /** Kills the process if it still runs (test cleanup). */
  async stop(): Promise<void> {
    if (this.running) await this.kill();
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    this.lines.push(line);
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      parsed = { msg: line, level: 'raw' };
    }
    this.logs.push(parsed);
    if (typeof parsed.port === 'number' && parsed.msg === 'health and metrics server listening') this.port = parsed.port;
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${timeoutMs}ms waiting for ${what}\n${this.stderr}\n${this.tail()}`));
      }, timeoutMs);
      const check = (): void => {
        const found = probe();
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        } else if (!this.running) {
          clearTimeout(timer);
          reject(new Error(`dispatcher exited (${JSON.stringify(this.exit)}) while waiting for ${what}\n${this.stderr}\n${this.tail()}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }
}
