import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../controller/clock.js';
import { EventType, KubeEventRecorder } from '../../controller/events.js';
import { kubeApi } from '../../controller/kube.js';
import { silentLogger } from '../../controller/logger.js';
import { startApiServer, type ApiServerDouble } from '../support/apiserver/index.js';
import { eventsIn } from './harness.js';

let server: ApiServerDouble | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const subject = { apiVersion: 'kurier.dev/v1alpha1', kind: 'KafkaTrigger', metadata: { name: 'orders', namespace: 'default', uid: 'u-1' } };

describe('events', () => {
  it('folds a repeated event into one Event with a count, and keeps different ones apart', async () => {
    server = await startApiServer();
    const recorder = new KubeEventRecorder(kubeApi(server.kubeConfig()), { clock: systemClock, instance: 'c-0', log: silentLogger });
    await recorder.record(subject, EventType.Warning, 'InvalidSpec', 'spec.kafka.topic: bad');
    await recorder.record(subject, EventType.Warning, 'InvalidSpec', 'spec.kafka.topic: bad');
    await recorder.record(subject, EventType.Warning, 'InvalidSpec', 'spec.kafka.topic: bad');
    await recorder.record(subject, EventType.Normal, 'DeploymentCreated', 'Created Deployment default/orders-kafka');
    const events = eventsIn(server, 'default');
    expect(events).toHaveLength(2);
    expect(events.find((e) => e.reason === 'InvalidSpec')).toMatchObject({ type: 'Warning', count: 3, involvedObject: { name: 'orders' } });
    expect(events.find((e) => e.reason === 'DeploymentCreated')).toMatchObject({ type: 'Normal', count: 1 });
    expect(server.requests.filter((r) => r.resource === 'events').map((r) => r.verb)).toEqual(['create', 'patch', 'patch', 'create']);
  });

  it('never throws when the API server refuses an event', async () => {
    server = await startApiServer();
    const recorder = new KubeEventRecorder(kubeApi(server.kubeConfig()), { clock: systemClock, instance: 'c-0', log: silentLogger });
    server.faults.failNext(1, 500);
    await expect(recorder.record(subject, EventType.Warning, 'X', 'y')).resolves.toBeUndefined();
  });
});
