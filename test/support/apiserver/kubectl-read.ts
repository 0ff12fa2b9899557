import { parseAllDocuments } from 'yaml';

/**
 * Reads a manifest as kubectl sends it: YAML 1.1 (`on`/`off`/`yes`/`no`/`y`/`n` are booleans, `0755` is
 * octal), timestamps left as strings, then converted to JSON (a boolean key becomes the string "true").
 * The double installs CRDs from this, so a manifest that means something else to kubectl than to a
 * YAML 1.2 reader is installed as a cluster would install it.
 */
export function readAsKubectl(text: string): unknown[] {
  return parseAllDocuments(text, {
    version: '1.1',
    customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
  })
    .map((doc) => doc.toJS({ mapAsMap: false }) as unknown)
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc) => JSON.parse(JSON.stringify(doc)) as unknown);
}
