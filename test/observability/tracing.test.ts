/**
 * OpenTelemetry spans per delivery attempt: a real `kurier dispatch nats` process (JetStream on the
 * shared nats-server) with OTEL_EXPORTER_OTLP_ENDPOINT pointed at a local OTLP/HTTP receiver that
 * decodes what the SDK's exporter sends.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { headers as natsHeaders } from 'nats';
import { describe, expect, it } from 'vitest';
import { tracingEnabled } from '../../dispatchers/core/tracing.js';
import { useCleanup } from '../support/cleanup.js';
import { DispatcherProcess } from '../support/dispatcher-process.js';
import { freePort } from '../support/free-port.js';
import { FunctionServer } from '../support/function-server.js';
import { repoRoot } from '../support/run-kurier.js';
import { createStream, deleteStream, uniqueName, useSharedNats } from '../dispatchers/nats/helpers.js';
import { OtlpReceiver, SPAN_KIND_CONSUMER, STATUS_CODE_ERROR } from './otlp-receiver.js';
import type { ReceivedSpan } from './otlp-receiver.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN_ID = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

const shared = useSharedNats();
const cleanup = useCleanup();

interface Setup {
  readonly fn: FunctionServer;
  readonly receiver: OtlpReceiver;
  readonly subject: string;
  readonly env: Record<string, string>;
}

async function setup(): Promise<Setup> {
  const stream = uniqueName('KURIER_OTEL');
  const prefix = stream.toLowerCase();
  await createStream(shared.nc, stream, [`${prefix}.>`]);
  cleanup.push(() => deleteStream(shared.nc, stream));
  const fn = await FunctionServer.start();
  cleanup.push(() => fn.close());
  const receiver = await OtlpReceiver.start();
  cleanup.push(() => receiver.close());
  return {
    fn,
    receiver,
    subject: `${prefix}.orders`,
    env: {
      FUNCTION_URL: fn.url,
      TRIGGER_KIND: 'NATSTrigger',
      TRIGGER_NAME: 'orders',
      TRIGGER_NAMESPACE: 'shop',
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_SUBJECT: `${prefix}.orders`,
      NATS_JETSTREAM_STREAM: stream,
      NATS_JETSTREAM_CONSUMER: `${stream}-c`,
      DELIVERY_RETRY_INITIAL_DELAY: '20ms',
      DELIVERY_RETRY_MAX_DELAY: '100ms',
      DELIVERY_DEAD_LETTER_TOPIC: `${prefix}.dead`,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    },
  };
}

function spansOf(spans: readonly ReceivedSpan[], body: string, bodies: Map<string, string>): ReceivedSpan[] {
  return spans
    .filter((span) => bodies.get(String(span.attributes['messaging.message.id'])) === body)
    .sort((a, b) => Number(a.attributes['kurier.delivery.attempt']) - Number(b.attributes['kurier.delivery.attempt']));
}

describe('OpenTelemetry spans per delivery attempt (real dispatcher, local OTLP/HTTP receiver)', () => {
  it('records one span per attempt, child of and linked to the message trace, with source, trigger and outcome; flushed on SIGTERM', async () => {
    const s = await setup();
    // "retry" fails its first attempt with 503; "poison" answers 400 (dead-lettered); "plain" is delivered.
    s.fn.behave((request, index) => {
      if (request.text === 'poison') return { status: 400 };
      const earlier = s.fn.requests.slice(0, index).filter((r) => r.text === request.text).length;
      return request.text === 'retry' && earlier === 0 ? { status: 503 } : undefined;
    });
    // A schedule delay longer than the test: spans reach the receiver only through the shutdown flush.
    const dispatcher = await DispatcherProcess.start('nats', { ...s.env, OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_SERVICE_NAME: 'orders-dispatcher' });
    cleanup.push(() => dispatcher.stop());
    const traced = natsHeaders();
    traced.set('traceparent', TRACEPARENT);
    traced.set('tracestate', 'rojo=00f067aa0ba902b7');
    const js = shared.nc.jetstream();
    await js.publish(s.subject, 'retry', { headers: traced });
    await js.publish(s.subject, 'plain');
    await js.publish(s.subject, 'poison', { headers: traced });
    await s.fn.waitFor((f) => f.requests.filter((r) => r.status !== 0).length >= 4, 30_000, 'four attempts');
    await expect.poll(() => dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'dead_lettered' }), { timeout: 30_000 }).toBe(1);
    expect(s.receiver.spans).toEqual([]);

    expect((await dispatcher.terminate()).code).toBe(0);
    await expect.poll(() => s.receiver.spans.length, { timeout: 10_000 }).toBe(4);
    expect(s.receiver.paths.every((path) => path === '/v1/traces')).toBe(true);

    const bodies = new Map(s.fn.requests.map((r) => [String(r.headers['ce-id']), r.text]));
    const [failed, retried] = spansOf(s.receiver.spans, 'retry', bodies);
    const [plain] = spansOf(s.receiver.spans, 'plain', bodies);
    const [poison] = spansOf(s.receiver.spans, 'poison', bodies);
    if (failed === undefined || retried === undefined || plain === undefined || poison === undefined) throw new Error('a span is missing');

    for (const span of [failed, retried, plain, poison]) {
      expect(span.name).toBe(`deliver ${s.subject}`);
      expect(span.kind).toBe(SPAN_KIND_CONSUMER);
      expect(span.endNs).toBeGreaterThan(span.startNs);
      expect(span.attributes).toMatchObject({
        'messaging.system': 'nats',
        'kurier.source': 'nats',
        'messaging.destination.name': s.subject,
        'kurier.trigger.kind': 'NATSTrigger',
        'kurier.trigger.namespace': 'shop',
        'kurier.trigger.name': 'orders',
      });
      expect(span.resource).toMatchObject({ 'service.name': 'orders-dispatcher', 'k8s.namespace.name': 'shop' });
    }
    // The message's trace continues: both attempts are children of its span and link to it.
    for (const span of [failed, retried, poison]) {
      expect(span.traceId).toBe(TRACE_ID);
      expect(span.parentSpanId).toBe(PARENT_SPAN_ID);
      expect(span.links).toEqual([{ traceId: TRACE_ID, spanId: PARENT_SPAN_ID }]);
    }
    expect(failed.spanId).not.toBe(retried.spanId);
    expect(failed.attributes).toMatchObject({ 'kurier.delivery.attempt': 1, 'kurier.delivery.outcome': 'failed', 'kurier.delivery.retryable': true, 'http.response.status_code': 503 });
    expect(failed.statusCode).toBe(STATUS_CODE_ERROR);
    expect(retried.attributes).toMatchObject({ 'kurier.delivery.attempt': 2, 'kurier.delivery.outcome': 'delivered', 'http.response.status_code': 200 });
    expect(retried.statusCode).not.toBe(STATUS_CODE_ERROR);
    expect(poison.attributes).toMatchObject({ 'kurier.delivery.attempt': 1, 'kurier.delivery.outcome': 'failed', 'kurier.delivery.retryable': false, 'http.response.status_code': 400 });
    // A message without trace context starts a trace of its own.
    expect(plain.traceId).not.toBe(TRACE_ID);
    expect(plain.parentSpanId).toBeUndefined();
    expect(plain.links).toEqual([]);
    expect(plain.attributes).toMatchObject({ 'kurier.delivery.attempt': 1, 'kurier.delivery.outcome': 'delivered' });
    // The function still got the producer's trace context, not the dispatcher's span.
    expect(s.fn.requests.filter((r) => r.text !== 'plain').every((r) => r.headers['traceparent'] === TRACEPARENT)).toBe(true);
  });

  it('keeps delivering when the collector is unreachable, and says so in its log', async () => {
    const s = await setup();
    const closedPort = await freePort();
    const dispatcher = await DispatcherProcess.start('nats', { ...s.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${String(closedPort)}`, OTEL_BSP_SCHEDULE_DELAY: '50' });
    cleanup.push(() => dispatcher.stop());
    const js = shared.nc.jetstream();
    for (let n = 0; n < 5; n += 1) await js.publish(s.subject, `m${String(n)}`);
    await s.fn.waitFor((f) => f.delivered.length >= 5, 30_000);
    await dispatcher.waitForLog((line) => line.msg === 'tracing' && line.level === 'error', 30_000, 'a tracing export error');
    expect(await dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered' })).toBe(5);
  });

  it('exports nothing with OTEL_SDK_DISABLED=true, though an endpoint is set', async () => {
    const s = await setup();
    const dispatcher = await DispatcherProcess.start('nats', { ...s.env, OTEL_SDK_DISABLED: 'true', OTEL_BSP_SCHEDULE_DELAY: '50' });
    cleanup.push(() => dispatcher.stop());
    await shared.nc.jetstream().publish(s.subject, 'plain');
    await s.fn.waitFor((f) => f.delivered.length >= 1, 30_000);
    expect((await dispatcher.terminate()).code).toBe(0);
    expect(s.receiver.paths).toEqual([]);
    expect(dispatcher.logs.some((line) => line.msg?.startsWith('tracing enabled') === true)).toBe(false);
  });
});

describe('the image bundle (dist/kurier.mjs is what images run)', () => {
  it('loads the SDK it bundled when tracing is enabled and exports a span per attempt', async () => {
    const s = await setup();
    // Built to a directory of its own: test/cli builds dist/ at the same time.
    const outDir = await mkdtemp(join(tmpdir(), 'kurier-bundle-'));
    cleanup.push(() => rm(outDir, { recursive: true, force: true }));
    const bundle = join(outDir, 'kurier.mjs');
    await promisify(execFile)('npm', ['run', '--silent', 'build:bundle', '--', `--outdir=${outDir}`], { cwd: repoRoot });
    const child = spawn(process.execPath, [bundle, 'dispatch', 'nats'], {
      cwd: repoRoot,
      env: { PATH: process.env['PATH'] ?? '', METRICS_PORT: '0', OTEL_BSP_SCHEDULE_DELAY: '50', ...s.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    cleanup.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    await expect.poll(() => stdout.includes('"dispatcher started"'), { timeout: 30_000 }).toBe(true);
    expect(stdout).toContain('tracing enabled');
    await shared.nc.jetstream().publish(s.subject, 'plain');
    await expect.poll(() => s.receiver.spans.length, { timeout: 30_000 }).toBe(1);
    expect(s.receiver.spans[0]?.attributes).toMatchObject({ 'kurier.delivery.outcome': 'delivered', 'kurier.trigger.name': 'orders' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);
});

describe('tracing switch', () => {
  it('is on only with an OTLP endpoint, and off again with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
  });
});
