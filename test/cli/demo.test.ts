import { describe, expect, it } from 'vitest';
import { runKurier } from '../support/run-kurier.js';

describe('kurier demo (real NATS JetStream on 127.0.0.1:4222, real dispatcher process)', () => {
  it('delivers every message of the embedded trigger through a flaky function and stops cleanly', async () => {
    const result = await runKurier(['demo', '--messages', '60', '--fail-every', '4'], { timeoutMs: 60_000 });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/delivered 60\/60 unique messages in [\d.]+ s: 15 retried after 503, 0 duplicates/);
    expect(result.stdout).toMatch(/kurier_dispatcher_deliveries_total\{outcome="delivered",kind="NATSTrigger",trigger_namespace="[a-z0-9-]+",trigger="[a-z0-9-]+"\} 60$/m);
    expect(result.stdout).toContain('dispatcher stopped on SIGTERM (exit 0)');
  }, 60_000);

  it('exits 2 on a bad flag value, naming the flag', async () => {
    const result = await runKurier(['demo', '--messages', 'many']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--messages must be a whole number');
  });
});
