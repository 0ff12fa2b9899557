import { celEnv, isCelError, parse, plan, type CelInput, type CelResult } from '@bufbuild/cel';
import type { StatusCause } from './errors.js';
import type { SchemaProps } from './schema.js';

/**
 * `x-kubernetes-validations` as the API server evaluates them: compiled once with the CRD, run where
 * the rule sits (on values that are present), `self` bound to the value with property names escaped
 * as Kubernetes exposes them to CEL, `oldSelf` on updates only (a rule naming it is a transition rule
 * and is skipped on create). Not modelled: the cost budget and type-checking beyond field names.
 */

interface Rule {
  rule: string;
  message?: string;
  reason?: string;
  fieldPath?: string;
}

interface CompiledRule extends Rule {
  transition: boolean;
  program: (bindings: Record<string, CelInput>) => CelResult;
}

const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/** A property name as Kubernetes exposes it to CEL. */
export function celName(name: string): string {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  return name.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__');
}

const compiled = new WeakMap<SchemaProps, CompiledRule[]>();
const env = celEnv();

function rulesOf(node: SchemaProps): Rule[] {
  const rules = node['x-kubernetes-validations'];
  return Array.isArray(rules) ? (rules as Rule[]) : [];
}

/** The schemas under a node, each with its path suffix in the CRD (`.properties[name]`, `.items`, …). */
function children(node: SchemaProps): [string, SchemaProps][] {
  const out: [string, SchemaProps][] = Object.entries(node.properties ?? {}).map(([k, v]) => [`.properties[${k}]`, v]);
  if (node.items) out.push(['.items', node.items]);
  if (typeof node.additionalProperties === 'object') out.push(['.additionalProperties', node.additionalProperties]);
  return out;
}

/**
 * Compiles every rule of a schema; returns the causes a CRD write is refused with (a rule that does not
 * parse, or names a field its object does not declare — what the API server's type check catches).
 */
export function compileRules(root: SchemaProps, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const visit = (node: SchemaProps, at: string): void => {
    const rules = rulesOf(node);
    if (rules.length > 0) {
      const declared = new Set(Object.keys(node.properties ?? {}).map(celName));
      const open = node['x-kubernetes-preserve-unknown-fields'] === true || node.additionalProperties !== undefined;
      const out: CompiledRule[] = [];
      rules.forEach((r, i) => {
        const field = `${at}.x-kubernetes-validations[${String(i)}].rule`;
        try {
          const program = plan(env, parse(r.rule)) as (bindings: Record<string, CelInput>) => CelResult;
          const undeclared = open ? [] : [...r.rule.matchAll(/\bself\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? '').filter((f) => !declared.has(f));
          if (undeclared.length > 0) {
            causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(r.rule)}: compilation failed: ERROR: <input>: undefined field '${undeclared[0] ?? ''}'`, field });
            return;
          }
          out.push({ ...r, transition: /\boldSelf\b/.test(r.rule), program });
        } catch (e) {
          causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(r.rule)}: compilation failed: ${(e as Error).message}`, field });
        }
      });
      compiled.set(node, out);
    }
    for (const [suffix, child] of children(node)) visit(child, `${at}${suffix}`);
  };
  visit(root, path);
  return causes;
}

/** Whether any rule sits anywhere in the schema. */
export function hasRules(root: SchemaProps): boolean {
  return rulesOf(root).length > 0 || children(root).some(([, child]) => hasRules(child));
}

/** A JSON value as CEL sees it: integers of integer fields are CEL ints, object properties escaped. */
function toCel(value: unknown, node: SchemaProps | undefined): CelInput {
  if (Array.isArray(value)) return value.map((v) => toCel(v, node?.items));
  if (value !== null && typeof value === 'object') {
    const props = node?.properties;
    const addl = typeof node?.additionalProperties === 'object' ? node.additionalProperties : undefined;
    return new Map(Object.entries(value).map(([k, v]) => (props?.[k] ? [celName(k), toCel(v, props[k])] : [k, toCel(v, addl)])));
  }
  if (typeof value === 'number' && node?.type === 'integer' && Number.isInteger(value)) return BigInt(value);
  return value as CelInput;
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Evaluates the rules of every present value; returns the failures as the API server reports them. */
export function evaluateRules(root: SchemaProps, obj: unknown, old: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const visit = (node: SchemaProps, value: unknown, oldValue: unknown, at: string): void => {
    if (value === undefined || value === null) return;
    for (const r of compiled.get(node) ?? []) {
      if (r.transition && oldValue === undefined) continue;
      const bindings: Record<string, CelInput> = { self: toCel(value, node) };
      if (r.transition) bindings.oldSelf = toCel(oldValue, node);
      const result = r.program(bindings);
      const field = r.fieldPath ? `${at}${r.fieldPath}` : at;
      if (isCelError(result)) {
        causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${typeName(value)}": ${result.message} evaluating rule: ${r.rule}`, field });
      } else if (result !== true) {
        causes.push({ reason: r.reason ?? 'FieldValueInvalid', message: `Invalid value: "${typeName(value)}": ${r.message ?? `failed rule: ${r.rule}`}`, field });
      }
    }
    if (Array.isArray(value)) {
      if (node.items) value.forEach((v, i) => { visit(node.items!, v, undefined, `${at}[${String(i)}]`); });
      return;
    }
    if (typeof value !== 'object') return;
    const here = value as Record<string, unknown>;
    const before = oldValue !== null && typeof oldValue === 'object' && !Array.isArray(oldValue) ? (oldValue as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(here)) {
      const child = node.properties?.[k] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
      if (child) visit(child, v, before[k], at === '' ? k : `${at}.${k}`);
    }
  };
  visit(root, obj, old, '');
  return causes;
}
