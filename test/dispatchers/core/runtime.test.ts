import { afterEach, describe, expect, it } from 'vitest';
import { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';
import { runKurier } from '../../support/run-kurier.js';
import { selfSignedCertificate } from '../../support/self-signed.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

describe('kurier dispatch (the runtime, as a real process)', () => {
  it('names every bad or missing variable on its own line and exits 1 before connecting', async () => {
    const result = await runKurier(['dispatch', 'cron'], { env: { ...baseEnv, DELIVERY_TIMEOUT: 'abc', CRON_SCHEDULE: '* * * * *' } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'kurier dispatch cron: FUNCTION_URL is required (the function\'s http:// or https:// URL), or FUNCTION_TARGETS_FILE (a file listing several functions)',
      'kurier dispatch cron: DELIVERY_TIMEOUT="abc" is not a duration (e.g. 500ms, 30s, 5m)',
    ]);
    expect(result.stdout).toBe('');
  });

  it('refuses DELIVERY_TIMEOUT=700h, which Node would clamp to 1 ms, and delivers with the longest allowed, 576h', async () => {
    const refused = await runKurier(['dispatch', 'cron'], { env: { ...baseEnv, FUNCTION_URL: 'http://127.0.0.1:9/', DELIVERY_TIMEOUT: '700h', CRON_SCHEDULE: '* * * * *' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe('kurier dispatch cron: DELIVERY_TIMEOUT="700h" is longer than 576h (24 days), the longest wait a timer can hold');
    const fn = await FunctionServer.start();
    cleanup.push(() => fn.close());
    fn.setDelay(50);
    const dispatcher = await DispatcherProcess.start('cron', { FUNCTION_URL: fn.url, CRON_SCHEDULE: '* * * * * *', DELIVERY_TIMEOUT: '576h', SHUTDOWN_GRACE_PERIOD: '576h' });
    cleanup.push(() => dispatcher.stop());
    await fn.waitFor((s) => s.delivered.length >= 2, 10_000);
    expect(await dispatcher.metric('kurier_dispatcher_retries_total')).toBe(0);
  });

  it('rejects an unknown source with a usage error (exit 2)', async () => {
    const result = await runKurier(['dispatch', 'carrier-pigeon'], { env: baseEnv });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown source "carrier-pigeon"');
  });

  it('serves /healthz, /readyz and Prometheus /metrics and logs JSON lines', async () => {
    const fn = await FunctionServer.start();
    cleanup.push(() => fn.close());
    const dispatcher = await DispatcherProcess.start('cron', { FUNCTION_URL: fn.url, CRON_SCHEDULE: '* * * * * *', TRIGGER_NAME: 'probe', TRIGGER_NAMESPACE: 'ops' });
    cleanup.push(() => dispatcher.stop());
    await fn.waitFor((s) => s.delivered.length >= 1, 5_000);
    expect(await dispatcher.get('/healthz')).toBe(200);
    expect(await dispatcher.get('/readyz')).toBe(200);
    const text = await dispatcher.metricsText();
    for (const name of [
      'kurier_dispatcher_messages_received_total',
      'kurier_dispatcher_deliveries_total',
      'kurier_dispatcher_retries_total',
      'kurier_dispatcher_in_flight',
      'kurier_dispatcher_delivery_duration_seconds_bucket',
    ]) {
      expect(text).toContain(name);
    }
    expect(await dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(1);
    const started = dispatcher.logs.find((l) => l.msg === 'dispatcher started');
    expect(started).toMatchObject({ level: 'info', trigger: 'ops/probe', source: 'cron' });
    expect(typeof started?.time).toBe('string');
  });

  it('never prints the credentials of a function URL, in logs or configuration errors', async () => {
    const fn = await FunctionServer.start();
    cleanup.push(() => fn.close());
    const url = fn.url.replace('http://', 'http://alice:PASSWORD@');
    const dispatcher = await DispatcherProcess.start('cron', { FUNCTION_URL: url, CRON_SCHEDULE: '* * * * * *' });
    cleanup.push(() => dispatcher.stop());
    await fn.waitFor((s) => s.delivered.length >= 1, 5_000);
    expect(fn.delivered[0]?.headers.authorization).toBe(`Basic ${Buffer.from('alice:PASSWORD').toString('base64')}`);
    expect(dispatcher.logs.find((l) => l.msg === 'dispatcher started')?.function).toBe(fn.url.replace('http://', 'http://***@'));
    expect(JSON.stringify(dispatcher.logs)).not.toContain('PASSWORD');
    const refused = await runKurier(['dispatch', 'cron'], { env: { ...baseEnv, FUNCTION_URL: 'ftp://alice:PASSWORD@host/', CRON_SCHEDULE: '* * * * *' } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('FUNCTION_URL="ftp://***@host/" must use http or https');
    expect(refused.stderr).not.toContain('PASSWORD');
  });

  it('delivers to an https function with a private CA once NODE_EXTRA_CA_CERTS trusts it', async () => {
    const certificate = selfSignedCertificate();
    const fn = await FunctionServer.start({ tls: certificate });
    cleanup.push(() => fn.close());
    const dispatcher = await DispatcherProcess.start('cron', { FUNCTION_URL: fn.url, CRON_SCHEDULE: '* * * * * *', NODE_EXTRA_CA_CERTS: certificate.certPath });
    cleanup.push(() => dispatcher.stop());
    await fn.waitFor((s) => s.delivered.length >= 1, 5_000);
    expect(dispatcher.logs.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
  });

  it('drains on SIGTERM and exits at once on a second signal', async () => {
    const fn = await FunctionServer.start();
    cleanup.push(() => fn.close());
    fn.setDelay(20_000);
    const dispatcher = await DispatcherProcess.start('cron', { FUNCTION_URL: fn.url, CRON_SCHEDULE: '* * * * * *', SHUTDOWN_GRACE_PERIOD: '60s', DELIVERY_TIMEOUT: '60s' });
    cleanup.push(() => dispatcher.stop());
    await fn.waitFor((s) => s.requests.length >= 1, 5_000);
    dispatcher.signal('SIGTERM');
    await dispatcher.waitForLog((l) => l.msg === 'shutdown requested: draining');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(dispatcher.running).toBe(true);
    expect(await dispatcher.get('/readyz')).toBe(503);
    const started = Date.now();
    dispatcher.signal('SIGTERM');
    const exit = await dispatcher.waitExit(5_000);
    expect(exit.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
