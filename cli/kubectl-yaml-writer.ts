/**
 * Writes YAML that kubectl reads back as exactly the value written. kubectl reads YAML 1.1
 * (cli/kubectl-yaml.ts), where plain `on`, `yes`, `y`, `0755` and `0b101` are not strings, and other
 * readers take `1:30` (base 60) and dates for numbers and timestamps, while YAML 1.2 readers take
 * `0o17` and `1e3` for numbers. A string is written plain only when every one of those readings is
 * the string itself; otherwise it is double-quoted.
 */
import { Document, isMap, isPair, isScalar, parse as parseYaml12, Scalar, visit, type Node } from 'yaml';

/** A comment written on the lines above a field. */
export interface FieldComment {
  /** The field's path from the document root, e.g. `['spec', 'kafka', 'brokers']`. */
  readonly path: readonly string[];
  /** One or more lines, without the leading `#`. */
  readonly text: string;
}

// `=` is YAML 1.1's "value" type and `<<` its merge key: some readers give them meaning.
const SPECIAL = new Set(['=', '<<']);

function readsAsItself(text: string): boolean {
  if (SPECIAL.has(text)) return false;
  try {
    return parseYaml12(text, { logLevel: 'silent' }) === text;
  } catch {
    return false;
  }
}

/** Forces double quotes on every string YAML 1.2 would read as something else (YAML 1.1 the writer checks itself). */
function quoteAmbiguous(document: Document): void {
  visit(document, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || readsAsItself(node.value) || node.value.includes('\n')) return;
      node.type = Scalar.QUOTE_DOUBLE;
      // The YAML 1.1 schema writes the string `<<` as its merge key, quoted or not, unless tagged a string.
      if (node.value === '<<') node.tag = 'tag:yaml.org,2002:str';
    },
  });
}

function attachComment(document: Document, comment: FieldComment): void {
  const parentPath = comment.path.slice(0, -1);
  const key = comment.path.at(-1);
  const parent: unknown = parentPath.length === 0 ? document.contents : document.getIn(parentPath, true);
  if (!isMap(parent) || key === undefined) throw new Error(`no field ${comment.path.join('.')} to comment on`);
  const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
  if (pair === undefined || !isScalar(pair.key)) throw new Error(`no field ${comment.path.join('.')} to comment on`);
  const lines = comment.text.split('\n').map((line) => ` ${line}`).join('\n');
  const node = pair.key as Node;
  node.commentBefore = node.commentBefore === undefined ? lines : `${node.commentBefore}\n${lines}`;
}

/**
 * One YAML document (no `---`, ending in a newline) that kubectl, YAML 1.1 and YAML 1.2 readers all
 * read as `value`; `header` becomes comment lines above it and each of `comments` comment lines
 * above its field.
 */
export function stringifyForKubectl(value: unknown, options: { header?: string; comments?: readonly FieldComment[] } = {}): string {
  // The YAML 1.1 schema (with base-60 numbers and timestamps) quotes every string any 1.1 reader would not take as one.
  const document = new Document(value, { version: '1.1' });
  quoteAmbiguous(document);
  for (const comment of options.comments ?? []) attachComment(document, comment);
  if (options.header !== undefined) document.commentBefore = options.header.split('\n').map((line) => ` ${line}`).join('\n');
  return document.toString({ lineWidth: 0 });
}
