import { describe, expect, it } from 'vitest';
import { headers as natsHeaders } from 'nats';
import { useCleanup } from '../../support/cleanup.js';
import { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';
import { numberOf, tally } from '../../support/stream-tally.js';
import { SHARED_NATS, uniqueName, useSharedNats } from './helpers.js';

const shared = useSharedNats();
const cleanup = useCleanup();

async function fixture(extra: Record<string, string> = {}): Promise<{ fn: FunctionServer; subject: string; env: Record<string, string> }> {
  const fn = await FunctionServer.start();
  cleanup.push(() => fn.close());
  const subject = uniqueName('kurier.core').replace(/_/g, '.');
  return {
    fn,
    subject,
    env: {
      FUNCTION_URL: fn.url,
      TRIGGER_NAME: 'events',
      TRIGGER_NAMESPACE: 'shop',
      NATS_URL: SHARED_NATS,
      NATS_SUBJECT: subject,
      NATS_QUEUE_GROUP: `${subject}.group`,
      DELIVERY_RETRY_INITIAL_DELAY: '20ms',
      DELIVERY_RETRY_MAX_DELAY: '100ms',
      ...extra,
    },
  };
}

const start = (env: Record<string, string>): Promise<DispatcherProcess> => cleanup.dispatcher('nats', env);

async function publish(subject: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 1) shared.nc.publish(subject, JSON.stringify({ n: i }));
  await shared.nc.flush();
}

describe('core NATS dispatcher (real nats-server, at-most-once by nature)', () => {
  it('delivers every message published while it is subscribed, retrying a flaky function', async () => {
    const { fn, subject, env } = await fixture({ DELIVERY_MAX_IN_FLIGHT: '4', DELIVERY_ORDERING: 'unordered' });
    fn.failFraction(0.2);
    await start(env);
    await publish(subject, 0, 300);
    await fn.waitForDistinctDelivered(300, 20_000, numberOf);
    const result = tally(fn.delivered, 300);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
  });

  it('shares a subject between replicas of one queue group: each message goes to one of them', async () => {
    const { fn, subject, env } = await fixture();
    const a = await start(env);
    const b = await start(env);
    await publish(subject, 0, 200);
    await fn.waitForDistinctDelivered(200, 20_000, numberOf);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tally(fn.delivered, 200).duplicates).toBe(0);
    const perReplica = [await a.metric('kurier_dispatcher_messages_received_total'), await b.metric('kurier_dispatcher_messages_received_total')];
    expect(perReplica[0]! + perReplica[1]!).toBe(200);
    expect(Math.min(...perReplica)).toBeGreaterThan(0);
  });

  it('passes message headers through and keeps a publisher-set Nats-Msg-Id as the event id', async () => {
    const { fn, subject, env } = await fixture();
    await start(env);
    const h = natsHeaders();
    h.set('Nats-Msg-Id', 'order-77');
    h.set('X-Tenant', 'acme');
    shared.nc.publish(subject, 'plain text', { headers: h });
    await fn.waitFor((s) => s.delivered.length === 1, 10_000);
    expect(fn.delivered[0]?.headers).toMatchObject({
      'ce-id': 'order-77',
      'event-id': 'order-77',
      'x-tenant': 'acme',
      'content-type': 'application/octet-stream',
      'event-namespace': 'natstriggers.kubeless.io',
    });
  });

  it('publishes the function response to the reply subject', async () => {
    const { fn, subject, env } = await fixture({ DELIVERY_REPLY_TOPIC: '' });
    const replies = shared.nc.subscribe(`${subject}.replies`, { max: 1 });
    await start({ ...env, DELIVERY_REPLY_TOPIC: `${subject}.replies` });
    fn.answer({ status: 200, body: '{"total":42}', headers: { 'content-type': 'application/json' } });
    shared.nc.publish(subject, '{"n":1}');
    for await (const reply of replies) {
      expect(new TextDecoder().decode(reply.data)).toBe('{"total":42}');
      expect(reply.headers?.get('content-type')).toBe('application/json');
      expect(reply.headers?.get('kurier-reply-to')).toBe(String(fn.delivered[0]?.headers['ce-id']));
    }
  });

  it('waits for an unreachable server without being ready, and still stops cleanly on SIGTERM', async () => {
    const { env } = await fixture();
    const dispatcher = DispatcherProcess.spawn('nats', { ...env, NATS_URL: 'nats://127.0.0.1:1' });
    cleanup.push(() => dispatcher.stop());
    await dispatcher.waitForLog((l) => l.msg === 'health and metrics server listening');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await dispatcher.get('/readyz')).toBe(503);
    expect(await dispatcher.get('/healthz')).toBe(200);
    expect((await dispatcher.terminate(10_000)).code).toBe(0);
  });

  it('exits 1 with a clear error when the JetStream stream does not exist', async () => {
    const { env } = await fixture();
    const dispatcher = DispatcherProcess.spawn('nats', { ...env, NATS_JETSTREAM_STREAM: uniqueName('NO_SUCH_STREAM') });
    const exit = await dispatcher.waitExit(20_000);
    expect(exit.code).toBe(1);
    const failure = dispatcher.logs.find((l) => l.msg === 'could not start the source');
    expect(String(failure?.err)).toMatch(/JetStream stream "NO_SUCH_STREAM_[^"]+".*stream not found/);
  });

  it('reports every bad NATS variable by name', async () => {
    const dispatcher = DispatcherProcess.spawn('nats', {
      FUNCTION_URL: 'http://127.0.0.1:1/',
      NATS_URL: 'http://wrong',
      NATS_JETSTREAM_ACK_WAIT: '30s',
      DELIVERY_TIMEOUT: 'abc',
    });
    const exit = await dispatcher.waitExit(20_000);
    expect(exit.code).toBe(1);
    expect(dispatcher.stderr.trim().split('\n')).toEqual([
      'kurier dispatch nats: DELIVERY_TIMEOUT="abc" is not a duration (e.g. 500ms, 30s, 5m)',
      'kurier dispatch nats: NATS_URL entry "http://wrong" must use nats://, tls://, ws:// or wss://',
      'kurier dispatch nats: NATS_SUBJECT is required (the subject to subscribe to, wildcards allowed)',
      'kurier dispatch nats: NATS_JETSTREAM_ACK_WAIT needs NATS_JETSTREAM_STREAM (it only applies to JetStream)',
    ]);
  });
});
