import { describe, expect, it } from 'vitest';
import { mergeLayers, strategicMerge } from '../../render/merge.js';
import type { JsonObject } from '../../render/trigger.js';

const pod = (spec: JsonObject): JsonObject => ({ spec: { template: { spec } } });

describe('strategic merge', () => {
  const cases: { name: string; base: JsonObject; override: JsonObject; expected: JsonObject }[] = [
    {
      name: 'merges maps deeply, the override wins on scalars',
      base: { metadata: { labels: { a: '1', b: '2' } }, spec: { replicas: 1 } },
      override: { metadata: { labels: { b: 'x', c: '3' } } },
      expected: { metadata: { labels: { a: '1', b: 'x', c: '3' } }, spec: { replicas: 1 } },
    },
    {
      name: 'removes a field set to null',
      base: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
      override: { spec: { strategy: { type: 'Recreate', rollingUpdate: null } } },
      expected: { spec: { strategy: { type: 'Recreate' } } },
    },
    {
      name: 'merges containers by name and appends named sidecars',
      base: pod({ containers: [{ name: 'dispatcher', image: 'a', args: ['x'] }] }),
      override: pod({ containers: [{ name: 'dispatcher', image: 'b' }, { name: 'sidecar', image: 's' }] }),
      expected: pod({ containers: [{ name: 'dispatcher', image: 'b', args: ['x'] }, { name: 'sidecar', image: 's' }] }),
    },
    {
      name: 'merges an override container without a name into the dispatcher',
      base: pod({ containers: [{ name: 'dispatcher', image: 'a', resources: { limits: { memory: '1Gi' } } }] }),
      override: pod({ containers: [{ resources: { limits: { cpu: '1' } } }] }),
      expected: pod({ containers: [{ name: 'dispatcher', image: 'a', resources: { limits: { memory: '1Gi', cpu: '1' } } }] }),
    },
    {
      name: 'merges container env by name, the trigger wins',
      base: pod({ containers: [{ name: 'dispatcher', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }] }),
      override: pod({ containers: [{ name: 'dispatcher', env: [{ name: 'B', value: 'x' }, { name: 'C', value: '3' }] }] }),
      expected: pod({
        containers: [{ name: 'dispatcher', env: [{ name: 'A', value: '1' }, { name: 'B', value: 'x' }, { name: 'C', value: '3' }] }],
      }),
    },
    {
      name: 'replaces an env value with a secret reference when the trigger gives valueFrom and drops value with null',
      base: pod({ containers: [{ name: 'dispatcher', env: [{ name: 'T', value: 'plain' }] }] }),
      override: pod({ containers: [{ name: 'dispatcher', env: [{ name: 'T', value: null, valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] }),
      expected: pod({ containers: [{ name: 'dispatcher', env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] }),
    },
    {
      name: 'merges volumes by name and volumeMounts by mountPath',
      base: pod({
        volumes: [{ name: 'tmp', emptyDir: {} }],
        containers: [{ name: 'dispatcher', volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] }],
      }),
      override: pod({
        volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }, { name: 'data', emptyDir: {} }],
        containers: [{ name: 'dispatcher', volumeMounts: [{ name: 'tmp', mountPath: '/tmp', readOnly: false }, { name: 'data', mountPath: '/data' }] }],
      }),
      expected: pod({
        volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }, { name: 'data', emptyDir: {} }],
        containers: [
          { name: 'dispatcher', volumeMounts: [{ name: 'tmp', mountPath: '/tmp', readOnly: false }, { name: 'data', mountPath: '/data' }] },
        ],
      }),
    },
    {
      name: 'merges ports by containerPort',
      base: pod({ containers: [{ name: 'dispatcher', ports: [{ name: 'metrics', containerPort: 9090 }] }] }),
      override: pod({ containers: [{ name: 'dispatcher', ports: [{ containerPort: 9090, protocol: 'TCP' }, { containerPort: 8080 }] }] }),
      expected: pod({ containers: [{ name: 'dispatcher', ports: [{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }, { containerPort: 8080 }] }] }),
    },
    {
      name: 'merges imagePullSecrets and initContainers by name',
      base: pod({ imagePullSecrets: [{ name: 'a' }], initContainers: [{ name: 'init', image: 'i' }] }),
      override: pod({ imagePullSecrets: [{ name: 'b' }], initContainers: [{ name: 'init', args: ['go'] }] }),
      expected: pod({ imagePullSecrets: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'init', image: 'i', args: ['go'] }] }),
    },
    {
      name: 'replaces lists without a merge key (args, tolerations)',
      base: pod({ tolerations: [{ key: 'a' }], containers: [{ name: 'dispatcher', args: ['dispatch', 'kafka'] }] }),
      override: pod({ tolerations: [{ key: 'b' }], containers: [{ name: 'dispatcher', args: ['--verbose'] }] }),
      expected: pod({ tolerations: [{ key: 'b' }], containers: [{ name: 'dispatcher', args: ['--verbose'] }] }),
    },
    {
      name: 'deletes a keyed item marked $patch: delete',
      base: pod({ volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'keep', emptyDir: {} }] }),
      override: pod({ volumes: [{ name: 'tmp', $patch: 'delete' }] }),
      expected: pod({ volumes: [{ name: 'keep', emptyDir: {} }] }),
    },
  ];

  for (const { name, base, override, expected } of cases) {
    it(name, () => {
      expect(strategicMerge(base, override)).toEqual(expected);
    });
  }

  it('does not change its inputs', () => {
    const base = pod({ containers: [{ name: 'dispatcher', env: [{ name: 'A', value: '1' }] }] });
    const override = pod({ containers: [{ env: [{ name: 'A', value: '2' }] }] });
    const before = structuredClone([base, override]);
    strategicMerge(base, override);
    expect([base, override]).toEqual(before);
  });

  it('applies layers in order, later wins', () => {
    expect(mergeLayers({ a: 1, b: 1 }, { b: 2, c: 2 }, { c: 3 })).toEqual({ a: 1, b: 2, c: 3 });
  });
});
