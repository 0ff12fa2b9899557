/** `kurier controller` as a process: flags, endpoints, reconciling, clean shutdown. */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeApi } from '../../controller/kube.js';
import { startApiServer, type ApiServerDouble } from '../support/apiserver/index.js';
import { repoRoot, runKurier } from '../support/run-kurier.js';
import { CRD, eventually, getDeployment, kafkaTrigger, TRIGGERS } from './harness.js';
import { freePort } from '../support/free-port.js';

let server: ApiServerDouble | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('kurier controller', () => {
  it('names every bad flag and variable and exits 2 without contacting a cluster', async () => {
    const result = await runKurier(['controller', '--workers=0', '--resync-period=often', '--no-such-flag'], {
      env: { ...process.env, KURIER_LEADER_ELECT: 'maybe', KUBECONFIG: '/nonexistent' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--workers');
    expect(result.stderr).toContain('--resync-period');
    expect(result.stderr).toContain('unknown flag --no-such-flag');
    expect(result.stderr).toContain('KURIER_LEADER_ELECT');
  });

  it('prints every flag with --help and exits 0', async () => {
    const result = await runKurier(['controller', '--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--kubeconfig', '--namespaces', '--templates', '--allow-cross-namespace', '--leader-elect', '--workers', '--metrics-port', '--resync-period']) {
      expect(result.stderr).toContain(flag);
    }
  });

  it('exits 1 naming the templates directory when it cannot load the templates', async () => {
    const result = await runKurier(['controller', '--templates=/nonexistent/templates', '--log-level=error']);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain('/nonexistent/templates');
  });

  it('reconciles, serves /healthz, /readyz and /metrics, and exits 0 on SIGTERM', async () => {
    server = await startApiServer({ crds: [CRD] });
    server.ensureNamespace('shop-cmd');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [`${repoRoot}bin/kurier.js`, 'controller', `--kubeconfig=${server.kubeconfigPath}`, `--metrics-port=${String(port)}`],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info', POD_NAME: 'controller-0' } },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const get = async (path: string): Promise<{ status: number; text: string }> => {
        const res = await fetch(`http://127.0.0.1:${String(port)}${path}`);
        return { status: res.status, text: await res.text() };
      };
      await eventually(async () => (await get('/readyz')).status === 200, '/readyz', 20_000);
      expect((await get('/healthz')).status).toBe(200);
      await kubeApi(server.kubeConfig()).create(TRIGGERS, 'shop-cmd', kafkaTrigger('shop-cmd', 'orders'));
      await eventually(() => getDeployment(server as ApiServerDouble, 'shop-cmd', 'orders-kafka'), 'the Deployment');
      const metrics = await eventually(async () => {
        const m = (await get('/metrics')).text;
        return /kurier_controller_reconciles_total\{result="success"\} [1-9]/.test(m) ? m : undefined;
      }, 'a successful reconcile in /metrics');
      for (const name of ['kurier_controller_reconcile_duration_seconds_bucket', 'kurier_controller_queue_depth', 'kurier_controller_retries_total']) {
        expect(metrics).toContain(name);
      }
      const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l['msg'] === 'created the dispatcher Deployment')).toMatchObject({ trigger: 'KafkaTrigger/shop-cmd/orders' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
