/**
 * End to end on one machine: a NATSTrigger applied to the API server double is reconciled by the
 * real controller into a Deployment; the dispatcher runs as a real process with exactly that
 * Deployment's command and environment against the real NATS JetStream on 127.0.0.1; the Deployment's readiness flows back into the
 * trigger's status. Only the kubelet and the Deployment controller are played by the test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../controller/kube.js';
import { DispatcherProcess } from '../support/dispatcher-process.js';
import { FunctionServer } from '../support/function-server.js';
import { tally, numberOf } from '../support/stream-tally.js';
import { eventually, getDeployment, getTrigger, readyOf, startEnv } from '../controller/harness.js';
import { connectNats, createStream, deleteStream, publishNumbered, SHARED_NATS, uniqueName } from '../dispatchers/nats/helpers.js';

const NATS_TRIGGERS = { group: 'kurier.dev', version: 'v1alpha1', plural: 'natstriggers' } as const;

interface EnvEntry {
  name: string;
  value?: string;
}

/** The dispatcher container's literal environment, as the kubelet would give it. */
function containerEnv(deployment: KubeObject): Record<string, string> {
  const spec = deployment['spec'] as { template: { spec: { containers: { name: string; env?: EnvEntry[] }[] } } };
  const dispatcher = spec.template.spec.containers.find((c) => c.name === 'dispatcher');
  const out: Record<string, string> = {};
  for (const entry of dispatcher?.env ?? []) {
    if (entry.value === undefined) throw new Error(`${entry.name} is not a literal value; this test resolves no Secrets`);
    out[entry.name] = entry.value;
  }
  return out;
}

const argsOf = (deployment: KubeObject): string[] =>
  (deployment['spec'] as { template: { spec: { containers: { name: string; args?: string[] }[] } } }).template.spec.containers.find((c) => c.name === 'dispatcher')?.args ?? [];

describe('end to end: NATSTrigger → controller → Deployment → dispatcher process → function (API server double, real NATS JetStream)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  });

  it('delivers every message published to the trigger subject and reports the trigger Ready', async () => {
    const env = await startEnv();
    cleanups.push(() => env.close());
    const nc = await connectNats();
    cleanups.push(() => nc.close());
    const fn = await FunctionServer.start();
    cleanups.push(() => fn.close());
    fn.failFraction(0.2);
    const subject = uniqueName('e2e.orders');
    const stream = uniqueName('E2E').replace(/[^A-Za-z0-9_]/g, '_');
    await createStream(nc, stream, [subject]);
    cleanups.push(() => deleteStream(nc, stream));

    await env.api.create(NATS_TRIGGERS, env.ns, {
      apiVersion: 'kurier.dev/v1alpha1',
      kind: 'NATSTrigger',
      metadata: { name: 'orders', namespace: env.ns },
      spec: {
        nats: { url: SHARED_NATS, subject, jetstream: { stream, consumer: uniqueName('orders-consumer'), ackWait: '5s' } },
        function: { url: fn.url },
        delivery: { ordering: 'unordered', maxInFlight: 8, retry: { initialDelay: '20ms', maxDelay: '200ms' } },
      },
    });

    const deployment = await eventually(() => getDeployment(env.server, env.ns, 'orders-nats'), 'the dispatcher Deployment');
    // Status is written right after the Deployment: wait for it rather than race it.
    const notReady = await eventually(() => readyOf(getTrigger(env.server, env.ns, 'orders', 'NATSTrigger')), 'the first status');
    expect(notReady).toMatchObject({ status: 'False', reason: 'DeploymentNotReady' });
    const [command, source] = argsOf(deployment);
    expect(command).toBe('dispatch');
    const dispatcher = await DispatcherProcess.start(source ?? '', { ...containerEnv(deployment), METRICS_PORT: '0' });
    cleanups.push(() => dispatcher.stop());

    await publishNumbered(nc, subject, 0, 200);
    await fn.waitForDistinctDelivered(200, 30_000, numberOf);
    const result = tally(fn.delivered, 200);
    expect(result.missing).toEqual([]);
    expect(fn.delivered[0]?.headers['event-namespace']).toBe('natstriggers.kubeless.io');
    expect(fn.delivered[0]?.headers['ce-source']).toBe(`/apis/kurier.dev/v1alpha1/namespaces/${env.ns}/natstriggers/orders`);

    // The Deployment controller's part: its pods became ready.
    await env.server.setDeploymentReady(env.ns, 'orders-nats', true);
    const ready = await eventually(() => {
      const trigger = getTrigger(env.server, env.ns, 'orders', 'NATSTrigger');
      return readyOf(trigger)?.status === 'True' ? trigger : undefined;
    }, 'the trigger Ready');
    expect(ready.status).toMatchObject({ deployment: { name: 'orders-nats', namespace: env.ns }, readyReplicas: 1 });
    expect((await dispatcher.terminate()).code).toBe(0);
  }, 90_000);
});
