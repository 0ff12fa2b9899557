import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReleasedError } from '../../../dispatchers/core/types.js';
import type { Admission } from '../../../dispatchers/core/types.js';
import { FunctionServer } from '../../support/function-server.js';
import { deliveryConfig, harness, message } from './helpers.js';
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

async function releaseOf(admission: Admission): Promise<ReleasedError> {
  const error = await admission.settled.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(ReleasedError);
  return error as ReleasedError;
}

describe('releasing on shutdown behind a message that waits to retry', () => {
  it('releases the messages queued behind a retrying head with at least its remaining wait, so a delaying broker cannot hand them out first', async () => {
    h = harness(fn.url, deliveryConfig({ ordering: 'ordered', maxInFlight: 4 }));
    h.clock.blockFrom = 1;
    fn.setDefault({ status: 503 });
    const head = await h.pipeline.admit(message());
    const queued = [await h.pipeline.admit(message()), await h.pipeline.admit(message()), await h.pipeline.admit(message())];
    const waiting = h.pipeline.admit(message());
    await fn.waitFor((s) => s.requests.length === 1, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await h.pipeline.drain(1_000);
    const headWait = (await releaseOf(head)).retryAfterMs ?? 0;
    expect(headWait).toBeGreaterThan(0);
    for (const admission of queued) expect((await releaseOf(admission)).retryAfterMs ?? 0).toBeGreaterThan(headWait);
    const refused = await waiting.then(() => undefined, (reason: unknown) => reason);
    expect((refused as ReleasedError).retryAfterMs ?? 0).toBeGreaterThan(headWait);
    expect(fn.requests).toHaveLength(1);
  });

  it('releases queued messages of other lanes (key mode, another key) at once', async () => {
    h = harness(fn.url, deliveryConfig({ ordering: 'key', maxInFlight: 4 }));
    h.clock.blockFrom = 1;
    fn.behave((request) => (request.text === 'a' ? { status: 503 } : { status: 200, delayMs: 500 }));
    const a = await h.pipeline.admit(message({ key: 'a', body: Buffer.from('a') }));
    const behindA = await h.pipeline.admit(message({ key: 'a', body: Buffer.from('a') }));
    const b = await h.pipeline.admit(message({ key: 'b', body: Buffer.from('b') }));
    const behindB = await h.pipeline.admit(message({ key: 'b', body: Buffer.from('b') }));
    await fn.waitFor((s) => s.requests.length === 2, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const drained = h.pipeline.drain(5_000);
    const headWait = (await releaseOf(a)).retryAfterMs ?? 0;
    expect((await releaseOf(behindA)).retryAfterMs ?? 0).toBeGreaterThan(headWait);
    expect((await releaseOf(behindB)).retryAfterMs).toBeUndefined();
    await expect(b.settled).resolves.toMatchObject({ outcome: 'delivered' });
    await drained;
  });
});

describe('releasing a message the broker took back (AdmitOptions.release)', () => {
  it('aborts its HTTP attempt at once and rejects settled; the next message still goes through', async () => {
    h = harness(fn.url, deliveryConfig({ ordering: 'unordered', maxInFlight: 2, timeoutMs: 10_000 }));
    fn.behave((request) => (request.text.includes('slow') ? { status: 200, delayMs: 5_000 } : undefined));
    const taken = new AbortController();
    const slow = await h.pipeline.admit(message({ body: Buffer.from('slow') }), { release: taken.signal });
    await fn.waitFor((s) => s.requests.length === 1, 2_000);
    const started = Date.now();
    taken.abort();
    await releaseOf(slow);
    expect(Date.now() - started).toBeLessThan(2_000);
    const next = await h.pipeline.admit(message({ body: Buffer.from('fast') }), { release: new AbortController().signal });
    await expect(next.settled).resolves.toMatchObject({ outcome: 'delivered' });
    expect(h.pipeline.pending).toBe(0);
  });

  it('stops a message waiting to retry, and one waiting for a slot, without touching the others', async () => {
    h = harness(fn.url, deliveryConfig({ ordering: 'unordered', maxInFlight: 1 }));
    h.clock.blockFrom = 1;
    fn.setDefault({ status: 503 });
    const retrying = new AbortController();
    const waiting = new AbortController();
    const head = await h.pipeline.admit(message(), { release: retrying.signal });
    const queued = h.pipeline.admit(message(), { release: waiting.signal });
    await fn.waitFor((s) => s.requests.length === 1, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    waiting.abort();
    await expect(queued).rejects.toBeInstanceOf(ReleasedError);
    expect(h.pipeline.pending).toBe(1);
    retrying.abort();
    await releaseOf(head);
    expect(h.pipeline.pending).toBe(0);
    expect(fn.requests).toHaveLength(1);
  });
});
