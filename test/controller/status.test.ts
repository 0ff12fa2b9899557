import { describe, expect, it } from 'vitest';
import { isSubset, jsonEqual } from '../../render/json.js';
import { buildStatus, readinessOf, Reason, statusUnchanged, type Observation } from '../../controller/status.js';
import type { Trigger } from '../../render/trigger.js';

const trigger = (status?: Trigger['status'], generation = 3): Trigger => ({
  apiVersion: 'kurier.dev/v1alpha1',
  kind: 'KafkaTrigger',
  metadata: { name: 'orders', namespace: 'shop', generation },
  spec: {},
  ...(status === undefined ? {} : { status }),
});

const ready: Observation = {
  ready: { status: 'True', reason: Reason.DeploymentReady, message: 'ok' },
  deployment: { name: 'orders-kafka', namespace: 'shop' },
  replicas: 1,
  readyReplicas: 1,
};

describe('status builders', () => {
  it('keeps the transition time while the condition status stays the same, so a rebuild is unchanged', () => {
    const first = buildStatus(trigger(), ready, '2026-01-01T00:00:00Z');
    const again = buildStatus(trigger(first), { ...ready, ready: { ...ready.ready, message: 'still ok' } }, '2026-01-02T00:00:00Z');
    expect(again.conditions?.[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(statusUnchanged(first, buildStatus(trigger(first), ready, '2026-01-03T00:00:00Z'))).toBe(true);
  });

  it('moves the transition time when the condition flips, and records observedGeneration', () => {
    const first = buildStatus(trigger(), ready, '2026-01-01T00:00:00Z');
    const flipped = buildStatus(trigger(first, 4), { ready: { status: 'False', reason: Reason.InvalidSpec, message: 'spec.x: bad' } }, '2026-01-02T00:00:00Z');
    expect(flipped.conditions?.[0]).toMatchObject({ status: 'False', reason: 'InvalidSpec', lastTransitionTime: '2026-01-02T00:00:00Z', observedGeneration: 4 });
    expect(flipped.observedGeneration).toBe(4);
  });

  it('adds a LegacyDeployment condition naming the old Deployments, and keeps conditions of other owners', () => {
    const foreign = { type: 'Audited', status: 'True' as const, reason: 'Ok', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' };
    const s = buildStatus(trigger({ conditions: [foreign] }), { ...ready, legacy: ['legacy/orders'] }, '2026-01-01T00:00:00Z');
    expect(s.conditions?.map((c) => c.type)).toEqual(['Ready', 'LegacyDeployment', 'Audited']);
    expect(s.conditions?.[1]?.message).toContain('Deployment legacy/orders');
  });

  it('is Ready only when the Deployment observed its generation and every desired replica is updated and ready', () => {
    const d = (status: object, replicas = 2, generation = 5): Parameters<typeof readinessOf>[0] => ({
      metadata: { name: 'd', namespace: 'n', generation },
      spec: { replicas },
      status,
    });
    expect(readinessOf(d({ observedGeneration: 5, readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2, replicas: 2 })).status).toBe('True');
    expect(readinessOf(d({ observedGeneration: 4, readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2, replicas: 2 })).status).toBe('False');
    expect(readinessOf(d({ observedGeneration: 5, readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1, replicas: 2 })).message).toContain('1 of 2 updated replicas are available');
    expect(readinessOf(d({ observedGeneration: 5 }, 0)).status).toBe('True');
  });

  it('means what kubectl rollout status means: an old ready pod next to an unavailable new one is not Ready', () => {
    // seen on a real node: the edit rolled the Deployment, the new pod could not be scheduled
    const stuck = readinessOf({
      metadata: { name: 'd', namespace: 'n', generation: 2 },
      spec: { replicas: 1 },
      status: { observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
    });
    expect(stuck).toMatchObject({ status: 'False', reason: 'DeploymentNotReady' });
    expect(stuck.message).toContain('1 old replicas are pending termination');
    const unavailable = readinessOf({
      metadata: { name: 'd', namespace: 'n', generation: 2 },
      spec: { replicas: 2 },
      status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 1 },
    });
    expect(unavailable.message).toContain('1 of 2 updated replicas are available');
    expect(readinessOf({ metadata: { name: 'd', generation: 3 }, spec: { replicas: 1 }, status: { replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } }).status).toBe('False');
  });

  it('reports a rollout past its progress deadline with reason ProgressDeadlineExceeded', () => {
    const r = readinessOf({
      metadata: { name: 'd', namespace: 'n', generation: 2 },
      spec: { replicas: 1 },
      status: {
        observedGeneration: 2,
        replicas: 2,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "d-7c9" has timed out progressing.' }],
      },
    });
    expect(r).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(r.message).toContain('has timed out progressing');
  });
});

describe('JSON comparison', () => {
  it('treats fields the API server added as no difference, but an added list item as one', () => {
    const want = { containers: [{ name: 'a', env: [{ name: 'X', value: '1' }] }], empty: {}, gone: null };
    expect(isSubset(want, { containers: [{ name: 'a', env: [{ name: 'X', value: '1' }], terminationMessagePath: '/dev/x' }], dnsPolicy: 'ClusterFirst' })).toBe(true);
    expect(isSubset(want, { containers: [{ name: 'a', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] }] })).toBe(false);
    expect(isSubset(want, { containers: [{ name: 'a', env: [{ name: 'X', value: '2' }] }] })).toBe(false);
  });

  it('ignores key order', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2, d: 3 }] }, { b: [1, { d: 3, c: 2 }], a: 1 })).toBe(true);
  });
});
