import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../dispatchers/core/config.js';
import { EnvReader } from '../../../dispatchers/core/env-reader.js';

function read(env: Record<string, string>): { reader: EnvReader; config: ReturnType<typeof parseConfig> } {
  const reader = new EnvReader(env);
  return { reader, config: parseConfig(reader, 'nats') };
}

describe('common dispatcher configuration', () => {
  it('applies the safe defaults', () => {
    const { reader, config } = read({ FUNCTION_URL: 'http://fn.shop:8080/' });
    expect(reader.problems).toEqual([]);
    expect(config.delivery).toMatchObject({ ordering: 'ordered', maxInFlight: 1, timeoutMs: 30_000, deadLetterTopic: undefined });
    expect(config.delivery.retry).toMatchObject({ maxAttempts: 0, initialDelayMs: 500, maxDelayMs: 90_000, maxElapsedMs: undefined });
    expect(config.metricsPort).toBe(9090);
    expect(config.shutdownGraceMs).toBe(25_000);
  });

  it('reads every DELIVERY_* variable', () => {
    const { reader, config } = read({
      FUNCTION_URL: 'https://fn/',
      DELIVERY_ORDERING: 'key',
      DELIVERY_MAX_IN_FLIGHT: '16',
      DELIVERY_TIMEOUT: '5s',
      DELIVERY_RETRY_MAX_ATTEMPTS: '4',
      DELIVERY_RETRY_INITIAL_DELAY: '100ms',
      DELIVERY_RETRY_MAX_DELAY: '1m',
      DELIVERY_RETRY_MAX_ELAPSED: '10m',
      DELIVERY_RETRY_WHEN: 'network,404',
      DELIVERY_DEAD_LETTER_TOPIC: 'dlq',
      DELIVERY_REPLY_TOPIC: 'out',
      SHUTDOWN_GRACE_PERIOD: '10s',
    });
    expect(reader.problems).toEqual([]);
    expect(config.delivery).toMatchObject({ ordering: 'key', maxInFlight: 16, timeoutMs: 5_000, deadLetterTopic: 'dlq', replyTopic: 'out' });
    expect(config.delivery.retry).toMatchObject({ maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 60_000, maxElapsedMs: 600_000 });
    expect([...config.delivery.retry.when.statuses]).toEqual([404]);
    expect(config.shutdownGraceMs).toBe(10_000);
  });

  it('falls back to KUBELESS_FUNCTION, as kubeless-pulsar-trigger images set it', () => {
    const { reader, config } = read({ KUBELESS_FUNCTION: 'http://legacy.default:8080' });
    expect(reader.problems).toEqual([]);
    expect(config.functionUrl).toBe('http://legacy.default:8080');
  });

  it('names every bad variable, one line each', () => {
    const { reader } = read({
      DELIVERY_TIMEOUT: 'abc',
      DELIVERY_ORDERING: 'sorted',
      DELIVERY_MAX_IN_FLIGHT: '0',
      DELIVERY_RETRY_WHEN: 'network,later',
      METRICS_PORT: 'http',
    });
    expect(reader.problems).toEqual([
      'FUNCTION_URL is required (the function\'s http:// or https:// URL), or FUNCTION_TARGETS_FILE (a file listing several functions)',
      'DELIVERY_TIMEOUT="abc" is not a duration (e.g. 500ms, 30s, 5m)',
      'DELIVERY_ORDERING="sorted" must be one of ordered, key, unordered',
      'DELIVERY_MAX_IN_FLIGHT="0" is not an integer in [1, 10000]',
      'DELIVERY_RETRY_WHEN item "later" is not one of network, timeout, tls, 4xx, 5xx or a status code like 408',
      'METRICS_PORT="http" is not an integer in [0, 65535]',
    ]);
  });

  it('refuses every duration longer than 576h instead of letting Node clamp its timer to 1 ms', () => {
    const reader = new EnvReader({
      FUNCTION_URL: 'http://fn:8080/',
      DELIVERY_TIMEOUT: '700h',
      DELIVERY_RETRY_MAX_DELAY: '600h',
      SHUTDOWN_GRACE_PERIOD: '1000h',
      DELIVERY_RETRY_INITIAL_DELAY: '576h',
    });
    parseConfig(reader, 'cron');
    const tooLong = 'is longer than 576h (24 days), the longest wait a timer can hold';
    expect(reader.problems).toEqual([
      `DELIVERY_TIMEOUT="700h" ${tooLong}`,
      `DELIVERY_RETRY_MAX_DELAY="600h" ${tooLong}`,
      'DELIVERY_RETRY_MAX_DELAY (90000ms) must not be shorter than DELIVERY_RETRY_INITIAL_DELAY (2073600000ms)',
      `SHUTDOWN_GRACE_PERIOD="1000h" ${tooLong}`,
    ]);
  });

  it('reads FUNCTION_TARGETS_FILE and its poll interval (default 5s) instead of FUNCTION_URL', () => {
    const { reader, config } = read({ FUNCTION_TARGETS_FILE: '/etc/kurier/targets/targets.json' });
    expect(reader.problems).toEqual([]);
    expect(config.targetsFile).toEqual({ path: '/etc/kurier/targets/targets.json', pollIntervalMs: 5_000 });
    expect(read({ FUNCTION_TARGETS_FILE: '/t.json', FUNCTION_TARGETS_POLL_INTERVAL: '1m30s' }).config.targetsFile?.pollIntervalMs).toBe(90_000);
    expect(read({ FUNCTION_URL: 'http://fn/' }).config.targetsFile).toBeUndefined();
  });

  it('refuses FUNCTION_URL (or KUBELESS_FUNCTION) together with FUNCTION_TARGETS_FILE, and a poll interval of 0', () => {
    expect(read({ FUNCTION_URL: 'http://fn/', FUNCTION_TARGETS_FILE: '/t.json' }).reader.problems)
      .toEqual(['FUNCTION_URL and FUNCTION_TARGETS_FILE are both set: set one (one function\'s URL, or a file listing several)']);
    expect(read({ KUBELESS_FUNCTION: 'http://fn/', FUNCTION_TARGETS_FILE: '/t.json' }).reader.problems)
      .toEqual(['KUBELESS_FUNCTION and FUNCTION_TARGETS_FILE are both set: set one (one function\'s URL, or a file listing several)']);
    expect(read({ FUNCTION_TARGETS_FILE: '/t.json', FUNCTION_TARGETS_POLL_INTERVAL: '0' }).reader.problems)
      .toEqual(['FUNCTION_TARGETS_POLL_INTERVAL must be longer than 0']);
    expect(read({ FUNCTION_TARGETS_FILE: '/t.json', FUNCTION_TARGETS_POLL_INTERVAL: 'often' }).reader.problems)
      .toEqual(['FUNCTION_TARGETS_POLL_INTERVAL="often" is not a duration (e.g. 500ms, 30s, 5m)']);
  });

  it('refuses a function URL that is not http(s)', () => {
    const { reader } = read({ FUNCTION_URL: 'ftp://fn/' });
    expect(reader.problems).toEqual(['FUNCTION_URL="ftp://fn/" must use http or https']);
  });
});
