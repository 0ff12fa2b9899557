/**
 * `spec.deployment` checked as what it claims to be, a part of an apps/v1 Deployment, before the
 * policy sees it: every field known (case matters: `HostNetwork` is not `hostNetwork`), every value
 * of its type (kubernetes-models' schemas: `privileged: "true"` is not a boolean), integers in range
 * (`runAsUser` ≤ 2147483647). Strategic-merge directives and `null` (remove) are allowed.
 */
import { Deployment as DeploymentModel } from 'kubernetes-models/apps/v1/Deployment';
import { DEPLOYMENT_FIELDS } from './deployment-fields.js';
import { isObject } from './merge.js';
import { closest, type Problem } from './schema.js';
import type { JsonObject, JsonValue } from './trigger.js';

const ROOT = 'spec.deployment';
const INT32 = 2 ** 31;
/** Kubernetes' own limit on user and group IDs (validation.IsValidUserID / IsValidGroupID). */
const MAX_ID = 2147483647;
const ID_FIELDS = new Set(['runAsUser', 'runAsGroup', 'fsGroup', 'supplementalGroups']);
const PORT_FIELDS: Readonly<Record<string, number>> = { containerPort: 1, hostPort: 0 };

const isDirective = (key: string): boolean => key === '$patch' || key === '$retainKeys' || key.startsWith('$deleteFromPrimitiveList/') || key.startsWith('$setElementOrder/');

const error = (path: string, message: string): Problem => ({ path, message, severity: 'error' });

function checkNumber(value: number, type: string, field: string, path: string, out: Problem[]): void {
  const [, format] = type.split('/');
  if (ID_FIELDS.has(field) && (value < 0 || value > MAX_ID)) out.push(error(path, `must be between 0 and ${MAX_ID} (got ${value})`));
  const portMinimum = PORT_FIELDS[field];
  if (portMinimum !== undefined && (value < portMinimum || value > 65535)) out.push(error(path, `must be a port between ${portMinimum} and 65535 (got ${value})`));
  if (format === 'int32' && Number.isInteger(value) && (value < -INT32 || value >= INT32)) out.push(error(path, `must be a 32-bit integer (got ${value})`));
  if (format === 'int64' && Number.isInteger(value) && !Number.isSafeInteger(value)) out.push(error(path, `is too large (got ${value})`));
}

function walk(value: JsonValue, type: string, field: string, path: string, out: Problem[]): void {
  if (value === null) return;
  const item = /^Array<(.+)>$/.exec(type)?.[1];
  if (item !== undefined) {
    if (Array.isArray(value)) value.forEach((element, index) => { walk(element, item, field, `${path}[${index}]`, out); });
    return;
  }
  const mapped = /^\{ \[key: string\]: (.+); \}$/.exec(type)?.[1];
  if (mapped !== undefined) {
    if (isObject(value)) for (const [key, element] of Object.entries(value)) walk(element, mapped, key, `${path}["${key}"]`, out);
    return;
  }
  if (typeof value === 'number') {
    checkNumber(value, type, field, path, out);
    return;
  }
  const fields = DEPLOYMENT_FIELDS[type];
  if (fields === undefined || !isObject(value)) return;
  const known = Object.keys(fields);
  for (const [key, element] of Object.entries(value)) {
    if (isDirective(key)) continue;
    const fieldType = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (fieldType === undefined) {
      const guess = closest(key, known);
      out.push(error(`${path}.${key}`, `unknown field "${key}" of a ${type.replace(/^V1/, '')}${guess === undefined ? '' : `; did you mean "${guess}"?`}`));
      continue;
    }
    walk(element, fieldType, key, `${path}.${key}`, out);
  }
}

/** A copy without `null`s and strategic-merge directives, the parts kubernetes-models can type-check. */
function withoutPatchSyntax(value: JsonValue): JsonValue | undefined {
  if (Array.isArray(value)) {
    return value.flatMap((element) => {
      const copy = withoutPatchSyntax(element);
      return copy === undefined || (isObject(copy) && Object.keys(copy).length === 0 && isObject(element) && Object.keys(element).length > 0) ? [] : [copy];
    });
  }
  if (!isObject(value)) return value === null ? undefined : value;
  const out: JsonObject = {};
  for (const [key, element] of Object.entries(value)) {
    if (isDirective(key)) continue;
    const copy = withoutPatchSyntax(element);
    if (copy !== undefined) out[key] = copy;
  }
  return out;
}

/** JSON pointer `/spec/template/spec/containers/0/image` → `spec.template.spec.containers[0].image`. */
function dotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : `${path}.${part}`), ROOT);
}

interface ValidationFailure {
  errors?: readonly { instancePath: string; keyword: string; message?: string }[];
}

function typeProblems(override: JsonObject): Problem[] {
  const copy = withoutPatchSyntax(override);
  try {
    new DeploymentModel(copy as never).validate();
    return [];
  } catch (err) {
    const errors = (err as ValidationFailure).errors ?? [];
    // An override is a part of a Deployment: fields it leaves out come from the defaults.
    return errors.filter((e) => e.keyword !== 'required').map((e) => error(dotted(e.instancePath), e.message ?? e.keyword));
  }
}

/** Every problem of `override` as a part of an apps/v1 Deployment, each with its `spec.deployment…` path. */
export function checkDeploymentOverride(override: JsonValue | undefined): Problem[] {
  if (override === undefined || override === null) return [];
  if (!isObject(override)) return [error(ROOT, 'must be an object (a part of an apps/v1 Deployment)')];
  const out: Problem[] = [];
  walk(override, 'V1Deployment', '', ROOT, out);
  const seen = new Set(out.map((problem) => problem.path));
  for (const problem of typeProblems(override)) if (!seen.has(problem.path)) out.push(problem);
  return out;
}
