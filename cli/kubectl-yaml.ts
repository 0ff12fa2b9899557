/**
 * Reads manifests the way kubectl does. kubectl (sigs.k8s.io/yaml on go-yaml v2) resolves plain
 * scalars by YAML 1.1: `on/off/yes/no/y/n` (any case form) are booleans, `0755` is octal 493,
 * `0b101` binary, `1_000` a thousand; unlike other YAML 1.1 readers it keeps `1:30` and dates as
 * strings. Reading the same way makes `kurier validate`, `render` and `run` see what the cluster
 * will see, and every scalar that YAML 1.2 would read differently is reported with its quoted form.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parse as parseYaml12, parseAllDocuments, Scalar, type Node, type ParseOptions, type DocumentOptions, type SchemaOptions } from 'yaml';

/** A plain scalar whose meaning depends on the YAML version that reads it. */
export interface AmbiguousScalar {
  /** Field path in the form problems use (`spec.delivery.retry.on`, `spec.kafka.topics[0]`). */
  readonly path: string;
  readonly line: number;
  readonly column: number;
  /** The scalar as written. */
  readonly source: string;
  /** What kubectl reads (YAML 1.1 as go-yaml v2 resolves it). */
  readonly kubectl: unknown;
  /** True when the scalar is a mapping key. */
  readonly key: boolean;
}

/** A YAML syntax error at a position (1-based line and column). */
export interface YamlSyntaxError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** One document of a YAML stream, read as kubectl reads it. */
export interface KubectlDocument {
  /** Position of the document in its stream, from 0. */
  readonly index: number;
  /** undefined when the document is empty or has a syntax error. */
  readonly value: unknown;
  readonly errors: readonly YamlSyntaxError[];
  readonly ambiguous: readonly AmbiguousScalar[];
}

// go-yaml v2 has neither sexagesimal numbers (`1:30`) nor implicit timestamps; YAML 1.1 has both.
const kubectlOptions: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  customTags: (tags) => tags.filter((tag) => typeof tag === 'string' || (tag.format !== 'TIME' && tag.tag !== 'tag:yaml.org,2002:timestamp')),
};

// `1:30` is 90 to PyYAML, Ruby and other YAML 1.1 readers, a string to kubectl and to YAML 1.2.
const SEXAGESIMAL = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(\.[0-9_]*)?$/;

function yaml12(source: string): unknown {
  try {
    return parseYaml12(source) as unknown;
  } catch {
    return source;
  }
}

function differs(kubectl: unknown, source: string): boolean {
  if (SEXAGESIMAL.test(source)) return true;
  const other = yaml12(source);
  return !(Object.is(kubectl, other) || (typeof kubectl === 'number' && typeof other === 'number' && kubectl === other));
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

/** Every ambiguous plain scalar under `node`, keys included, with its field path. */
function ambiguousScalars(node: Node | null | undefined, path: string, lines: LineCounter, out: AmbiguousScalar[], asKey = false): void {
  if (node === null || node === undefined) return;
  if (isScalar(node)) {
    const source = node.source;
    if (node.type !== Scalar.PLAIN || typeof source !== 'string' || node.tag !== undefined) return;
    if (!differs(node.value, source)) return;
    const { line, col } = lines.linePos(node.range?.[0] ?? 0);
    out.push({ path, line, column: col, source, kubectl: node.value, key: asKey });
    return;
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const name = keyText(pair.key);
      const child = path === '' ? name : `${path}.${name}`;
      if (isScalar(pair.key)) ambiguousScalars(pair.key, child, lines, out, true);
      ambiguousScalars(pair.value as Node | null, child, lines, out);
    }
    return;
  }
  if (isSeq(node)) {
    node.items.forEach((item, index) => { ambiguousScalars(item as Node | null, `${path}[${index}]`, lines, out); });
  }
}

/** The first line of a yaml error without its "at line L, column C:" suffix and source excerpt. */
function describeError(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

/** Parses a YAML stream as kubectl does; an empty or comment-only stream gives no documents. */
export function parseKubectlYaml(text: string): KubectlDocument[] {
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { ...kubectlOptions, lineCounter: lines });
  const list = Array.isArray(documents) ? documents : [];
  return list.map((document, index): KubectlDocument => {
    if (document.errors.length > 0) {
      const errors = document.errors.map((error) => {
        const [at] = error.linePos ?? [];
        return { line: at?.line ?? 1, column: at?.col ?? 1, message: describeError(error.message) };
      });
      return { index, value: undefined, errors, ambiguous: [] };
    }
    const ambiguous: AmbiguousScalar[] = [];
    ambiguousScalars(document.contents, '', lines, ambiguous);
    try {
      const value: unknown = document.toJS();
      return { index, value: value ?? undefined, errors: [], ambiguous };
    } catch (err) {
      // yaml refuses alias expansion past its limit (an "alias bomb") with a ReferenceError.
      const { line, col } = lines.linePos(document.contents?.range[0] ?? 0);
      return { index, value: undefined, errors: [{ line, column: col, message: `cannot be read: ${(err as Error).message}` }], ambiguous: [] };
    }
  });
}

/** The value `source` stands for, in words: `the boolean true`, `the number 493`. */
function meaning(value: unknown): string {
  if (typeof value === 'boolean') return `the boolean ${String(value)}`;
  if (typeof value === 'number') return `the number ${String(value)}`;
  if (value === null) return 'null';
  return `the string ${JSON.stringify(value)}`;
}

/**
 * Fields renamed because their old name is a boolean to YAML 1.1 (kubectl): a user who writes the
 * old key unquoted is told the new name.
 */
const RENAMED: Readonly<Record<string, string>> = { 'spec.delivery.retry.on': 'when' };

/** One sentence about an ambiguous scalar: what kubectl reads, what YAML 1.2 reads, the quoted form. */
export function explainAmbiguity(scalar: AmbiguousScalar): string {
  const quoted = JSON.stringify(scalar.source);
  if (scalar.key) {
    const parent = scalar.path.includes('.') ? scalar.path.slice(0, scalar.path.lastIndexOf('.') + 1) : '';
    const renamed = RENAMED[`${parent}${scalar.source}`];
    const hint = renamed !== undefined ? `; the field is named ${renamed}` : `; write ${quoted}: if you mean the field ${scalar.source}`;
    return `key ${scalar.source}: kubectl (YAML 1.1) reads it as ${meaning(scalar.kubectl)}, so the field is ${JSON.stringify(String(scalar.kubectl))}, not ${quoted}${hint}`;
  }
  if (SEXAGESIMAL.test(scalar.source)) {
    return `value ${scalar.source}: a string to kubectl, but a number (base 60) to other YAML 1.1 readers; write ${quoted} to say it is a string`;
  }
  return `value ${scalar.source}: kubectl (YAML 1.1) reads it as ${meaning(scalar.kubectl)}, YAML 1.2 as ${meaning(yaml12(scalar.source))}; write ${quoted} if you mean the string`;
}
