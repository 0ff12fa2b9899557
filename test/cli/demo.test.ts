import { describe, expect, it } from 'vitest';
import { runKurier } from '../support/run-kurier.js';

describe('kurier demo (real NATS JetStream on 127.0.0.1:4222, real dispatcher process)', () => {
  it('delivers every message of the embedded trigger through a flaky function and stops cleanly', async () => {
    const started = performance.now();
    const result = await runKurier(['demo', '--messages', '60', '--fail-every', '4'], { timeoutMs: 60_000 });
    const wallSeconds = (performance.now() - started) / 1000;
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('fails the first attempt of every 4th message with 503');
    const reported = /delivered 60\/60 unique messages in ([\d.]+) s from the first publish to the last delivery \(\d+ messages\/s\): 15 retried after 503, 0 duplicates/.exec(result.stdout);
    expect(reported, result.stdout).not.toBeNull();
    // Measured, not polled: millisecond precision, and shorter than the whole run.
    const seconds = Number(reported?.[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(wallSeconds);
    expect(reported?.[1]).toMatch(/^\d+\.\d{3}$/);
    expect(result.stdout).toMatch(/ kurier_dispatcher_deliveries_total\{outcome="delivered",kind="NATSTrigger",trigger_namespace="[a-z0-9-]+",trigger="[a-z0-9-]+"\} 60$/m);
    expect(result.stdout).toContain('dispatcher stopped on SIGTERM (exit 0)');
  }, 60_000);

  it('says --fail-every 0 plainly: the function answers 200 to every request', async () => {
    const result = await runKurier(['demo', '--messages', '10', '--fail-every', '0'], { timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('answers 200 to every request (--fail-every 0)');
    expect(result.stdout).not.toContain('0th');
    expect(result.stdout).toMatch(/delivered 10\/10 unique messages in [\d.]+ s from the first publish to the last delivery \(\d+ messages\/s\): 0 retried after 503/);
  }, 60_000);

  it('exits 2 on a bad flag value, naming the flag', async () => {
    const result = await runKurier(['demo', '--messages', 'many']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--messages must be a whole number');
  });
});
