import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../../support/cleanup.js';
import { writeConfigMapMount } from '../../support/configmap-mount.js';
import { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';
import { runKurier } from '../../support/run-kurier.js';

const cleanup = useCleanup();
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

async function mountDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kurier-targets-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readyz(dispatcher: DispatcherProcess): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${String(dispatcher.port)}/readyz`, { signal: AbortSignal.timeout(2_000) });
  return { status: response.status, text: await response.text() };
}

/** A cron dispatcher firing every second, reading its targets from `path` every 100 ms. */
const cronEnv = (path: string): Record<string, string> => ({ FUNCTION_TARGETS_FILE: path, FUNCTION_TARGETS_POLL_INTERVAL: '100ms', CRON_SCHEDULE: '* * * * * *' });

/** The targets file listing `fn` alone, as `hello`. */
const helloOnly = (fn: FunctionServer): string => JSON.stringify({ targets: [{ name: 'hello', url: fn.url }] });

/** What /readyz answers while the targets file at `path` lists none. */
const noTargetsText = (path: string): string => `not ready: no targets (FUNCTION_TARGETS_FILE ${path} lists none); nothing is consumed until one appears\n`;

/** A function, a mount whose targets file lists it, and a started cron dispatcher reading that file. */
async function cronWithOneTarget(): Promise<{ path: string; dir: string; fn: FunctionServer; dispatcher: DispatcherProcess }> {
  const dir = await mountDir();
  const path = join(dir, 'targets.json');
  const fn = await FunctionServer.start();
  cleanup.push(() => fn.close());
  await writeConfigMapMount(dir, { 'targets.json': helloOnly(fn) });
  const dispatcher = await DispatcherProcess.start('cron', cronEnv(path));
  cleanup.push(() => dispatcher.stop());
  return { path, dir, fn, dispatcher };
}

describe('kurier dispatch with FUNCTION_TARGETS_FILE (the runtime, as a real process)', () => {
  it('stops with one line when both FUNCTION_URL and FUNCTION_TARGETS_FILE are set', async () => {
    const result = await runKurier(['dispatch', 'cron'], { env: { ...baseEnv, FUNCTION_URL: 'http://127.0.0.1:9/', FUNCTION_TARGETS_FILE: '/etc/kurier/targets/targets.json', CRON_SCHEDULE: '* * * * *' } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'kurier dispatch cron: FUNCTION_URL and FUNCTION_TARGETS_FILE are both set: set one (one function\'s URL, or a file listing several)',
    ]);
  });

  it('stops with one line naming the file and its problem when the file is malformed or missing at start', async () => {
    const dir = await mountDir();
    await writeConfigMapMount(dir, { 'targets.json': '{"targets":[{"name":"a","url":"ftp://a/"}]}' });
    const path = join(dir, 'targets.json');
    const malformed = await runKurier(['dispatch', 'cron'], { env: { ...baseEnv, FUNCTION_TARGETS_FILE: path, CRON_SCHEDULE: '* * * * *' } });
    expect(malformed.code).toBe(1);
    expect(malformed.stderr.trim().split('\n')).toEqual([`kurier dispatch cron: FUNCTION_TARGETS_FILE ${path}: targets[0].url "ftp://a/" must use http or https`]);
    const missing = await runKurier(['dispatch', 'cron'], { env: { ...baseEnv, FUNCTION_TARGETS_FILE: join(dir, 'nope.json'), CRON_SCHEDULE: '* * * * *' } });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([`kurier dispatch cron: FUNCTION_TARGETS_FILE ${join(dir, 'nope.json')}: cannot be read (ENOENT)`]);
  });

  it('with zero targets takes nothing and says why on /readyz; once a target appears in the mount, delivers to it and is ready', async () => {
    const dir = await mountDir();
    const path = join(dir, 'targets.json');
    await writeConfigMapMount(dir, { 'targets.json': '{"targets":[]}' });
    const fn = await FunctionServer.start();
    cleanup.push(() => fn.close());
    const dispatcher = DispatcherProcess.spawn('cron', cronEnv(path));
    cleanup.push(() => dispatcher.stop());
    await dispatcher.waitForLog((line) => line.msg === 'no targets: waiting for the targets file to list one before subscribing');
    await dispatcher.waitForLog((line) => line.msg === 'health and metrics server listening');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await readyz(dispatcher)).toEqual({ status: 503, text: noTargetsText(path) });
    expect(fn.requests).toEqual([]);
    expect(await dispatcher.metric('kurier_dispatcher_messages_received_total')).toBe(0);
    await writeConfigMapMount(dir, { 'targets.json': helloOnly(fn) });
    await fn.waitFor((server) => server.delivered.length >= 1, 10_000);
    await dispatcher.ready(5_000);
    expect(await dispatcher.metric('kurier_dispatcher_targets')).toBe(1);
    expect(await dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered', target: 'hello' })).toBeGreaterThanOrEqual(1);
    expect(dispatcher.logs.find((line) => line.msg === 'dispatcher started')).toMatchObject({ targets: ['hello'] });
  });

  it('when the last target leaves, takes nothing more and says why on /readyz until one appears again', async () => {
    const { path, dir, fn, dispatcher } = await cronWithOneTarget();
    await fn.waitFor((server) => server.delivered.length >= 1, 10_000);
    await writeConfigMapMount(dir, { 'targets.json': '{"targets":[]}' });
    await dispatcher.waitForLog((line) => line.msg === 'targets changed: 0 now');
    const atChange = fn.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(fn.requests.length - atChange, 'requests after the last target left (at most one already in flight)').toBeLessThanOrEqual(1);
    expect((await readyz(dispatcher)).text).toBe(noTargetsText(path));
    await writeConfigMapMount(dir, { 'targets.json': helloOnly(fn) });
    await dispatcher.ready(5_000);
    const back = fn.delivered.length;
    await fn.waitFor((server) => server.delivered.length > back, 10_000, 'a delivery after the target came back');
  });

  it('keeps the last good list when the file turns malformed, warns once, and counts the failed reads', async () => {
    const { path, dir, fn, dispatcher } = await cronWithOneTarget();
    await writeConfigMapMount(dir, { 'targets.json': '{"targets": [' });
    const before = fn.delivered.length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(fn.delivered.length).toBeGreaterThan(before);
    const warnings = dispatcher.logs.filter((line) => line.msg === 'the targets file cannot be used; keeping the last good list');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', file: path });
    expect(await dispatcher.metric('kurier_dispatcher_targets_file_errors_total')).toBeGreaterThanOrEqual(5);
    expect(await dispatcher.get('/readyz')).toBe(200);
  });
});
