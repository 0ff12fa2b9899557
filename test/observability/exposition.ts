/**
 * What a /metrics page exports, for checking queries against it: every sample name (histograms
 * as their `_bucket`/`_sum`/`_count` series) with the labels it carries and the values seen.
 */
export type ExportedLabels = ReadonlyMap<string, ReadonlySet<string>>;
export type Exported = ReadonlyMap<string, ExportedLabels>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+(?:\s+\S+)?$/;
const LABEL_PAIR = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses the Prometheus text format; throws on a line it cannot read, so nothing is skipped silently. */
export function parseExposition(text: string): Exported {
  const series = new Map<string, Map<string, Set<string>>>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = SAMPLE.exec(line);
    if (sample === null) throw new Error(`unreadable /metrics line: ${line}`);
    const name = sample[1] ?? '';
    const labels = series.get(name) ?? new Map<string, Set<string>>();
    series.set(name, labels);
    const body = sample[2] ?? '';
    LABEL_PAIR.lastIndex = 0;
    while (LABEL_PAIR.lastIndex < body.length) {
      const start = LABEL_PAIR.lastIndex;
      const pair = LABEL_PAIR.exec(body);
      if (pair === null) throw new Error(`unreadable labels at ${String(start)} in: ${line}`);
      const values = labels.get(pair[1] ?? '') ?? new Set<string>();
      values.add(unescape(pair[2] ?? ''));
      labels.set(pair[1] ?? '', values);
    }
  }
  return series;
}

/** Merges several scrapes (a dispatcher's and a controller's) into one view. */
export function mergeExposition(...scrapes: Exported[]): Exported {
  const merged = new Map<string, Map<string, Set<string>>>();
  for (const scrape of scrapes) {
    for (const [name, labels] of scrape) {
      const into = merged.get(name) ?? new Map<string, Set<string>>();
      merged.set(name, into);
      for (const [label, values] of labels) into.set(label, new Set([...(into.get(label) ?? []), ...values]));
    }
  }
  return merged;
}
