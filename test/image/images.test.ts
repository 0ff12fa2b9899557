/**
 * The images, built from the Dockerfile unchanged and run as Kubernetes runs them. Opt-in (slow,
 * needs a Docker engine and the two base images): KURIER_IMAGE_TEST=1 npx vitest run test/image.
 * On machines without registry access, local stand-ins for node:24-bookworm-slim and
 * gcr.io/distroless/nodejs24-debian12:nonroot do (docs/install.md "Testing the images here").
 * KURIER_PULSAR_BINARY_HOST=<mirror of the Apache archive> makes the Pulsar image build expected
 * to succeed; without it, it is expected to stop with a message naming the archive.
 */
import { chmod, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubeApi } from '../../controller/kube.js';
import { render, type Deployment } from '../../render/render.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import type { Trigger } from '../../render/trigger.js';
import { startApiServer, type ApiServerDouble } from '../support/apiserver/index.js';
import { chartTemplatesPayload, writeConfigMapMount } from '../support/configmap-mount.js';
import { freePort } from '../support/free-port.js';
import { FunctionServer } from '../support/function-server.js';
import { repoRoot } from '../support/run-kurier.js';
import { numberOf, tally } from '../support/stream-tally.js';
import { CRD, eventually, getDeployment, kafkaTrigger, TRIGGERS } from '../controller/harness.js';
import { connectNats, createStream, deleteStream, publishNumbered, SHARED_NATS, uniqueName } from '../dispatchers/nats/helpers.js';
import { buildTarget, docker, imageSizeMb, peakRssMib, processIdentity, runFlags } from './docker.js';

const enabled = process.env['KURIER_IMAGE_TEST'] === '1';
const RABBITMQ = process.env['RABBITMQ_TEST_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const VERSION = '0.1.0';
const tag = (image: string): string => `ghcr.io/kurier-dev/${image}:${VERSION}`;

const undo: (() => Promise<unknown>)[] = [];
async function cleanup(): Promise<void> {
  for (const step of undo.splice(0).reverse()) await step().catch(() => undefined);
}

let templates: Templates;
const built: Record<string, { seconds: number; sizeMb: number }> = {};

type PodSpec = Parameters<typeof runFlags>[0];
const podOf = (deployment: Deployment): PodSpec => (deployment.spec['template'] as unknown as { spec: PodSpec }).spec;

function natsTrigger(name: string, fnUrl: string, metricsPort: number, nats: Record<string, unknown>, delivery: Record<string, unknown> = {}): Trigger {
  return {
    apiVersion: 'kurier.dev/v1alpha1',
    kind: 'NATSTrigger',
    metadata: { name, namespace: 'images', uid: `uid-${name}` },
    spec: {
      nats,
      function: { url: fnUrl },
      delivery,
      // host network here: each dispatcher needs a port of its own
      deployment: { spec: { template: { spec: { containers: [{ name: 'dispatcher', ports: [{ name: 'metrics', containerPort: metricsPort }] }] } } } },
    },
  };
}

/** Starts the rendered dispatcher as a container; returns its name and how it was started. */
async function runDispatcher(deployment: Deployment): Promise<{ name: string; graceSeconds: number; metricsPort: number }> {
  const pod = podOf(deployment);
  expect(pod.automountServiceAccountToken).toBe(false);
  const { flags, image, args, graceSeconds } = runFlags(pod, 'dispatcher');
  const name = uniqueName('kurier-image').replace(/[^a-zA-Z0-9_.-]/g, '-');
  await docker(['run', '-d', '--name', name, ...flags, image, ...args]);
  undo.push(() => docker(['rm', '-f', name]));
  const metricsPort = Number(/METRICS_PORT=(\d+)/.exec(flags.join(' '))?.[1]);
  await eventually(async () => (await fetch(`http://127.0.0.1:${String(metricsPort)}/readyz`).catch(() => undefined))?.status === 200, `${name} /readyz`, 60_000).catch(
    async (err: unknown) => {
      throw new Error(`${String(err)}\n${await docker(['logs', name]).catch(() => '')}`);
    },
  );
  return { name, graceSeconds, metricsPort };
}

/** `docker stop` as the kubelet's SIGTERM; the container must exit 0 before the grace period ends. */
async function stopWithinGrace(name: string, graceSeconds: number): Promise<number> {
  const started = Date.now();
  await docker(['stop', '--time', String(graceSeconds), name], (graceSeconds + 30) * 1000);
  const seconds = (Date.now() - started) / 1000;
  const [exitCode, oomKilled] = (await docker(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', name])).trim().split(' ');
  expect(exitCode, await docker(['logs', name]).catch(() => '')).toBe('0');
  expect(oomKilled).toBe('false');
  expect(seconds).toBeLessThan(graceSeconds);
  return seconds;
}

describe.skipIf(!enabled)('images built from the Dockerfile (opt-in: KURIER_IMAGE_TEST=1, needs Docker and the base images)', () => {
  beforeAll(async () => {
    templates = await loadTemplates(join(repoRoot, 'templates'));
    for (const target of ['dispatcher', 'controller']) {
      const result = await buildTarget(target, tag(target));
      if (result.code !== 0) throw new Error(`docker build --target ${target} failed:\n${result.output.slice(-4000)}`);
      built[target] = { seconds: result.seconds, sizeMb: await imageSizeMb(tag(target)) };
    }
  }, 1_200_000);
  afterAll(async () => {
    await cleanup();
    process.stdout.write(`image builds: ${JSON.stringify(built)}\n`);
  });

  it('builds the dispatcher-pulsar target, or without the Apache archive stops naming it and the build arguments', async () => {
    const host = process.env['KURIER_PULSAR_BINARY_HOST'];
    const result = await buildTarget('dispatcher-pulsar', tag('dispatcher-pulsar'), host === undefined ? [] : ['--build-arg', `PULSAR_CLIENT_BINARY_HOST=${host}`]);
    if (host !== undefined) {
      expect(result.code, result.output.slice(-4000)).toBe(0);
      built['dispatcher-pulsar'] = { seconds: result.seconds, sizeMb: await imageSizeMb(tag('dispatcher-pulsar')) };
      return;
    }
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('pulsar-native: cannot download the native Pulsar client https://archive.apache.org/dist/pulsar/pulsar-client-node/pulsar-client-node-1.18.0/napi-linux-');
    expect(result.output).toContain('PULSAR_CLIENT_BINARY_HOST');
    expect(result.output).toContain('HTTPS_PROXY');
  }, 900_000);

  it('the dispatcher image, run as the rendered Deployment runs it, delivers from NATS JetStream, is ready, is UID 65532 with no capabilities on a read-only root, and exits 0 on docker stop', async () => {
    const nc = await connectNats();
    undo.push(() => nc.close());
    const fn = await FunctionServer.start();
    undo.push(() => fn.close());
    const subject = uniqueName('image.orders');
    const stream = uniqueName('IMAGE').replace(/[^A-Za-z0-9_]/g, '_');
    await createStream(nc, stream, [subject]);
    undo.push(() => deleteStream(nc, stream));
    const deployment = render(
      natsTrigger('orders', fn.url, await freePort(), { url: SHARED_NATS, subject, jetstream: { stream, consumer: uniqueName('image-consumer') } }, { ordering: 'unordered', maxInFlight: 8 }),
      templates,
    );
    expect(podOf(deployment).containers[0]?.image).toBe(tag('dispatcher'));
    const { name, graceSeconds } = await runDispatcher(deployment);

    await publishNumbered(nc, subject, 0, 500);
    await fn.waitForDistinctDelivered(500, 60_000, numberOf);
    expect(tally(fn.delivered, 500).missing).toEqual([]);

    expect(await processIdentity(name)).toMatchObject({ uid: expect.stringMatching(/^65532$/), gid: '65532', capEff: '0000000000000000' });
    const probe = await docker(['exec', name, '/nodejs/bin/node', '-e', `
      const fs = require('fs');
      let root = 'writable'; try { fs.writeFileSync('/app/probe', 'x'); } catch (e) { root = e.code; }
      let tmp = 'read-only'; try { fs.writeFileSync('/tmp/probe', 'x'); tmp = 'writable'; } catch (e) { tmp = e.code; }
      process.stdout.write(JSON.stringify({ root, tmp, token: fs.existsSync('/var/run/secrets/kubernetes.io') }));`]);
    expect(JSON.parse(probe)).toEqual({ root: 'EROFS', tmp: 'writable', token: false });
    const seconds = await stopWithinGrace(name, graceSeconds);
    process.stdout.write(`dispatcher (NATS) stopped in ${seconds.toFixed(1)} s of a ${String(graceSeconds)} s grace period\n`);
  }, 180_000);

  it('the dispatcher image delivers from RabbitMQ as rendered and exits 0 on docker stop', async () => {
    const connection = await amqp.connect(RABBITMQ, { clientProperties: { connection_name: 'kurier-image-test' } });
    undo.push(() => connection.close());
    const channel = await connection.createConfirmChannel();
    const queue = uniqueName('kurier.image');
    await channel.assertQueue(queue, { durable: true });
    undo.push(() => channel.deleteQueue(queue));
    const fn = await FunctionServer.start();
    undo.push(() => fn.close());
    const metricsPort = await freePort();
    const trigger: Trigger = {
      apiVersion: 'kurier.dev/v1alpha1',
      kind: 'RabbitMQTrigger',
      metadata: { name: 'emails', namespace: 'images', uid: 'uid-emails' },
      spec: {
        rabbitmq: { url: RABBITMQ, queue },
        function: { url: fn.url },
        delivery: { ordering: 'unordered', maxInFlight: 8 },
        deployment: { spec: { template: { spec: { containers: [{ name: 'dispatcher', ports: [{ name: 'metrics', containerPort: metricsPort }] }] } } } },
      },
    };
    const { name, graceSeconds } = await runDispatcher(render(trigger, templates));
    for (let i = 0; i < 300; i++) channel.sendToQueue(queue, Buffer.from(JSON.stringify({ n: i })), { persistent: true, contentType: 'application/json' });
    await channel.waitForConfirms();
    await fn.waitForDistinctDelivered(300, 60_000, numberOf);
    expect(tally(fn.delivered, 300).missing).toEqual([]);
    await stopWithinGrace(name, graceSeconds);
  }, 180_000);

  it('keeps the dispatcher inside its 256Mi limit through a 20,000-message burst (heap cap from the image)', async () => {
    const nc = await connectNats();
    undo.push(() => nc.close());
    const fn = await FunctionServer.start();
    undo.push(() => fn.close());
    const subject = uniqueName('image.burst');
    const stream = uniqueName('BURST').replace(/[^A-Za-z0-9_]/g, '_');
    await createStream(nc, stream, [subject]);
    undo.push(() => deleteStream(nc, stream));
    const total = 20_000;
    // the burst is waiting in the stream before the dispatcher starts
    await publishNumbered(nc, subject, 0, total);
    const deployment = render(
      natsTrigger('burst', fn.url, await freePort(), { url: SHARED_NATS, subject, jetstream: { stream, consumer: uniqueName('burst') } }, { ordering: 'unordered', maxInFlight: 64 }),
      templates,
    );
    const { name, graceSeconds } = await runDispatcher(deployment);
    const heapLimitMib = Number(await docker(['exec', name, '/nodejs/bin/node', '-e', 'process.stdout.write(String(Math.round(require("v8").getHeapStatistics().heap_size_limit / 2 ** 20)))']));
    // Polled (the function server's per-request distinct count is quadratic at this size); generous:
    // a shared 2-core machine under load may take minutes.
    const started = Date.now();
    await eventually(() => fn.delivered.length >= total && tally(fn.delivered, total).missing.length === 0, `${String(total)} deliveries`, 1_200_000);
    const seconds = (Date.now() - started) / 1000;
    const peak = await peakRssMib(name);
    process.stdout.write(`burst of ${String(total)}: delivered in ${seconds.toFixed(0)} s, peak RSS ${String(peak)} MiB, heap limit ${String(heapLimitMib)} MiB, limit 256 MiB\n`);
    expect(heapLimitMib).toBeLessThan(200);
    expect(peak).toBeLessThan(256);
    await stopWithinGrace(name, graceSeconds);
  }, 1_500_000);

  it('the controller image runs as the chart runs it, with its templates mounted in the kubelet ConfigMap layout, against the API server double', async () => {
    const work = await mkdtemp(join(tmpdir(), 'kurier-image-controller-'));
    undo.push(() => rm(work, { recursive: true, force: true }));
    const mount = join(work, 'templates');
    await writeConfigMapMount(mount, await chartTemplatesPayload());
    await chmod(work, 0o755);
    const server: ApiServerDouble = await startApiServer({ crds: [CRD] });
    undo.push(() => server.close());
    server.ensureNamespace('images-ctl');
    const kubeconfig = join(work, 'kubeconfig');
    await copyFile(server.kubeconfigPath, kubeconfig);
    await chmod(kubeconfig, 0o644);

    // The chart's controller Deployment (deploy/kustomize/kurier.yaml is the chart rendered with defaults).
    const manifest = parseAllDocuments(await readFile(join(repoRoot, 'deploy/kustomize/kurier.yaml'), 'utf8')).map((d) => d.toJSON() as { kind: string; spec: { template: { spec: PodSpec } } });
    const chartDeployment = manifest.find((o) => o.kind === 'Deployment');
    if (chartDeployment === undefined) throw new Error('no Deployment in deploy/kustomize/kurier.yaml');
    const pod = chartDeployment.spec.template.spec;
    const metricsPort = await freePort();
    const container = pod.containers[0]!;
    container.env = (container.env ?? []).map((e) => (e.name === 'POD_NAME' ? { name: 'POD_NAME', value: 'kurier-controller-0' } : e));
    container.env.push({ name: 'KUBECONFIG', value: '/var/run/kurier/kubeconfig' });
    container.args = (container.args ?? []).map((a) => (a.startsWith('--metrics-port=') ? `--metrics-port=${String(metricsPort)}` : a));
    container.volumeMounts = [...(container.volumeMounts ?? []), { name: 'kubeconfig', mountPath: '/var/run/kurier/kubeconfig', readOnly: true }];
    pod.volumes = [...(pod.volumes ?? []), { name: 'kubeconfig' }];
    const { flags, image, args, graceSeconds } = runFlags(pod, 'controller', { templates: mount, kubeconfig });
    expect(image).toBe(tag('controller'));
    expect(args).toContain('--templates=/etc/kurier/templates');
    const name = uniqueName('kurier-image-controller').replace(/[^a-zA-Z0-9_.-]/g, '-');
    await docker(['run', '-d', '--name', name, ...flags, image, ...args]);
    undo.push(() => docker(['rm', '-f', name]));
    await eventually(async () => (await fetch(`http://127.0.0.1:${String(metricsPort)}/readyz`).catch(() => undefined))?.status === 200, 'controller /readyz', 60_000).catch(
      async (err: unknown) => {
        throw new Error(`${String(err)}\n${await docker(['logs', name]).catch(() => '')}`);
      },
    );
    await kubeApi(server.kubeConfig()).create(TRIGGERS, 'images-ctl', kafkaTrigger('images-ctl', 'orders'));
    await eventually(() => getDeployment(server, 'images-ctl', 'orders-kafka'), 'the dispatcher Deployment', 30_000);
    expect(await processIdentity(name)).toMatchObject({ uid: '65532', capEff: '0000000000000000' });
    await stopWithinGrace(name, graceSeconds);
  }, 180_000);

  it('the controller image with its default command uses the bundled /app/templates', async () => {
    const work = await mkdtemp(join(tmpdir(), 'kurier-image-default-'));
    undo.push(() => rm(work, { recursive: true, force: true }));
    await chmod(work, 0o755);
    const server = await startApiServer({ crds: [CRD] });
    undo.push(() => server.close());
    const kubeconfig = join(work, 'kubeconfig');
    await copyFile(server.kubeconfigPath, kubeconfig);
    await chmod(kubeconfig, 0o644);
    const metricsPort = await freePort();
    const name = uniqueName('kurier-image-default').replace(/[^a-zA-Z0-9_.-]/g, '-');
    await docker(['run', '-d', '--name', name, '--network', 'host', '--read-only', '--cap-drop', 'ALL', '-v', `${kubeconfig}:/kube/config:ro`,
      '-e', 'KUBECONFIG=/kube/config', '-e', `KURIER_METRICS_PORT=${String(metricsPort)}`, tag('controller')]);
    undo.push(() => docker(['rm', '-f', name]));
    await eventually(async () => (await fetch(`http://127.0.0.1:${String(metricsPort)}/readyz`).catch(() => undefined))?.status === 200, 'controller /readyz', 60_000).catch(
      async (err: unknown) => {
        throw new Error(`${String(err)}\n${await docker(['logs', name]).catch(() => '')}`);
      },
    );
    expect(await docker(['inspect', '--format', '{{json .Config.Cmd}}', tag('controller')])).toContain('"/app/templates"');
  }, 120_000);
});
