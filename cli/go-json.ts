/**
 * JSON text as Go's `encoding/json` `Marshal` writes a decoded `interface{}`: object keys sorted
 * byte-wise, `<`, `>`, `&`, U+2028 and U+2029 escaped. kubeless' cronjob-trigger sent its payload
 * this way, so the converted CronTrigger posts the same bytes.
 */

const GO_ESCAPES: Readonly<Record<string, string>> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

// Built by hand: a JS object lists integer-like keys ("9", "10") first, whatever order they were added in.
function marshal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(marshal).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => byteOrder(a, b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${marshal(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `value` (a YAML/JSON value) as Go's json.Marshal text. */
export function goJsonMarshal(value: unknown): string {
  return marshal(value).replace(/[<>&\u2028\u2029]/g, (char) => GO_ESCAPES[char] ?? char);
}
