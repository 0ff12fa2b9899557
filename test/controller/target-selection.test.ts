import { describe, expect, it } from 'vitest';
import { leftOutMessage, selectorMatches, selectorText, selectTargets, targetsStatus, type ServiceLike } from '../../controller/target-selection.js';

type Ports = NonNullable<NonNullable<ServiceLike['spec']>['ports']>;
const svc = (name: string, labels: Record<string, string>, ports: Ports = [{ port: 80 }], namespace = 'shop'): ServiceLike => ({
  metadata: { name, namespace, labels },
  spec: { ports },
});

describe('selectorMatches (metav1.LabelSelector)', () => {
  const labels = { app: 'orders', tier: 'gold' };
  it.each([
    [{ matchLabels: { app: 'orders' } }, true],
    [{ matchLabels: { app: 'orders', tier: 'silver' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['gold', 'silver'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['gold'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn' as const, values: ['a'] }] }, true],
    [{ matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['a'] }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' as const }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' as const }] }, false],
    [{ matchLabels: { app: 'orders' }, matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' as const }] }, true],
  ])('%j on {app: orders, tier: gold} → %s', (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });

  it('writes the selector as kubectl does, for messages', () => {
    expect(selectorText({ matchLabels: { app: 'orders' }, matchExpressions: [{ key: 't', operator: 'In', values: ['a', 'b'] }, { key: 'x', operator: 'DoesNotExist' }] })).toBe('app=orders,t in (a,b),!x');
  });
});

describe('selectTargets', () => {
  const selector = { matchLabels: { fn: 'orders' } };

  it('takes the port named http, else the only one; sorts by name; ignores other namespaces and labels', () => {
    const selection = selectTargets(
      [
        svc('b', { fn: 'orders' }, [{ name: 'metrics', port: 9090 }, { name: 'http', port: 8080 }]),
        svc('a', { fn: 'orders' }, [{ port: 3000 }]),
        svc('c', { fn: 'payments' }),
        svc('d', { fn: 'orders' }, [{ port: 80 }], 'elsewhere'),
      ],
      selector,
      'shop',
    );
    expect(selection.targets).toEqual([
      { name: 'a', url: 'http://a.shop.svc.cluster.local:3000/' },
      { name: 'b', url: 'http://b.shop.svc.cluster.local:8080/' },
    ]);
    expect(selection.leftOut).toEqual([]);
  });

  it('leaves out several ports without http, no port, and UDP-only, naming their ports', () => {
    const selection = selectTargets(
      [svc('grpc', { fn: 'orders' }, [{ name: 'grpc', port: 9000 }, { name: 'metrics', port: 9090 }]), svc('headless', { fn: 'orders' }, []), svc('dns', { fn: 'orders' }, [{ name: 'dns', port: 53, protocol: 'UDP' }])],
      selector,
      'shop',
    );
    expect(selection.targets).toEqual([]);
    expect(selection.leftOut).toEqual([
      { name: 'dns', ports: ['dns:53/UDP'] },
      { name: 'grpc', ports: ['grpc:9000', 'metrics:9090'] },
      { name: 'headless', ports: [] },
    ]);
    expect(leftOutMessage(selection.leftOut)).toBe(
      'Services left out, no port to choose: dns (ports dns:53/UDP); grpc (ports grpc:9000, metrics:9090); headless (ports none); name one port http (or give the Service a single port)',
    );
  });

  it('lists at most 20 names in status and says when it cut the list', () => {
    const many = Array.from({ length: 25 }, (_, i) => svc(`fn-${String(i).padStart(2, '0')}`, { fn: 'orders' }));
    const status = targetsStatus(selectTargets(many, selector, 'shop'));
    expect(status.count).toBe(25);
    expect(status.names).toHaveLength(20);
    expect(status.names[19]).toBe('fn-19');
    expect(status.truncated).toBe(true);
    expect(targetsStatus(selectTargets(many.slice(0, 20), selector, 'shop'))).toEqual({ count: 20, names: many.slice(0, 20).map((s) => s.metadata.name) });
  });
});
