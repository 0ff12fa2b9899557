/**
 * Property: whatever override a trigger author writes, a Deployment that renders passes the
 * restricted profile (an independent reading, test/support/restricted-profile.ts) — except where an
 * admin rule that allows exactly that finding is on. Overrides and admin policies are random
 * (fast-check); failures shrink to the smallest override that breaks it.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OverridePolicy } from '../../render/policy-settings.js';
import { loadSchemas, type TriggerSchemas } from '../../render/schema.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import { judgeTrigger } from '../../render/verdict.js';
import { restrictedFindings } from '../support/restricted-profile.js';
import { repoRoot } from '../support/run-kurier.js';

let templates: Templates;
let schemas: TriggerSchemas;
beforeAll(async () => {
  templates = await loadTemplates(join(repoRoot, 'templates'));
  schemas = loadSchemas(join(repoRoot, 'crd.yaml'));
});

const any = <T,>(...values: T[]): fc.Arbitrary<T> => fc.constantFrom(...values);
/** Any subset of the fields, each with one of its values. */
const partial = <T,>(fields: { [K in keyof T]: fc.Arbitrary<T[K]> }) => fc.record(fields, { requiredKeys: [] });

const containerSecurity = partial({
  privileged: any(true, false, null),
  allowPrivilegeEscalation: any(true, false, null),
  runAsNonRoot: any(true, false, null),
  runAsUser: any(0, 1000, null),
  runAsGroup: any(0, 1000, null),
  readOnlyRootFilesystem: any(true, false, null),
  capabilities: any(null, { drop: [] }, { drop: ['ALL'] }, { add: ['SYS_ADMIN'] }, { add: ['NET_BIND_SERVICE'], drop: ['ALL'] }, { '$deleteFromPrimitiveList/drop': ['ALL'] }),
  seccompProfile: any(null, {}, { type: 'RuntimeDefault' }, { type: 'Unconfined' }, { type: 'Localhost', localhostProfile: 'p.json' }),
  appArmorProfile: any({ type: 'Unconfined' }, { type: 'RuntimeDefault' }),
  procMount: any('Default', 'Unmasked'),
  seLinuxOptions: any({ type: 'spc_t' }, { type: 'container_t' }, { user: 'system_u' }),
  windowsOptions: any({ hostProcess: true }, { hostProcess: false }),
  $patch: any('replace', 'merge'),
  $retainKeys: any([], ['privileged']),
});

const container = fc.record(
  {
    name: any('dispatcher', 'shell', 'init'),
    image: any('busybox'),
    securityContext: fc.oneof(containerSecurity, any(null)),
    ports: any([{ containerPort: 8080 }], [{ containerPort: 8080, hostPort: 8080 }]),
    $patch: any('delete'),
  },
  { requiredKeys: ['image'] },
);

const volume = fc.tuple(fc.nat(3), any<Record<string, unknown>>(
  { emptyDir: {} },
  { hostPath: { path: '/' } },
  { nfs: { server: 'nfs', path: '/' } },
  { persistentVolumeClaim: { claimName: 'c' } },
  { projected: { sources: [{ serviceAccountToken: { path: 't' } }] } },
  { secret: { secretName: 's' } },
)).map(([index, source]) => ({ name: `v${index}`, ...source }));

const podSpec = partial({
  hostNetwork: fc.boolean(),
  hostPID: fc.boolean(),
  automountServiceAccountToken: any(true, false, null),
  serviceAccountName: any('admin'),
  securityContext: fc.oneof(
    any(null),
    partial({
      runAsNonRoot: any(true, false, null),
      runAsUser: any(0, 1000, null),
      fsGroup: any(0, 1000),
      supplementalGroups: any([0], [1000]),
      sysctls: any([{ name: 'net.core.somaxconn', value: '1024' }]),
      seccompProfile: any(null, { type: 'Unconfined' }, { type: 'RuntimeDefault' }),
    }),
  ),
  containers: fc.array(container, { maxLength: 3 }),
  initContainers: fc.array(container, { maxLength: 2 }),
  volumes: fc.array(volume, { maxLength: 2 }),
});

const override = partial({
  metadata: partial({ namespace: any('shop', 'other') }),
  spec: fc.record({
    template: partial({
      metadata: partial({ annotations: any({ 'container.apparmor.security.beta.kubernetes.io/dispatcher': 'unconfined' }) }),
      spec: podSpec,
    }),
  }),
});

const policy: fc.Arbitrary<OverridePolicy> = fc
  .record({
    allowServiceAccount: fc.boolean(),
    allowHostNamespaces: fc.boolean(),
    allowPrivileged: fc.boolean(),
    allowHostPath: fc.boolean(),
    allowWritableRootFilesystem: fc.boolean(),
    allowedVolumeTypes: any([], ['nfs'], ['persistentVolumeClaim', 'nfs']),
    allowCrossNamespace: fc.boolean(),
  })
  .map((rules) => ({ ...templates.policy, ...rules }));

function enabled(rules: OverridePolicy, rule: string): boolean {
  const value: unknown = rules[rule as keyof OverridePolicy];
  return value === true || (Array.isArray(value) && value.length > 0);
}

describe('property: a rendered Deployment passes the restricted profile unless an admin rule allowed it', () => {
  it('holds for random overrides under the default policy and under random admin policies', () => {
    let rendered = 0;
    let relaxedFindings = 0;
    const runs = 600;
    fc.assert(
      fc.property(override, fc.oneof(any(templates.policy), policy), (deployment, rules) => {
        const trigger = {
          apiVersion: 'kurier.dev/v1alpha1',
          kind: 'KafkaTrigger',
          metadata: { name: 'orders', namespace: 'shop' },
          spec: { kafka: { brokers: ['kafka:9092'], topic: 'orders' }, function: { url: 'http://fn.shop:8080/' }, deployment },
        };
        const verdict = judgeTrigger(trigger, { templates, schemas, policy: rules });
        if (verdict.deployment === undefined) return;
        rendered++;
        const findings = restrictedFindings(verdict.deployment, 'shop');
        relaxedFindings += findings.length;
        const unallowed = findings.filter((finding) => !enabled(rules, finding.allowedBy));
        expect(unallowed).toEqual([]);
      }),
      { numRuns: runs },
    );
    console.log(`${rendered} of ${runs} random overrides rendered; ${relaxedFindings} restricted-profile findings, each allowed by an enabled admin rule`);
    // The property is only worth something if many overrides do render, some of them relaxed.
    expect(rendered).toBeGreaterThan(runs / 20);
    expect(relaxedFindings).toBeGreaterThan(0);
  }, 120_000);
});
