/**
 * Reads the metric selectors and label uses out of a PromQL expression with Prometheus' own
 * grammar (@prometheus-io/lezer-promql), and checks them against what /metrics exported.
 */
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import type { Exported } from './exposition.js';

export interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

export interface Selector {
  readonly metric: string;
  readonly matchers: readonly Matcher[];
}

/** Labels an aggregation groups by (or a binary operation matches on) and the metrics they must be on. */
export interface Grouping {
  readonly clause: string;
  readonly labels: readonly string[];
  readonly metrics: readonly string[];
}

export interface QueryUses {
  readonly selectors: readonly Selector[];
  readonly groupings: readonly Grouping[];
}

/** Labels Prometheus attaches to every scraped series itself; they are never in /metrics. */
export const TARGET_LABELS: ReadonlySet<string> = new Set(['instance', 'job']);

/** Grafana's variables replaced by a value of the right type, so the query parses as PromQL. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__(rate_interval|interval|range)\b/g, '5m')
    .replace(/\$\{?[a-zA-Z_]+\}?/g, '.*');
}

function text(source: string, node: SyntaxNode): string {
  return source.slice(node.from, node.to);
}

function stringLiteral(literal: string): string {
  // PromQL strings are Go strings: double or single quoted with escapes, or raw in backticks.
  if (literal.startsWith('`')) return literal.slice(1, -1);
  return literal.slice(1, -1).replace(/\\(.)/g, '$1');
}

function descendants(node: SyntaxNode, name: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  const cursor = node.cursor();
  do {
    if (cursor.name === name) found.push(cursor.node);
  } while (cursor.next() && cursor.from < node.to);
  return found.filter((n) => n.from >= node.from && n.to <= node.to);
}

function selectorOf(source: string, node: SyntaxNode): Selector {
  const identifier = node.getChild('Identifier');
  if (identifier === null) throw new Error(`a selector without a metric name: ${text(source, node)}`);
  if (node.getChild('LabelMatchers')?.getChildren('QuotedLabelMatcher').length) {
    throw new Error(`quoted label names are not checked: ${text(source, node)}`);
  }
  const matchers = (node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []).map((m): Matcher => {
    const label = m.getChild('LabelName');
    const op = m.getChild('MatchOp');
    const value = m.getChild('StringLiteral');
    if (label === null || op === null || value === null) throw new Error(`unreadable matcher: ${text(source, m)}`);
    return { label: text(source, label), op: text(source, op) as Matcher['op'], value: stringLiteral(text(source, value)) };
  });
  return { metric: text(source, identifier), matchers };
}

/** Every selector and grouping in `expr`; throws naming the position of a syntax error. */
export function queryUses(expr: string): QueryUses {
  const tree = parser.parse(expr);
  let error: number | undefined;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError && error === undefined) error = node.from;
    },
  });
  if (error !== undefined) throw new Error(`PromQL syntax error at ${String(error)}: ${expr.slice(0, error)} ⚠ ${expr.slice(error)}`);
  const top = tree.topNode;
  const selectors = descendants(top, 'VectorSelector').map((node) => selectorOf(expr, node));
  const groupings: Grouping[] = [];
  for (const aggregate of descendants(top, 'AggregateExpr')) {
    const modifier = aggregate.getChild('AggregateModifier');
    if (modifier === null) continue;
    const labels = (modifier.getChild('GroupingLabels')?.getChildren('LabelName') ?? []).map((n) => text(expr, n));
    const body = aggregate.getChild('FunctionCallBody');
    const metrics = body === null ? [] : descendants(body, 'VectorSelector').map((n) => selectorOf(expr, n).metric);
    groupings.push({ clause: text(expr, modifier), labels, metrics });
  }
  for (const clause of descendants(top, 'MatchingModifierClause')) {
    const binary = clause.parent;
    if (binary === null) continue;
    const labels = clause.getChildren('GroupingLabels').flatMap((g) => g.getChildren('LabelName').map((n) => text(expr, n)));
    const metrics = descendants(binary, 'VectorSelector').map((n) => selectorOf(expr, n).metric);
    groupings.push({ clause: text(expr, clause), labels, metrics });
  }
  return { selectors, groupings };
}

function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/**
 * Problems of `expr` against `exported`, one line each: a metric nobody exports, a label a metric
 * does not carry, an `=` value never seen, a regex that matches no value, a grouping label missing
 * from a metric it groups. Also the extra labels a legend or annotation uses (`alsoLabels`).
 */
export function checkQuery(expr: string, exported: Exported, alsoLabels: readonly string[] = []): string[] {
  const uses = queryUses(substituteGrafanaVariables(expr));
  const problems: string[] = [];
  for (const { metric, matchers } of uses.selectors) {
    const labels = exported.get(metric);
    if (labels === undefined) {
      problems.push(`${metric}: not exported`);
      continue;
    }
    for (const { label, op, value } of matchers) {
      const values = labels.get(label);
      if (values === undefined) {
        if (!TARGET_LABELS.has(label)) problems.push(`${metric}: no label ${label}`);
        continue;
      }
      if (op === '=' && !values.has(value)) problems.push(`${metric}{${label}="${value}"}: never exported (seen: ${[...values].join(', ')})`);
      if (op === '=~' && ![...values].some((v) => anchored(value).test(v))) problems.push(`${metric}{${label}=~"${value}"}: matches no exported value`);
    }
  }
  for (const { clause, labels, metrics } of uses.groupings) {
    for (const label of labels) {
      if (TARGET_LABELS.has(label)) continue;
      for (const metric of metrics) {
        if (exported.get(metric)?.has(label) !== true) problems.push(`${clause}: ${metric} has no label ${label}`);
      }
    }
  }
  const everyMetric = uses.selectors.map((s) => s.metric);
  for (const label of alsoLabels) {
    if (TARGET_LABELS.has(label)) continue;
    if (!everyMetric.some((metric) => exported.get(metric)?.has(label) === true)) problems.push(`label ${label} (legend/annotation): on none of ${everyMetric.join(', ')}`);
  }
  return problems;
}
