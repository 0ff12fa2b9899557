import { describe, expect, it } from 'vitest';
import { parseExposition } from './exposition.js';
import { checkQuery, queryUses, substituteGrafanaVariables } from './promql.js';

const scrape = parseExposition(`# HELP kurier_dispatcher_deliveries_total Messages.
# TYPE kurier_dispatcher_deliveries_total counter
kurier_dispatcher_deliveries_total{outcome="delivered",kind="NATSTrigger",trigger_namespace="shop",trigger="orders"} 5
kurier_dispatcher_deliveries_total{outcome="dead_lettered",kind="NATSTrigger",trigger_namespace="shop",trigger="orders"} 1
kurier_dispatcher_delivery_duration_seconds_bucket{le="0.5",kind="NATSTrigger",trigger_namespace="shop",trigger="orders"} 3
kurier_dispatcher_delivery_duration_seconds_bucket{le="+Inf",kind="NATSTrigger",trigger_namespace="shop",trigger="orders"} 3
kurier_dispatcher_delivery_duration_seconds_count{kind="NATSTrigger",trigger_namespace="shop",trigger="orders"} 3
kurier_controller_leader 1
odd_value{path="a \\"quoted\\" \\\\ value"} 1 1700000000000
`);

describe('PromQL query check', () => {
  it('reads selectors, matchers and groupings with the Prometheus grammar', () => {
    const uses = queryUses('sum by (trigger, le) (rate(a_bucket{x="1", y=~"b.*"}[5m])) / on (trigger) group_left (z) b');
    expect(uses.selectors).toEqual([
      { metric: 'a_bucket', matchers: [{ label: 'x', op: '=', value: '1' }, { label: 'y', op: '=~', value: 'b.*' }] },
      { metric: 'b', matchers: [] },
    ]);
    expect(uses.groupings).toEqual([
      { clause: 'by (trigger, le)', labels: ['trigger', 'le'], metrics: ['a_bucket'] },
      { clause: 'on (trigger) group_left (z)', labels: ['trigger', 'z'], metrics: ['a_bucket', 'b'] },
    ]);
  });

  it('refuses an expression that does not parse, pointing at the spot', () => {
    expect(() => queryUses('sum(rate(a[5m])')).toThrow(/syntax error at 15/);
    expect(() => queryUses('a{b="c"')).toThrow(/syntax error/);
  });

  it('replaces Grafana variables so dashboard queries parse', () => {
    expect(substituteGrafanaVariables('rate(a{t=~"$trigger", n=~"${namespace}"}[$__rate_interval])')).toBe('rate(a{t=~".*", n=~".*"}[5m])');
  });

  it('accepts a query whose metrics, labels and values are all exported', () => {
    expect(
      checkQuery(
        'histogram_quantile(0.99, sum by (kind, trigger_namespace, trigger, le) (rate(kurier_dispatcher_delivery_duration_seconds_bucket{trigger=~"$trigger"}[$__rate_interval])))',
        scrape,
      ),
    ).toEqual([]);
    expect(checkQuery('sum by (instance) (kurier_dispatcher_deliveries_total{outcome="dead_lettered"})', scrape)).toEqual([]);
  });

  it('names a metric nobody exports, a missing label, an unseen value and an unmatched regex', () => {
    expect(checkQuery('kurier_dispatcher_delivered_total', scrape)).toEqual(['kurier_dispatcher_delivered_total: not exported']);
    expect(checkQuery('kurier_dispatcher_deliveries_total{namespace="shop"}', scrape)).toEqual(['kurier_dispatcher_deliveries_total: no label namespace']);
    expect(checkQuery('kurier_dispatcher_deliveries_total{outcome="deadlettered"}', scrape)).toEqual([
      'kurier_dispatcher_deliveries_total{outcome="deadlettered"}: never exported (seen: delivered, dead_lettered)',
    ]);
    expect(checkQuery('kurier_dispatcher_deliveries_total{outcome=~"drop.*"}', scrape)).toEqual([
      'kurier_dispatcher_deliveries_total{outcome=~"drop.*"}: matches no exported value',
    ]);
  });

  it('names a grouping label that a grouped metric lacks, and a legend label on no metric', () => {
    expect(checkQuery('sum by (trigger) (kurier_controller_leader)', scrape)).toEqual(['by (trigger): kurier_controller_leader has no label trigger']);
    expect(checkQuery('kurier_controller_leader', scrape, ['pod'])).toEqual(['label pod (legend/annotation): on none of kurier_controller_leader']);
  });

  it('reads escaped label values and timestamps in the exposition format, and refuses a line it cannot read', () => {
    expect([...(scrape.get('odd_value')?.get('path') ?? [])]).toEqual(['a "quoted" \\ value']);
    expect(() => parseExposition('metric{a="1" 2')).toThrow(/unreadable/);
  });
});
