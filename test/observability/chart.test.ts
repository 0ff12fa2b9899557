/**
 * The chart's observability objects, checked without helm (not on these machines): every
 * `.Values.metrics.*` a template reads is declared in values.yaml, every file it embeds exists and
 * parses, and all of it is off by default.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/run-kurier.js';

const TEMPLATES = ['dashboard-configmap.yaml', 'prometheusrule.yaml', 'podmonitor.yaml', 'servicemonitor.yaml'];

function lookup(values: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' && key in node ? (node as Record<string, unknown>)[key] : undefined), values);
}

describe('chart observability objects', () => {
  it('read only values that values.yaml declares, and are all off by default', async () => {
    const values = parse(await readFile(`${repoRoot}chart/values.yaml`, 'utf8')) as Record<string, unknown>;
    const missing: string[] = [];
    for (const template of TEMPLATES) {
      const text = await readFile(`${repoRoot}chart/templates/${template}`, 'utf8');
      const references = [...text.matchAll(/\.Values\.([a-zA-Z0-9_.]+)/g)].map((m) => m[1] ?? '');
      expect(references.length, template).toBeGreaterThan(0);
      for (const reference of references) if (lookup(values, reference.split('.')) === undefined) missing.push(`${template}: .Values.${reference}`);
      const guard = /^\{\{- if \.Values\.(metrics\.[a-zA-Z]+\.enabled) \}\}$/m.exec(text)?.[1];
      expect(guard, `${template} is wrapped in an enabled flag`).toBeDefined();
      expect(lookup(values, (guard ?? '').split('.')), `${template}: ${guard ?? ''} defaults to false`).toBe(false);
    }
    expect(missing).toEqual([]);
  });

  it('embed files that exist and parse: the dashboard JSON and the rule file', async () => {
    for (const template of TEMPLATES) {
      const text = await readFile(`${repoRoot}chart/templates/${template}`, 'utf8');
      for (const [, file] of text.matchAll(/\.Files\.Get "([^"]+)"/g)) {
        const content = await readFile(`${repoRoot}chart/${file ?? ''}`, 'utf8');
        if (file?.endsWith('.json') === true) expect(() => JSON.parse(content) as unknown, file).not.toThrow();
        else expect((parse(content) as { groups?: unknown[] }).groups?.length, file).toBeGreaterThan(0);
      }
    }
  });

  it('labels the dashboard ConfigMap for the Grafana sidecar with grafana_dashboard: "1" by default', async () => {
    const values = parse(await readFile(`${repoRoot}chart/values.yaml`, 'utf8')) as { metrics: { dashboard: { label: string; labelValue: string } } };
    expect(values.metrics.dashboard).toMatchObject({ label: 'grafana_dashboard', labelValue: '1' });
    const text = await readFile(`${repoRoot}chart/templates/dashboard-configmap.yaml`, 'utf8');
    expect(text).toContain('{{ .Values.metrics.dashboard.label }}: {{ .Values.metrics.dashboard.labelValue | quote }}');
  });
});
