/**
 * A real Prometheus server (the binary of Debian's `prometheus` package) scraping given targets
 * every second, with its HTTP query API, for checking that dashboard queries return data.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../support/free-port.js';

export interface QueryResult {
  readonly status: string;
  readonly error?: string;
  readonly data?: { readonly resultType: string; readonly result: unknown };
}

export class PrometheusServer {
  readonly url: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<unknown>;
  private readonly dir: string;

  private constructor(child: ChildProcess, exited: Promise<unknown>, dir: string, url: string) {
    this.child = child;
    this.exited = exited;
    this.dir = dir;
    this.url = url;
  }

  /** Starts Prometheus scraping `targets` (job name → host:port) every second. */
  static async start(binary: string, targets: Record<string, string>): Promise<PrometheusServer> {
    const dir = await mkdtemp(join(tmpdir(), 'kurier-prometheus-'));
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: Object.entries(targets).map(([job, target]) => ({ job_name: job, static_configs: [{ targets: [target] }] })),
    };
    await writeFile(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const child = spawn(
      binary,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${String(port)}`, '--log.level=error'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    return new PrometheusServer(child, exited, dir, `http://127.0.0.1:${String(port)}`);
  }

  /** An instant query through the HTTP API; never throws on a PromQL error (it is in the result). */
  async query(expr: string): Promise<QueryResult> {
    const response = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: expr }).toString()}`, { signal: AbortSignal.timeout(5_000) });
    return (await response.json()) as QueryResult;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
    await rm(this.dir, { recursive: true, force: true });
  }
}
