/**
 * Every query of the Grafana dashboard and every alert expression uses metric names, labels and
 * label values that a running dispatcher and a running controller really export: a real
 * `kurier dispatch nats` process (JetStream on the shared nats-server, a local function that makes
 * it retry and dead-letter) and a real `kurier controller` process (against the API server double)
 * are scraped, and each expression is parsed with Prometheus' PromQL grammar and checked.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers as natsHeaders } from 'nats';
import type { NatsConnection } from 'nats';
import { parse } from 'yaml';
import { kubeApi } from '../../controller/kube.js';
import { startApiServer } from '../support/apiserver/index.js';
import type { ApiServerDouble } from '../support/apiserver/index.js';
import { DispatcherProcess } from '../support/dispatcher-process.js';
import { freePort } from '../support/free-port.js';
import { FunctionServer } from '../support/function-server.js';
import { repoRoot } from '../support/run-kurier.js';
import { CRD, eventually, kafkaTrigger, TRIGGERS } from '../controller/harness.js';
import { connectNats, createStream, deleteStream, uniqueName } from '../dispatchers/nats/helpers.js';
import { mergeExposition, parseExposition } from './exposition.js';
import type { Exported } from './exposition.js';
import { PrometheusServer } from './prometheus-server.js';
import { checkQuery, substituteGrafanaVariables } from './promql.js';
import { findExecutable } from './tools.js';

interface Target {
  readonly expr: string;
  readonly legendFormat?: string;
}
interface Panel {
  readonly title: string;
  readonly type: string;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
interface Dashboard {
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string; readonly definition?: string }[] };
}
interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly annotations: Record<string, string>;
}

const DASHBOARD = `${repoRoot}chart/files/dashboards/kurier.json`;
const RULES = `${repoRoot}chart/files/alerts/kurier-rules.yaml`;

function legendLabels(format: string | undefined): string[] {
  return [...(format ?? '').matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map((m) => m[1] ?? '');
}

function annotationLabels(annotations: Record<string, string>): string[] {
  return Object.values(annotations).flatMap((text) => [...text.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1] ?? ''));
}

function panelsOf(panels: readonly Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);
}

let nc: NatsConnection;
let stream: string;
let fn: FunctionServer;
let dispatcher: DispatcherProcess;
let apiserver: ApiServerDouble;
let controller: ChildProcess;
let controllerPort: number;
let exported: Exported;
/** Undo steps of what beforeAll started, run last first. */
const undo: (() => Promise<unknown>)[] = [];
const namespace = uniqueName('obs').toLowerCase().replace(/_/g, '-');

async function controllerMetrics(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${String(controllerPort)}/metrics`, { signal: AbortSignal.timeout(2_000) });
  return response.text();
}

async function startDispatcher(): Promise<void> {
  nc = await connectNats();
  stream = uniqueName('KURIER_OBS');
  const prefix = stream.toLowerCase();
  undo.push(() => nc.close());
  await createStream(nc, stream, [`${prefix}.>`]);
  undo.push(() => deleteStream(nc, stream));
  fn = await FunctionServer.start();
  undo.push(() => fn.close());
  // The first attempt of every 3rd message fails with 503 (a retry); "poison" answers 400 (dead-letter).
  fn.behave((request) => (request.text.includes('poison') ? { status: 400, body: 'bad order' } : undefined));
  fn.behave((request, index) => {
    const n = (JSON.parse(request.text) as { n: number }).n;
    const earlier = fn.requests.slice(0, index).filter((r) => r.text === request.text).length;
    return n % 3 === 0 && earlier === 0 ? { status: 503 } : undefined;
  });
  dispatcher = await DispatcherProcess.start('nats', {
    FUNCTION_URL: fn.url,
    TRIGGER_KIND: 'NATSTrigger',
    TRIGGER_NAME: 'orders',
    TRIGGER_NAMESPACE: namespace,
    NATS_URL: 'nats://127.0.0.1:4222',
    NATS_SUBJECT: `${prefix}.orders`,
    NATS_JETSTREAM_STREAM: stream,
    NATS_JETSTREAM_CONSUMER: `${stream}-c`,
    NATS_JETSTREAM_ACK_WAIT: '30s',
    DELIVERY_RETRY_INITIAL_DELAY: '20ms',
    DELIVERY_RETRY_MAX_DELAY: '200ms',
    DELIVERY_DEAD_LETTER_TOPIC: `${prefix}.dead`,
    DELIVERY_TIMEOUT: '5s',
  });
  undo.push(() => dispatcher.stop());
  const js = nc.jetstream();
  for (let n = 0; n < 12; n += 1) await js.publish(`${prefix}.orders`, JSON.stringify({ n }));
  const traced = natsHeaders();
  traced.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  await js.publish(`${prefix}.orders`, JSON.stringify({ n: 100, kind: 'poison' }), { headers: traced });
  await eventually(async () => (await dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'dead_lettered' })) === 1, 'the dead letter', 30_000);
  await eventually(async () => (await dispatcher.metric('kurier_dispatcher_deliveries_total', { outcome: 'delivered' })) === 12, '12 deliveries', 30_000);
}

async function startController(): Promise<void> {
  apiserver = await startApiServer({ crds: [CRD] });
  undo.push(() => apiserver.close());
  apiserver.ensureNamespace(namespace);
  controllerPort = await freePort();
  controller = spawn(
    process.execPath,
    [`${repoRoot}bin/kurier.js`, 'controller', `--kubeconfig=${apiserver.kubeconfigPath}`, `--metrics-port=${String(controllerPort)}`, '--log-level=error'],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, POD_NAME: 'controller-0' } },
  );
  const exited = new Promise((resolve) => controller.once('exit', resolve));
  undo.push(async () => {
    if (controller.exitCode === null) controller.kill('SIGTERM');
    await exited;
  });
  await eventually(async () => (await fetch(`http://127.0.0.1:${String(controllerPort)}/readyz`)).status === 200, 'the controller /readyz', 30_000);
  const api = kubeApi(apiserver.kubeConfig());
  // One reconcile error on the record: the API server answers 500 to the first Deployment write.
  apiserver.faults.failNext(1, 500, (request) => request.method !== 'GET' && request.path.includes('/deployments'));
  await api.create(TRIGGERS, namespace, kafkaTrigger(namespace, 'orders'));
  await api.create(TRIGGERS, namespace, kafkaTrigger(namespace, 'stuck'));
  await eventually(() => apiserver.store.get('apps/v1', 'Deployment', namespace, 'orders-kafka'), 'the orders Deployment', 30_000);
  await eventually(() => apiserver.store.get('apps/v1', 'Deployment', namespace, 'stuck-kafka'), 'the stuck Deployment', 30_000);
  await apiserver.setDeploymentReady(namespace, 'orders-kafka', true);
}

beforeAll(async () => {
  await Promise.all([startDispatcher(), startController()]);
  const ready = `kurier_controller_trigger_ready{kind="KafkaTrigger",trigger_namespace="${namespace}",trigger="orders"} 1`;
  const controllerText = await eventually(async () => {
    const text = await controllerMetrics();
    return text.includes(ready) && /kurier_controller_reconciles_total\{result="error"\} [1-9]/.test(text) ? text : undefined;
  }, 'the controller to report the orders trigger Ready and a reconcile error', 30_000);
  exported = mergeExposition(parseExposition(await dispatcher.metricsText()), parseExposition(controllerText));
}, 90_000);

afterAll(async () => {
  for (const step of undo.reverse()) await step();
});

describe('observability queries against what a running dispatcher and controller export', () => {
  it('the dispatcher labels every series with its trigger, and the controller reports readiness per trigger', () => {
    const deliveries = exported.get('kurier_dispatcher_deliveries_total');
    expect([...(deliveries?.get('trigger') ?? [])]).toEqual(['orders']);
    expect([...(deliveries?.get('trigger_namespace') ?? [])]).toEqual([namespace]);
    expect([...(deliveries?.get('kind') ?? [])]).toEqual(['NATSTrigger']);
    expect([...(exported.get('kurier_dispatcher_consumer_lag')?.get('topic') ?? [])]).toEqual([stream]);
    expect([...(exported.get('kurier_controller_trigger_ready')?.get('trigger') ?? [])].sort()).toEqual(['orders', 'stuck']);
  });

  it('the stuck trigger, whose Deployment never became ready, is exported as not Ready', async () => {
    const text = await controllerMetrics();
    expect(text).toContain(`kurier_controller_trigger_ready{kind="KafkaTrigger",trigger_namespace="${namespace}",trigger="stuck"} 0`);
  });

  it('every dashboard query, legend and variable uses exported metrics, labels and values', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
    const problems: string[] = [];
    let checked = 0;
    for (const panel of panelsOf(dashboard.panels)) {
      for (const target of panel.targets ?? []) {
        checked += 1;
        for (const problem of checkQuery(target.expr, exported, legendLabels(target.legendFormat))) problems.push(`${panel.title}: ${problem}`);
      }
    }
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const call = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(variable.definition ?? '');
      expect(call, `variable ${variable.name}: label_values(selector, label)`).not.toBeNull();
      checked += 1;
      for (const problem of checkQuery(call?.[1] ?? '', exported, [call?.[2] ?? ''])) problems.push(`variable ${variable.name}: ${problem}`);
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('the dashboard covers deliveries by outcome, latency, retries, dead-letters, in flight, lag, reconciles, reconcile latency, queue depth and leader', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
    const exprs = panelsOf(dashboard.panels).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
    for (const needle of [
      /kurier_dispatcher_deliveries_total\{[^}]*\}.*outcome|outcome.*kurier_dispatcher_deliveries_total/,
      /histogram_quantile\(0\.99, .*kurier_dispatcher_delivery_duration_seconds_bucket/,
      /kurier_dispatcher_retries_total/,
      /outcome="dead_lettered"/,
      /kurier_dispatcher_in_flight/,
      /kurier_dispatcher_consumer_lag/,
      /sum by \(result\) \(rate\(kurier_controller_reconciles_total/,
      /histogram_quantile\(0\.99, .*kurier_controller_reconcile_duration_seconds_bucket/,
      /kurier_controller_queue_depth/,
      /kurier_controller_leader/,
      /kurier_controller_trigger_ready/,
    ]) {
      expect(exprs.some((expr) => needle.test(expr)), String(needle)).toBe(true);
    }
  });

  it('every alert expression and annotation uses exported metrics, labels and values, and has a runbook entry', async () => {
    const rules = (parse(await readFile(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
    const runbook = await readFile(`${repoRoot}docs/observability.md`, 'utf8');
    const problems: string[] = [];
    for (const rule of rules) {
      for (const problem of checkQuery(rule.expr, exported, annotationLabels(rule.annotations))) problems.push(`${rule.alert}: ${problem}`);
      const anchor = /#([a-z0-9-]+)$/.exec(rule.annotations['runbook'] ?? '')?.[1];
      expect(anchor, `${rule.alert}: runbook annotation`).toBe(rule.alert.toLowerCase());
      expect(runbook, `${rule.alert}: a runbook heading in docs/observability.md`).toContain(`### ${rule.alert}\n`);
    }
    expect(problems).toEqual([]);
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining(['KurierDeadLetters', 'KurierConsumerLagGrowing', 'KurierTriggerNotReady', 'KurierHighRetryRatio', 'KurierControllerReconcileErrors']),
    );
  });
});

const prometheusBinary = findExecutable('PROMETHEUS', 'prometheus');
const withPrometheus = prometheusBinary === undefined ? it.skip : it;
const needsPrometheus = prometheusBinary === undefined ? ' (skipped: no prometheus binary; set PROMETHEUS=/path/to/prometheus)' : '';

describe('the same processes scraped by a real Prometheus', () => {
  withPrometheus(`every dashboard query returns data and every alert expression evaluates${needsPrometheus}`, async () => {
    const prometheus = await PrometheusServer.start(prometheusBinary ?? 'prometheus', {
      'kurier-dispatcher': `127.0.0.1:${String(dispatcher.port)}`,
      'kurier-controller': `127.0.0.1:${String(controllerPort)}`,
    });
    try {
      // Enough samples in every window for rate() and increase(): five scrapes of each target.
      await eventually(async () => {
        const result = await prometheus.query('min(count_over_time(up[5m])) >= 5 and min(up) == 1');
        return Array.isArray(result.data?.result) && result.data.result.length === 1;
      }, 'five scrapes of both targets', 45_000);
      const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
      const empty: string[] = [];
      for (const panel of panelsOf(dashboard.panels)) {
        for (const target of panel.targets ?? []) {
          const result = await prometheus.query(substituteGrafanaVariables(target.expr));
          expect(result.status, `${panel.title}: ${target.expr}: ${result.error ?? ''}`).toBe('success');
          if (!Array.isArray(result.data?.result) || result.data.result.length === 0) empty.push(`${panel.title}: ${target.expr}`);
        }
      }
      expect(empty).toEqual([]);
      const rules = (parse(await readFile(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
      for (const rule of rules) {
        const result = await prometheus.query(rule.expr);
        expect(result.status, `${rule.alert}: ${result.error ?? ''}`).toBe('success');
      }
    } finally {
      await prometheus.stop();
    }
  }, 90_000);
});
