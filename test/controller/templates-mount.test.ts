/** `kurier controller --templates` on the chart's ConfigMap as the kubelet mounts it: start, and pick up an update. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeApi } from '../../controller/kube.js';
import { startApiServer, type ApiServerDouble } from '../support/apiserver/index.js';
import { chartTemplatesPayload, writeConfigMapMount } from '../support/configmap-mount.js';
import { freePort } from '../support/free-port.js';
import { repoRoot } from '../support/run-kurier.js';
import { CRD, eventually, getDeployment, kafkaTrigger, TRIGGERS } from './harness.js';

const undo: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of undo.splice(0).reverse()) await step();
});

function imageOf(server: ApiServerDouble, ns: string, name: string): string | undefined {
  const containers = (getDeployment(server, ns, name)?.['spec'] as { template: { spec: { containers: { name: string; image: string }[] } } } | undefined)
    ?.template.spec.containers;
  return containers?.find((c) => c.name === 'dispatcher')?.image;
}

describe('kurier controller with templates from a kubelet-mounted ConfigMap', () => {
  it('starts, renders from the mount, and re-renders every trigger after the kubelet swaps in new templates, without a restart', async () => {
    const mount = await mkdtemp(join(tmpdir(), 'kurier-mount-'));
    undo.push(() => rm(mount, { recursive: true, force: true }));
    const payload = await chartTemplatesPayload();
    await writeConfigMapMount(mount, payload);

    const server = await startApiServer({ crds: [CRD] });
    undo.push(() => server.close());
    server.ensureNamespace('shop-mount');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [`${repoRoot}bin/kurier.js`, 'controller', `--kubeconfig=${server.kubeconfigPath}`, `--metrics-port=${String(port)}`, `--templates=${mount}`],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    undo.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });

    await eventually(async () => (await fetch(`http://127.0.0.1:${String(port)}/readyz`).catch(() => undefined))?.status === 200 || child.exitCode !== null, '/readyz', 30_000);
    expect(child.exitCode, output).toBeNull();
    await kubeApi(server.kubeConfig()).create(TRIGGERS, 'shop-mount', kafkaTrigger('shop-mount', 'orders'));
    await eventually(() => imageOf(server, 'shop-mount', 'orders-kafka'), 'the Deployment', 20_000);
    expect(imageOf(server, 'shop-mount', 'orders-kafka')).toBe('ghcr.io/kurier-dev/dispatcher:0.1.0');

    const kafka = payload['kafka/container.yaml'] ?? '';
    await writeConfigMapMount(mount, { ...payload, 'kafka/container.yaml': kafka.replace(/^image: .*$/m, 'image: registry.example/kurier/dispatcher:2') });
    await eventually(() => imageOf(server, 'shop-mount', 'orders-kafka') === 'registry.example/kurier/dispatcher:2', 'the new image in the Deployment', 30_000).catch(
      (err: unknown) => {
        throw new Error(`${String(err)}; controller output:\n${output}`);
      },
    );
    expect(output).toContain('templates changed: re-rendering every trigger');
    expect(child.exitCode).toBeNull();

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});
