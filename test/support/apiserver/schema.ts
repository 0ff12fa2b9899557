import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { compileRules, evaluateRules, hasRules } from './cel.js';
import type { StatusCause } from './errors.js';

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => void;

/** A JSON-schema-props node of a CRD's openAPIV3Schema. */
export interface SchemaProps {
  type?: string;
  properties?: Record<string, SchemaProps>;
  additionalProperties?: SchemaProps | boolean;
  items?: SchemaProps;
  required?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  [k: string]: unknown;
}

/** The compiled validation of one served CRD version. */
export interface CrdSchema {
  readonly root: SchemaProps;
  /** Removes fields the schema does not declare (as the API server's pruning does); returns their paths. */
  prune(obj: Record<string, unknown>): string[];
  /** Applies `default`s, then validates (schema, then the CEL rules against `old` for transition rules); returns causes in the API server's shape. */
  defaultAndValidate(obj: Record<string, unknown>, old?: Record<string, unknown>): StatusCause[];
  /** Why the CRD itself is refused: CEL rules that do not compile. */
  readonly ruleCauses: StatusCause[];
}

const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);

let ajvInstance: Ajv | undefined;
function ajv(): Ajv {
  if (!ajvInstance) {
    ajvInstance = new Ajv({ allErrors: true, strict: false, useDefaults: true, logger: false, validateFormats: true, verbose: true });
    addFormats(ajvInstance);
    // Kubernetes accepts these format names without checking them.
    for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'password', 'binary', 'quantity', 'datetime', 'bsonobjectid', 'cidr', 'mac', 'isbn', 'creditcard', 'ssn', 'hexcolor', 'rgbcolor']) {
      ajvInstance.addFormat(f, true);
    }
  }
  return ajvInstance;
}

/** Turns Kubernetes' structural schema into plain JSON schema for ajv. */
function toAjv(s: SchemaProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-kubernetes-') || k === 'description' || k === 'example' || k === 'externalDocs') continue;
    if (k === 'properties' && v && typeof v === 'object') {
      out.properties = Object.fromEntries(Object.entries(v as Record<string, SchemaProps>).map(([pk, pv]) => [pk, toAjv(pv)]));
    } else if ((k === 'items' || k === 'additionalProperties' || k === 'not') && v && typeof v === 'object') {
      out[k] = toAjv(v as SchemaProps);
    } else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) {
      out[k] = (v as SchemaProps[]).map(toAjv);
    } else out[k] = v;
  }
  if (s['x-kubernetes-int-or-string']) {
    delete out.type;
    const alt = [{ type: 'integer' }, { type: 'string' }];
    out.allOf = [...((out.allOf as unknown[] | undefined) ?? []), { anyOf: alt }];
  }
  if (s.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  delete out.nullable;
  return out;
}

/** `/spec/items/0/name` → `spec.items[0].name`. */
export function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

function show(v: unknown): string {
  return v === undefined ? 'null' : JSON.stringify(v);
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function toCause(e: ErrorObject): StatusCause | undefined {
  const field = fieldPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const data: unknown = e.data;
  switch (e.keyword) {
    case 'required':
      return { reason: 'FieldValueRequired', message: 'Required value', field: fieldPath(e.instancePath, String(p.missingProperty)) };
    case 'enum':
      return { reason: 'FieldValueNotSupported', message: `Unsupported value: ${show(data)}: supported values: ${(p.allowedValues as unknown[]).map(show).join(', ')}`, field };
    case 'type':
      return { reason: 'FieldValueTypeInvalid', message: `Invalid value: "${jsonType(data)}": ${field} in body must be of type ${String(p.type)}: "${jsonType(data)}"`, field };
    case 'pattern':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${field} in body should match '${String(p.pattern)}'`, field };
    case 'minimum':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${field} in body should be greater than or equal to ${String(p.limit)}`, field };
    case 'maximum':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${field} in body should be less than or equal to ${String(p.limit)}`, field };
    case 'exclusiveMinimum':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${field} in body should be greater than ${String(p.limit)}`, field };
    case 'exclusiveMaximum':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${field} in body should be less than ${String(p.limit)}`, field };
    case 'minLength':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${field} in body should be at least ${String(p.limit)} chars long`, field };
    case 'maxLength':
      return { reason: 'FieldValueTooLong', message: `Too long: may not be more than ${String(p.limit)} bytes`, field };
    case 'minItems':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${(data as unknown[]).length}: ${field} in body should have at least ${String(p.limit)} items`, field };
    case 'maxItems':
      return { reason: 'FieldValueTooMany', message: `Too many: ${(data as unknown[]).length}: must have at most ${String(p.limit)} items`, field };
    case 'minProperties':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${Object.keys(data as object).length}: ${field} in body should have at least ${String(p.limit)} properties`, field };
    case 'maxProperties':
      return { reason: 'FieldValueTooMany', message: `Too many: ${Object.keys(data as object).length}: must have at most ${String(p.limit)} items`, field };
    case 'uniqueItems':
      return { reason: 'FieldValueDuplicate', message: `Duplicate value: ${show((data as unknown[])[Number(p.j)])}`, field };
    case 'format':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${field} in body must be of type ${String(p.format)}: ${show(data)}`, field };
    case 'oneOf':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${field} in body must match exactly one schema in oneOf`, field };
    case 'anyOf':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${field} in body must match at least one schema in anyOf`, field };
    case 'not':
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${field} in body must not match the schema in not`, field };
    case 'if':
    case 'allOf':
      return undefined;
    default:
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(data)}: ${e.message ?? e.keyword}`, field };
  }
}

function pruneNode(value: unknown, s: SchemaProps | undefined, path: string, out: string[]): void {
  if (!s || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (s.items) value.forEach((v, i) => { pruneNode(v, s.items, `${path}[${i}]`, out); });
    return;
  }
  const obj = value as Record<string, unknown>;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const addl = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  for (const key of Object.keys(obj)) {
    const child = `${path}${path ? '.' : ''}${key}`;
    const prop = s.properties?.[key];
    // null where the schema does not say nullable is dropped before defaulting, as the API server does
    if (obj[key] === null && (prop ?? addl)?.nullable !== true && (prop !== undefined || addl !== undefined)) {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
      delete obj[key];
      continue;
    }
    if (prop) pruneNode(obj[key], prop, child, out);
    else if (addl) pruneNode(obj[key], addl, child, out);
    else if (embedded && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    else if (!preserve && s.additionalProperties !== true) {
      out.push(child);
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
      delete obj[key];
    }
  }
}

/** Compiles one CRD version's openAPIV3Schema. */
export function compileCrdSchema(root: SchemaProps, path = 'openAPIV3Schema'): CrdSchema {
  const validate: ValidateFunction = ajv().compile({ ...toAjv(root), $async: false });
  const ruleCauses = compileRules(root, path);
  const withRules = hasRules(root);
  return {
    root,
    ruleCauses,
    prune(obj) {
      const out: string[] = [];
      const meta = obj.metadata;
      if (meta && typeof meta === 'object' && !Array.isArray(meta)) {
        for (const k of Object.keys(meta)) {
          if (!OBJECT_META_FIELDS.has(k)) {
            out.push(`metadata.${k}`);
            // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
            delete (meta as Record<string, unknown>)[k];
          }
        }
      }
      const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = obj;
      pruneNode(rest, { ...root, properties: { ...root.properties } }, '', out);
      for (const k of Object.keys(obj)) {
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
        if (!['apiVersion', 'kind', 'metadata'].includes(k) && !(k in rest)) delete obj[k];
      }
      return out;
    },
    defaultAndValidate(obj, old) {
      const { metadata, ...rest } = obj;
      const copy = { ...rest, metadata: {} };
      const schemaView = { ...copy };
      if (validate(schemaView)) {
        Object.assign(obj, schemaView, { metadata });
        return evaluateRules(root, obj, old);
      }
      Object.assign(obj, schemaView, { metadata });
      const errors = (validate.errors ?? []).filter((e) => !/\/(anyOf|oneOf)\/\d+\//.test(e.schemaPath));
      const causes: StatusCause[] = [];
      const seen = new Set<string>();
      for (const e of errors) {
        const c = toCause(e);
        if (!c) continue;
        const key = `${c.field ?? ''}|${c.message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        causes.push(c);
      }
      // the API server runs no CEL rule on an object that already failed its schema, and says so
      if (withRules) causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation', field: '<nil>' });
      return causes;
    },
  };
}
