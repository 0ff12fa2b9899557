/** Fan-out suites: local functions, the targets file in the kubelet's ConfigMap layout, and per-target tallies. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cleanup } from '../../support/cleanup.js';
import { writeConfigMapMount } from '../../support/configmap-mount.js';
import type { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';
import type { RecordedRequest } from '../../support/function-server.js';
import { tally } from '../../support/stream-tally.js';

/** A ConfigMap volume holding `targets.json`, rewritten as the kubelet does (fresh `..<timestamp>/`, `..data` swapped). */
export class TargetsMount {
  readonly dir: string;
  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(cleanup: Cleanup): Promise<TargetsMount> {
    const dir = await mkdtemp(join(tmpdir(), 'kurier-targets-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    return new TargetsMount(dir);
  }

  /** The path the dispatcher reads (FUNCTION_TARGETS_FILE), `<mount>/targets.json`. */
  get path(): string {
    return join(this.dir, 'targets.json');
  }

  /** Publishes a new list: `{ name: server }`. */
  write(targets: Readonly<Record<string, FunctionServer>>): Promise<void> {
    const list = Object.entries(targets).map(([name, server]) => ({ name, url: server.url }));
    return writeConfigMapMount(this.dir, { 'targets.json': JSON.stringify({ targets: list }) });
  }
}

/** Starts `names.length` local functions, closed after the test. */
export async function startFunctions<const N extends string>(cleanup: Cleanup, names: readonly N[], seed = 7): Promise<Record<N, FunctionServer>> {
  const servers: Partial<Record<N, FunctionServer>> = {};
  let index = 0;
  for (const name of names) {
    index += 1;
    const server = await FunctionServer.start({ random: seeded(seed + index) });
    cleanup.push(() => server.close());
    servers[name] = server;
  }
  return servers as Record<N, FunctionServer>;
}

/** A small deterministic random source, so a flaky function fails the same requests each run. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

export interface TargetTally {
  readonly missing: number[];
  readonly duplicates: number;
  readonly distinct: number;
}

/** Tallies each function against `[0, total)` and prints one line per target (duplicates are reported, not hidden). */
export function report(label: string, total: number, servers: Readonly<Record<string, FunctionServer>>): Record<string, TargetTally> {
  const result: Record<string, TargetTally> = {};
  for (const [name, server] of Object.entries(servers)) {
    const counted = tally(server.delivered, total);
    result[name] = counted;
    console.log(`[${label}] target ${name}: ${String(total)} published, ${String(counted.distinct)} delivered, ${String(counted.missing.length)} missing, ${String(counted.duplicates)} duplicates, ${String(server.requests.length)} requests`);
  }
  return result;
}

/** The numbers a function got with a 2xx. */
export function numbersDelivered(server: FunctionServer): Set<number> {
  return new Set(server.delivered.map((request: RecordedRequest) => (JSON.parse(request.text) as { n: number }).n));
}

/** The common env of a fan-out dispatcher in these suites. */
export function fanOutEnv(mount: TargetsMount): Record<string, string> {
  return {
    FUNCTION_TARGETS_FILE: mount.path,
    FUNCTION_TARGETS_POLL_INTERVAL: '100ms',
    DELIVERY_RETRY_INITIAL_DELAY: '20ms',
    DELIVERY_RETRY_MAX_DELAY: '200ms',
    DELIVERY_TIMEOUT: '2s',
    SHUTDOWN_GRACE_PERIOD: '10s',
  };
}

/** Resolves once the dispatcher logged a target list of exactly `names`. */
export async function targetsApplied(dispatcher: DispatcherProcess, names: readonly string[]): Promise<void> {
  const wanted = [...names].sort().join(',');
  await dispatcher.waitForLog((line) => {
    if (line.msg?.startsWith('targets changed') !== true || !Array.isArray(line.targets)) return false;
    return (line.targets as { name: string }[]).map((target) => target.name).sort().join(',') === wanted;
  }, 10_000, `targets ${wanted}`);
}
