/**
 * The trigger schemas from crd.yaml, checked offline with ajv the way a strict API server would:
 * every object without `x-kubernetes-preserve-unknown-fields` is closed, so a typo is an error.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

/** One problem with a trigger, located by its field path (`spec.kafka.topic`, `spec.kafka.brokers[0]`). */
export interface Problem {
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

/** What `kurier validate` knows about one trigger kind. */
export interface KindSchema {
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** The source block's key under `spec` (`kafka`, `pulsar`, …). */
  readonly source: string;
  readonly openAPIV3Schema: SchemaNode;
  /** ajv's errors for `doc` (none when valid); the schema is compiled on first use. */
  readonly check: (doc: unknown) => readonly ErrorObject[];
}

/** Every trigger kind in a crd.yaml, by kind name. */
export interface TriggerSchemas {
  readonly kinds: ReadonlyMap<string, KindSchema>;
}

/** A node of an OpenAPI v3 schema as a CRD writes it. */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  required?: string[];
  additionalProperties?: boolean | SchemaNode;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  [keyword: string]: unknown;
}

/** A crd.yaml that cannot serve as the trigger schemas. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

const K8S_KEYWORDS = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-embedded-resource',
];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A copy of `node` in which every object is closed unless it preserves unknown fields. */
function closeObjects(node: SchemaNode): SchemaNode {
  const out: SchemaNode = { ...node };
  if (node.properties !== undefined) {
    out.properties = Object.fromEntries(Object.entries(node.properties).map(([key, child]) => [key, closeObjects(child)]));
    if (node['x-kubernetes-preserve-unknown-fields'] !== true && node.additionalProperties === undefined) {
      out.additionalProperties = false;
    }
  }
  if (node.items !== undefined) out.items = closeObjects(node.items);
  if (isRecord(node.additionalProperties)) out.additionalProperties = closeObjects(node.additionalProperties);
  if (node['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    return { ...out, anyOf: [{ type: 'integer' }, { type: 'string' }] };
  }
  return out;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  for (const keyword of K8S_KEYWORDS) ajv.addKeyword({ keyword });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d\d-\d\dT/.test(s) });
  return ajv;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new SchemaError(`${what} is missing`);
  return value;
}

function sourceOf(kind: string, singular: string, schema: SchemaNode): string {
  const spec = schema.properties?.spec;
  const fromName = singular.replace(/trigger$/, '');
  if (spec?.properties?.[fromName] !== undefined) return fromName;
  const candidate = spec?.required?.find((key) => key !== 'function');
  if (candidate === undefined) throw new SchemaError(`${kind}: cannot tell which spec field is its source block`);
  return candidate;
}

function kindFrom(crd: unknown, ajv: Ajv): KindSchema[] {
  if (!isRecord(crd) || crd.kind !== 'CustomResourceDefinition' || !isRecord(crd.spec)) return [];
  const spec = crd.spec;
  const names = isRecord(spec.names) ? spec.names : {};
  const kind = str(names.kind, 'spec.names.kind');
  const group = str(spec.group, `${kind}: spec.group`);
  const plural = str(names.plural, `${kind}: spec.names.plural`);
  const singular = typeof names.singular === 'string' ? names.singular : kind.toLowerCase();
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isRecord) : [];
  return versions
    .filter((version) => version.served === true)
    .map((version) => {
      const schema = isRecord(version.schema) ? version.schema.openAPIV3Schema : undefined;
      if (!isRecord(schema)) throw new SchemaError(`${kind}: version ${String(version.name)} has no openAPIV3Schema`);
      const openAPIV3Schema = schema as SchemaNode;
      let compiled: ValidateFunction | undefined;
      const check = (doc: unknown): readonly ErrorObject[] => {
        compiled ??= ajv.compile(closeObjects(openAPIV3Schema));
        return compiled(doc) ? [] : (compiled.errors ?? []);
      };
      return {
        kind,
        group,
        version: str(version.name, `${kind}: version name`),
        plural,
        source: sourceOf(kind, singular, openAPIV3Schema),
        openAPIV3Schema,
        check,
      };
    });
}

/** Schemas of every served trigger kind in the text of a crd.yaml. */
export function parseSchemas(text: string): TriggerSchemas {
  const ajv = newAjv();
  const kinds = new Map<string, KindSchema>();
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new SchemaError(`crd.yaml: ${document.errors.map((e) => e.message).join('; ')}`);
    for (const kind of kindFrom(document.toJS(), ajv)) kinds.set(`${kind.group}/${kind.version}/${kind.kind}`, kind);
  }
  if (kinds.size === 0) throw new SchemaError('crd.yaml defines no CustomResourceDefinition');
  return { kinds };
}

/** Schemas of every served trigger kind in the crd.yaml at `crdPath`. */
export function loadSchemas(crdPath: string): TriggerSchemas {
  return parseSchemas(readFileSync(crdPath, 'utf8'));
}

/** The schema for `apiVersion` + `kind`, if crd.yaml defines it. */
export function schemaFor(schemas: TriggerSchemas, apiVersion: string, kind: string): KindSchema | undefined {
  return schemas.kinds.get(`${apiVersion}/${kind}`);
}

/** JSON pointer `/spec/kafka/brokers/0` → `spec.kafka.brokers[0]`. */
function fieldPath(pointer: string, extra?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === '' ? part : `${path}.${part}`), '');
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

/** The known field closest to `name`, when it is close enough to be a typo. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

const ARTICLE: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  object: 'an object (a YAML mapping)',
  array: 'a list',
};

function describeType(type: unknown): string {
  const types = Array.isArray(type) ? type.map(String) : [String(type)];
  return types.map((t) => ARTICLE[t] ?? t).join(' or ');
}

function knownFields(error: ErrorObject): string[] {
  const properties = error.parentSchema?.properties as unknown;
  return isRecord(properties) ? Object.keys(properties) : [];
}

function messageOf(error: ErrorObject): { path: string; message: string } | undefined {
  const at = fieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const known = knownFields(error);
      if (known.includes(`${name}SecretRef`)) {
        return {
          path: fieldPath(error.instancePath, name),
          message: `inline secret values are not accepted: put the value in a Secret and set ${name}SecretRef: {name, key}`,
        };
      }
      const guess = closest(name, known);
      const hint = guess !== undefined ? `; did you mean "${guess}"?` : known.length > 0 ? `; known fields: ${known.join(', ')}` : '';
      return { path: fieldPath(error.instancePath, name), message: `unknown field "${name}"${hint}` };
    }
    case 'required':
      return { path: fieldPath(error.instancePath, String(params.missingProperty)), message: 'required field is missing' };
    case 'type':
      return { path: at, message: `must be ${describeType(params.type)}` };
    case 'enum':
      return { path: at, message: `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')} (got ${JSON.stringify(error.data)})` };
    case 'minLength':
      return { path: at, message: params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long` };
    case 'maxLength':
      return { path: at, message: `must be at most ${String(params.limit)} characters long` };
    case 'minItems':
      return { path: at, message: params.limit === 1 ? 'must not be empty' : `must have at least ${String(params.limit)} items` };
    case 'maxItems':
      return { path: at, message: `must have at most ${String(params.limit)} items` };
    case 'minimum':
    case 'maximum':
      return { path: at, message: `must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)} (got ${JSON.stringify(error.data)})` };
    case 'pattern':
      return { path: at, message: `${JSON.stringify(error.data)} does not match the pattern ${String(params.pattern)}` };
    case 'format':
      return { path: at, message: `must be ${String(params.format)} (got ${JSON.stringify(error.data)})` };
    case 'anyOf':
      return undefined; // its branches (integer or string) already reported a type error
    default:
      return { path: at, message: error.message ?? error.keyword };
  }
}

/** A problem that came from the schema, with the JSON-schema keyword that produced it. */
export interface SchemaProblem extends Problem {
  readonly keyword: string;
}

/** Every schema problem of `doc` against `kind`'s schema; objects are closed, so unknown fields are errors. */
export function checkSchema(kind: KindSchema, doc: unknown): SchemaProblem[] {
  const errors = kind.check(doc);
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  const intOrString = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const error of errors) {
    if (error.keyword === 'type' && intOrString.has(error.instancePath)) {
      if (seen.has(`int-or-string ${error.instancePath}`)) continue;
      seen.add(`int-or-string ${error.instancePath}`);
      problems.push({ path: fieldPath(error.instancePath), message: 'must be a string or an integer', severity: 'error', keyword: 'type' });
      continue;
    }
    const found = messageOf(error);
    if (found === undefined) continue;
    const key = `${found.path} ${found.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ ...found, severity: 'error', keyword: error.keyword });
  }
  return problems;
}
