/**
 * An attacker's trigger must not change what a later trigger renders in the same process: keys
 * that reach a prototype are refused, and the merge never reads or writes inherited properties.
 */
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../render/render.js';
import { loadSchemas, type TriggerSchemas } from '../../render/schema.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import type { Trigger } from '../../render/trigger.js';
import { judgeTrigger } from '../../render/verdict.js';
import { repoRoot } from '../support/run-kurier.js';

let templates: Templates;
let schemas: TriggerSchemas;
beforeAll(async () => {
  templates = await loadTemplates(join(repoRoot, 'templates'));
  schemas = loadSchemas(join(repoRoot, 'crd.yaml'));
});

const victim = (): Trigger => ({
  apiVersion: 'kurier.dev/v1alpha1',
  kind: 'KafkaTrigger',
  metadata: { name: 'payments', namespace: 'team-b', uid: 'uid-b' },
  spec: {
    kafka: { brokers: ['kafka:9092'], topic: 'payments', sasl: { mechanism: 'scram-sha-512', username: 'payments', passwordSecretRef: { name: 'kafka-sasl', key: 'password' } } },
    function: { url: 'http://payments.team-b:8080/' },
  },
});

// As `kurier render -f` and the controller read it: YAML (or JSON) with an own key named __proto__.
const ATTACKERS = {
  'an attacker image': `
apiVersion: kurier.dev/v1alpha1
kind: NATSTrigger
metadata: { name: evil, namespace: team-a }
spec:
  nats: { url: "nats://nats:4222", subject: x }
  function: { url: "http://x.team-a:8080/" }
  deployment:
    __proto__:
      deployment: { spec: { template: { spec: { containers: [{ name: dispatcher, image: "evil.example/steal:latest" }] } } } }
`,
  'a hostPath / mount': `
apiVersion: kurier.dev/v1alpha1
kind: NATSTrigger
metadata: { name: evil, namespace: team-a }
spec:
  nats: { url: "nats://nats:4222", subject: x }
  function: { url: "http://x.team-a:8080/" }
  deployment:
    spec:
      template:
        spec:
          __proto__:
            volumes: [{ name: root, hostPath: { path: / } }]
          containers:
            - name: dispatcher
              __proto__: { volumeMounts: [{ name: root, mountPath: /host }] }
`,
};

describe('prototype pollution', () => {
  for (const [what, attackerYaml] of Object.entries(ATTACKERS)) {
    it(`refuses ${what} smuggled in through __proto__, and a victim rendered next is rendered as if the attacker never ran`, () => {
      const clean = structuredClone(render(victim(), templates));
      const attacker = parse(attackerYaml) as Trigger;
      expect(Object.keys(attacker.spec.deployment as object).length).toBeGreaterThan(0);

      const verdict = judgeTrigger(attacker, { templates, schemas });
      expect(verdict.deployment).toBeUndefined();
      expect(verdict.problems.map((problem) => problem.path)).toContainEqual(expect.stringMatching(/\.__proto__$/));
      expect(() => render(attacker, templates)).toThrow(/"__proto__" is not allowed as a field name/);

      expect(Object.getOwnPropertyNames(Object.prototype).filter((key) => ['deployment', 'volumes', 'volumeMounts', 'containers'].includes(key))).toEqual([]);
      expect(render(victim(), templates)).toEqual(clean);
      expect(judgeTrigger(victim(), { templates, schemas }).deployment).toEqual(clean);
    });
  }

  it('refuses constructor and prototype keys wherever they are', () => {
    for (const key of ['constructor', 'prototype']) {
      const trigger = { ...victim(), spec: { ...victim().spec, deployment: { spec: { template: { metadata: { [key]: { x: 1 } } } } } } };
      expect(() => render(trigger, templates)).toThrow(`spec.deployment.spec.template.metadata.${key}: "${key}" is not allowed as a field name`);
    }
  });
});
