import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRetryWhen } from '../../../dispatchers/core/config.js';
import { REPLY_BODY_LIMIT } from '../../../dispatchers/core/pipeline.js';
import { ReleasedError } from '../../../dispatchers/core/types.js';
import type { Settlement } from '../../../dispatchers/core/types.js';
import { FunctionServer } from '../../support/function-server.js';
import { selfSignedCertificate } from '../../support/self-signed.js';
import { counterValue, deliveryConfig, harness, message } from './helpers.js';
import type { Harness } from './helpers.js';

let fn: FunctionServer;
let h: Harness | undefined;

beforeEach(async () => {
  fn = await FunctionServer.start();
});
afterEach(async () => {
  h?.close();
  h = undefined;
  await fn.close();
});

async function deliver(target: Harness, msg = message()): Promise<Settlement> {
  const admission = await target.pipeline.admit(msg);
  return admission.settled;
}

describe('delivery and retry', () => {
  it('retries a 503 with capped exponential backoff and then delivers', async () => {
    h = harness(fn.url, deliveryConfig({ retry: { initialDelayMs: 100, maxDelayMs: 300 } }), { random: () => 1 });
    fn.answer({ status: 503 }, { status: 503 }, { status: 500 }, { status: 502 });
    const settlement = await deliver(h);
    expect(settlement).toEqual({ outcome: 'delivered', status: 200, attempts: 5 });
    expect(h.clock.sleeps).toEqual([100, 200, 300, 300]);
    expect(await counterValue(h.metrics, 'kurier_dispatcher_retries_total')).toBe(4);
    expect(await counterValue(h.metrics, 'kurier_dispatcher_deliveries_total', { outcome: 'delivered' })).toBe(1);
  });

  it('counts a connection the function drops mid-request as one failed attempt: the client never re-sends on its own', async () => {
    h = harness(fn.url, deliveryConfig({ retry: { initialDelayMs: 100 } }), { random: () => 1 });
    fn.answer({ drop: true });
    expect(await deliver(h)).toEqual({ outcome: 'delivered', status: 200, attempts: 2 });
    expect(fn.requests.map((request) => request.status)).toEqual([0, 200]);
    expect(h.clock.sleeps).toEqual([100]);
    expect(await counterValue(h.metrics, 'kurier_dispatcher_retries_total')).toBe(1);
  });

  it('honours Retry-After, up to the maximum delay', async () => {
    h = harness(fn.url, deliveryConfig({ retry: { initialDelayMs: 100, maxDelayMs: 10_000 } }));
    fn.answer({ status: 429, headers: { 'retry-after': '7' } }, { status: 503, headers: { 'retry-after': '3600' } });
    await deliver(h);
    expect(h.clock.sleeps).toEqual([7_000, 10_000]);
  });

  it('falls back to the computed backoff for a Retry-After that is neither an integer nor an HTTP-date', async () => {
    h = harness(fn.url, deliveryConfig({ retry: { initialDelayMs: 100, maxDelayMs: 10_000 } }), { random: () => 1 });
    fn.answer(
      { status: 503, headers: { 'retry-after': '1.5' } },
      { status: 503, headers: { 'retry-after': '-1' } },
      { status: 429, headers: { 'retry-after': 'Wed, 01 Jan 2100 00:00:00 GMT' } },
    );
    const settlement = await deliver(h);
    expect(settlement).toEqual({ outcome: 'delivered', status: 200, attempts: 4 });
    // 100 and 200 are the backoff; a date 74 years away is capped at maxDelay.
    expect(h.clock.sleeps).toEqual([100, 200, 10_000]);
  });

  it('delivers a message whose timestamp is outside the range of a date, without time headers, and dead-letters one the same way', async () => {
    h = harness(fn.url, deliveryConfig({ deadLetterTopic: 'dlq', retry: { maxAttempts: 1 } }));
    const nanoseconds = new Date(1_733_000_000_000_000_000);
    expect(await deliver(h, message({ id: 'ok', time: nanoseconds }))).toMatchObject({ outcome: 'delivered', attempts: 1 });
    expect(fn.delivered.map((r) => r.headers['ce-id'])).toEqual(['ok']);
    expect(fn.delivered[0]?.headers['ce-time']).toBeUndefined();
    fn.answer({ status: 400 });
    expect(await deliver(h, message({ id: 'bad', time: nanoseconds }))).toMatchObject({ outcome: 'dead-lettered' });
    const envelope = JSON.parse(h.publisher.published[0]!.body.toString('utf8'));
    expect(envelope.id).toBe('bad');
    expect(envelope.message.time).toBeUndefined();
  });

  it('sends the URL\'s credentials as Basic auth but never puts them in a dead-letter envelope', async () => {
    const url = fn.url.replace('http://', 'http://alice:S3cr%40t@');
    h = harness(url, deliveryConfig({ deadLetterTopic: 'dlq', retry: { maxAttempts: 1 } }));
    fn.answer({ status: 400 });
    expect(await deliver(h)).toMatchObject({ outcome: 'dead-lettered' });
    expect(fn.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('alice:S3cr@t').toString('base64')}`);
    const published = h.publisher.published[0]!.body.toString('utf8');
    expect(published).not.toContain('S3cr');
    expect(published).not.toContain('alice');
    expect(JSON.parse(published).delivery.functionUrl).toBe(fn.url.replace('http://', 'http://***@'));
  });

  it('does not retry a refused TLS certificate: the message fails at once with a reason that says how to trust it', async () => {
    const tlsFn = await FunctionServer.start({ tls: selfSignedCertificate() });
    try {
      h = harness(tlsFn.url, deliveryConfig({ deadLetterTopic: 'dlq' }));
      const settlement = await deliver(h);
      expect(settlement).toEqual({ outcome: 'dead-lettered', status: undefined, attempts: 1 });
      expect(h.clock.sleeps).toEqual([]);
      const envelope = JSON.parse(h.publisher.published[0]!.body.toString('utf8'));
      expect(envelope.delivery.lastError).toMatch(/^TLS certificate of the function refused: self[- ]signed certificate.*NODE_EXTRA_CA_CERTS/);
    } finally {
      await tlsFn.close();
    }
  });

  it('retries a refused TLS certificate when DELIVERY_RETRY_WHEN lists tls', async () => {
    const tlsFn = await FunctionServer.start({ tls: selfSignedCertificate() });
    try {
      h = harness(tlsFn.url, deliveryConfig({ retry: { maxAttempts: 3, when: parseRetryWhen(['tls'], () => undefined) } }));
      expect(await deliver(h)).toMatchObject({ outcome: 'dropped', attempts: 3 });
      expect(h.clock.sleeps).toHaveLength(2);
    } finally {
      await tlsFn.close();
    }
  });

  it('does not follow a redirect: a 307 is a permanent failure whose reason names the Location', async () => {
    h = harness(fn.url, deliveryConfig({ deadLetterTopic: 'dlq' }));
    fn.answer({ status: 307, headers: { location: 'http://bob:secret@elsewhere.example/fn' } });
    expect(await deliver(h)).toEqual({ outcome: 'dead-lettered', status: 307, attempts: 1 });
    expect(fn.requests).toHaveLength(1);
    const envelope = JSON.parse(h.publisher.published[0]!.body.toString('utf8'));
    expect(envelope.delivery.lastError).toBe(
      'function answered 307 redirecting to http://***@elsewhere.example/fn; redirects are not followed: point FUNCTION_URL at the final address',
    );
  });

  it('does not retry a 400 and drops it when no dead-letter topic is configured', async () => {
    h = harness(fn.url, deliveryConfig());
    fn.answer({ status: 400, body: 'bad input' });
    const settlement = await deliver(h);
    expect(settlement).toMatchObject({ outcome: 'dropped', status: 400, attempts: 1 });
    expect(fn.requests).toHaveLength(1);
    expect(await counterValue(h.metrics, 'kurier_dispatcher_deliveries_total', { outcome: 'failed' })).toBe(1);
  });

  it('stops after maxAttempts and dead-letters an envelope with body, headers, coordinates, attempts and the last response', async () => {
    h = harness(fn.url, deliveryConfig({ deadLetterTopic: 'orders.dlq', retry: { maxAttempts: 3 } }));
    fn.setDefault({ status: 500, body: 'x'.repeat(5_000) });
    const msg = message({ body: Buffer.from([0, 1, 2, 255]), headers: { 'x-tenant': 'acme' }, key: 'k1', coordinates: { stream: 'S', sequence: 42 } });
    const settlement = await deliver(h, msg);
    expect(settlement).toEqual({ outcome: 'dead-lettered', status: 500, attempts: 3 });
    expect(fn.requests).toHaveLength(3);
    expect(h.publisher.published).toHaveLength(1);
    const [published] = h.publisher.published;
    expect(published?.destination).toBe('orders.dlq');
    expect(published?.key).toBe('k1');
    const envelope = JSON.parse(published!.body.toString('utf8'));
    expect(Buffer.from(envelope.message.body, 'base64')).toEqual(msg.body);
    expect(envelope.message.headers).toEqual({ 'x-tenant': 'acme' });
    expect(envelope.source).toEqual({ type: 'nats', topic: 'orders', coordinates: { stream: 'S', sequence: 42 } });
    expect(envelope.delivery).toMatchObject({ attempts: 3, lastStatus: 500, responseBodyTruncated: true });
    expect(envelope.delivery.lastResponseBody).toHaveLength(4096);
  });

  it('keeps retrying the dead-letter publish and settles only once the broker took it', async () => {
    h = harness(fn.url, deliveryConfig({ deadLetterTopic: 'dlq' }));
    h.publisher.failNext = 3;
    fn.answer({ status: 422 });
    const settlement = await deliver(h);
    expect(settlement.outcome).toBe('dead-lettered');
    expect(h.publisher.published).toHaveLength(1);
    expect(h.clock.sleeps).toHaveLength(3);
    expect(await counterValue(h.metrics, 'kurier_dispatcher_publish_failures_total', { purpose: 'dead_letter' })).toBe(3);
  });

  it('releases (does not ack) a failed message whose dead-letter publish never succeeded before shutdown', async () => {
    h = harness(fn.url, deliveryConfig({ deadLetterTopic: 'dlq' }));
    h.publisher.failNext = Number.POSITIVE_INFINITY;
    h.clock.blockFrom = 1;
    fn.answer({ status: 400 });
    const admission = await h.pipeline.admit(message());
    await fn.waitFor((s) => s.requests.length === 1, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await h.pipeline.drain(1_000);
    await expect(admission.settled).rejects.toBeInstanceOf(ReleasedError);
    expect(h.publisher.published).toHaveLength(0);
  });

  it('releases a message whose dead-letter publish hangs once the grace period is over', async () => {
    h = harness(fn.url, deliveryConfig({ deadLetterTopic: 'dlq' }));
    h.publisher.publish = () => new Promise<void>(() => undefined);
    fn.answer({ status: 400 });
    const admission = await h.pipeline.admit(message());
    await fn.waitFor((s) => s.requests.length === 1, 2_000);
    const started = Date.now();
    await h.pipeline.drain(200);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(admission.settled).rejects.toBeInstanceOf(ReleasedError);
  });

  it('counts a message as delivered even when its reply cannot be published', async () => {
    h = harness(fn.url, deliveryConfig({ replyTopic: 'out' }));
    h.publisher.failNext = 10;
    const settlement = await deliver(h);
    expect(settlement.outcome).toBe('delivered');
    expect(fn.requests).toHaveLength(1);
    expect(await counterValue(h.metrics, 'kurier_dispatcher_publish_failures_total', { purpose: 'reply' })).toBe(5);
  });

  it('does not retry a network error when DELIVERY_RETRY_WHEN leaves it out', async () => {
    h = harness(fn.url, deliveryConfig({ retry: { when: parseRetryWhen(['5xx'], () => undefined) } }));
    await fn.goDown();
    const settlement = await deliver(h);
    expect(settlement).toMatchObject({ outcome: 'dropped', attempts: 1 });
    expect(h.clock.sleeps).toEqual([]);
  });

  it('gives up when the next delay would pass maxElapsed', async () => {
    h = harness(fn.url, deliveryConfig({ retry: { initialDelayMs: 1_000, maxDelayMs: 1_000, maxElapsedMs: 2_500 } }), { random: () => 1 });
    fn.setDefault({ status: 503 });
    const settlement = await deliver(h);
    expect(settlement).toMatchObject({ outcome: 'dropped', attempts: 3 });
    expect((settlement as { reason: string }).reason).toMatch(/retry time exhausted/);
  });

  it('retries while the function is down and delivers once it is back', async () => {
    h = harness(fn.url, deliveryConfig({ retry: { maxAttempts: 0 } }));
    await fn.goDown();
    let sleeps = 0;
    const realSleep = h.clock.sleep.bind(h.clock);
    h.clock.sleep = async (ms, signal) => {
      sleeps += 1;
      if (sleeps === 3) await fn.comeBack();
      return realSleep(ms, signal);
    };
    const settlement = await deliver(h);
    expect(settlement).toMatchObject({ outcome: 'delivered', attempts: 4 });
  });

  it('retries an attempt that exceeds the per-attempt timeout', async () => {
    h = harness(fn.url, deliveryConfig({ timeoutMs: 100 }));
    fn.answer({ status: 200, delayMs: 500 });
    const settlement = await deliver(h);
    expect(settlement).toMatchObject({ outcome: 'delivered', attempts: 2 });
  });

  it('refuses a reply larger than 16 MiB instead of publishing it cut, and still counts the message delivered', async () => {
    h = harness(fn.url, deliveryConfig({ replyTopic: 'orders.results' }));
    const big = Buffer.alloc(50 * 1024 * 1024, 0x61);
    const justFits = Buffer.alloc(REPLY_BODY_LIMIT, 0x62);
    fn.answer({ status: 200, body: big }, { status: 200, body: justFits });
    expect(await deliver(h)).toMatchObject({ outcome: 'delivered', attempts: 1 });
    expect(h.publisher.published, 'nothing published for the oversized reply').toEqual([]);
    expect(await counterValue(h.metrics, 'kurier_dispatcher_replies_refused_total')).toBe(1);
    expect(await deliver(h)).toMatchObject({ outcome: 'delivered', attempts: 1 });
    expect(h.publisher.published.map((p) => p.body.length)).toEqual([REPLY_BODY_LIMIT]);
    expect(fn.requests).toHaveLength(2);
  });

  it('publishes the function response to the reply topic', async () => {
    h = harness(fn.url, deliveryConfig({ replyTopic: 'orders.results' }));
    fn.answer({ status: 200, body: '{"total":3}', headers: { 'content-type': 'application/json' } });
    const msg = message({ key: 'cust-1' });
    await deliver(h, msg);
    expect(h.publisher.published).toEqual([
      { destination: 'orders.results', body: Buffer.from('{"total":3}'), headers: { 'content-type': 'application/json', 'kurier-reply-to': msg.id }, key: 'cust-1' },
    ]);
  });
});

describe('ordering and backpressure', () => {
  it('ordered: one request at a time per lane, in admission order', async () => {
    h = harness(fn.url, deliveryConfig({ ordering: 'ordered', maxInFlight: 8 }));
    fn.setDelay(5).failFraction(0.3);
    const settled: Promise<Settlement>[] = [];
    for (let i = 0; i < 40; i += 1) {
      settled.push((await h.pipeline.admit(message({ body: Buffer.from(String(i)), lane: 'p0' }))).settled);
    }
    await Promise.all(settled);
    expect(fn.maxConcurrency).toBe(1);
    expect(fn.delivered.map((r) => Number(r.text))).toEqual([...Array(40).keys()]);
  });

  it('ordered: lanes run in parallel up to maxInFlight', async () => {
    h = harness(fn.url, deliveryConfig({ ordering: 'ordered', maxInFlight: 3 }));
    fn.setDelay(250);
    const admissions = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => h!.pipeline.admit(message({ lane: `p${i % 3}` }))));
    await Promise.all(admissions.map((a) => a.settled));
    expect(fn.maxConcurrency).toBe(3);
  });

  it('key: parallel across keys, in order within a key', async () => {
    h = harness(fn.url, deliveryConfig({ ordering: 'key', maxInFlight: 4 }));
    fn.setDelay(10);
    const settled: Promise<Settlement>[] = [];
    for (let i = 0; i < 24; i += 1) {
      const key = `k${i % 3}`;
      settled.push((await h.pipeline.admit(message({ key, body: Buffer.from(`${key}:${i}`) }))).settled);
    }
    await Promise.all(settled);
    expect(fn.maxConcurrency).toBeGreaterThan(1);
    expect(fn.maxConcurrency).toBeLessThanOrEqual(3);
    for (const key of ['k0', 'k1', 'k2']) {
      const seen = fn.delivered.map((r) => r.text).filter((t) => t.startsWith(`${key}:`)).map((t) => Number(t.split(':')[1]));
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(seen).toHaveLength(8);
    }
  });

  it('unordered: up to maxInFlight requests at once, never more', async () => {
    h = harness(fn.url, deliveryConfig({ ordering: 'unordered', maxInFlight: 4 }));
    fn.setDelay(100);
    const settled: Promise<Settlement>[] = [];
    for (let i = 0; i < 20; i += 1) settled.push((await h.pipeline.admit(message())).settled);
    await Promise.all(settled);
    expect(fn.maxConcurrency).toBe(4);
  });

  it('does not admit more than maxInFlight unsettled messages (backpressure)', async () => {
    h = harness(fn.url, deliveryConfig({ ordering: 'unordered', maxInFlight: 2 }));
    fn.setDelay(200);
    await h.pipeline.admit(message());
    await h.pipeline.admit(message());
    let third = false;
    const admitted = h.pipeline.admit(message()).then((a) => { third = true; return a; });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(third).toBe(false);
    expect(h.pipeline.pending).toBe(2);
    await (await admitted).settled;
    expect(third).toBe(true);
  });
});

describe('shutdown', () => {
  it('finishes the request in flight, releases queued messages, and refuses new ones', async () => {
    h = harness(fn.url, deliveryConfig({ ordering: 'ordered', maxInFlight: 3 }));
    fn.setDelay(300);
    const first = await h.pipeline.admit(message());
    const second = await h.pipeline.admit(message());
    await fn.waitFor((s) => s.requests.length === 1, 2_000);
    const drained = h.pipeline.drain(5_000);
    await expect(second.settled).rejects.toBeInstanceOf(ReleasedError);
    await expect(h.pipeline.admit(message())).rejects.toBeInstanceOf(ReleasedError);
    await expect(first.settled).resolves.toMatchObject({ outcome: 'delivered' });
    await drained;
    expect(fn.requests).toHaveLength(1);
  });

  it('releases a message waiting in backoff at once', async () => {
    h = harness(fn.url, deliveryConfig());
    h.clock.blockFrom = 1;
    fn.setDefault({ status: 503 });
    const admission = await h.pipeline.admit(message());
    await fn.waitFor((s) => s.requests.length === 1, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await h.pipeline.drain(5_000);
    const released = await admission.settled.then(() => undefined, (error: unknown) => error);
    expect(released).toBeInstanceOf(ReleasedError);
    expect((released as ReleasedError).retryAfterMs).toBe(h.clock.sleeps[0]);
    expect(await counterValue(h.metrics, 'kurier_dispatcher_deliveries_total', { outcome: 'released' })).toBe(1);
  });

  it('aborts a request still running when the grace period ends, and releases it', async () => {
    h = harness(fn.url, deliveryConfig({ timeoutMs: 10_000 }));
    fn.setDelay(5_000);
    const admission = await h.pipeline.admit(message());
    await fn.waitFor((s) => s.requests.length === 1, 2_000);
    const started = Date.now();
    await h.pipeline.drain(200);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(admission.settled).rejects.toBeInstanceOf(ReleasedError);
  });
});
