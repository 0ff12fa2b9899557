/**
 * Secrets are referenced, never inlined. The CRD schema refuses an inline `x` where only
 * `xSecretRef` exists (see schema.ts); this refuses the same value smuggled in as the variable
 * itself: an override env entry `NATS_PASSWORD: value: …` on any container.
 */
import { envSegment } from './env-contract.js';
import { isObject, own } from './merge.js';
import type { KindSchema, Problem, SchemaNode } from './schema.js';
import type { JsonValue } from './trigger.js';

const SUFFIX = 'SecretRef';

/** Variable name → the secret-ref field it must come from, for fields that have no inline form. */
export function secretOnlyVariables(kind: KindSchema): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  const visit = (node: SchemaNode | undefined, prefix: string, path: string): void => {
    const properties = node?.properties ?? {};
    for (const [field, child] of Object.entries(properties)) {
      if (field.endsWith(SUFFIX) && field.length > SUFFIX.length) {
        const plain = field.slice(0, -SUFFIX.length);
        if (!Object.hasOwn(properties, plain)) out.set(`${prefix}_${envSegment(plain)}`, `${path}.${field}`);
      } else if (child.properties !== undefined) {
        visit(child, `${prefix}_${envSegment(field)}`, `${path}.${field}`);
      }
    }
  };
  visit(kind.openAPIV3Schema.properties?.['spec']?.properties?.[kind.source], kind.source.toUpperCase(), `spec.${kind.source}`);
  return out;
}

/** Every override env entry that sets a secret-only variable inline, on any container. */
export function inlineSecretEnv(override: JsonValue | undefined, kind: KindSchema): Problem[] {
  const variables = secretOnlyVariables(kind);
  let podSpec = override;
  for (const field of ['spec', 'template', 'spec']) podSpec = isObject(podSpec) ? own(podSpec, field) : undefined;
  const problems: Problem[] = [];
  for (const list of ['containers', 'initContainers']) {
    const containers = isObject(podSpec) ? own(podSpec, list) : undefined;
    (Array.isArray(containers) ? containers : []).forEach((container, index) => {
      const env = isObject(container) ? own(container, 'env') : undefined;
      (Array.isArray(env) ? env : []).forEach((entry, envIndex) => {
        const name = isObject(entry) ? own(entry, 'name') : undefined;
        if (typeof name !== 'string' || !isObject(entry)) return;
        const field = variables.get(name);
        if (field === undefined || own(entry, 'value') === undefined || own(entry, 'value') === null) return;
        problems.push({
          path: `spec.deployment.spec.template.spec.${list}[${index}].env[${envIndex}].value`,
          message: `inline secret values are not accepted: ${name} comes from ${field}: {name, key}`,
          severity: 'error',
        });
      });
    });
  }
  return problems;
}
