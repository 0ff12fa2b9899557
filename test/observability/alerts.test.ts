/**
 * The alert rules with Prometheus' own tool: `promtool check rules` and `promtool test rules`
 * (alerts.promtool.yaml: each alert fires on the series that should fire it, with its labels and
 * annotations, and stays quiet on a healthy trigger). Needs promtool: PROMTOOL=/path/to/promtool,
 * or promtool on PATH (.ci/run unpacks it from Debian's `prometheus` package).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/run-kurier.js';
import { findExecutable } from './tools.js';

const run = promisify(execFile);

const promtool = findExecutable('PROMTOOL', 'promtool');
const withPromtool = promtool === undefined ? it.skip : it;
const needs = promtool === undefined ? ' (skipped: no promtool; set PROMTOOL=/path/to/promtool)' : '';

describe('alert rules, checked by promtool', () => {
  withPromtool(`are valid Prometheus rules${needs}`, async () => {
    const { stdout } = await run(promtool ?? 'promtool', ['check', 'rules', 'chart/files/alerts/kurier-rules.yaml'], { cwd: repoRoot });
    expect(stdout).toContain('SUCCESS: 7 rules found');
  });

  withPromtool(`fire on the series that should fire them, with their labels and annotations, and only then${needs}`, async () => {
    const result = await run(promtool ?? 'promtool', ['test', 'rules', 'test/observability/alerts.promtool.yaml'], { cwd: repoRoot }).catch(
      (error: unknown) => error as { stdout: string; stderr: string },
    );
    expect(`${result.stdout}${result.stderr}`).toMatch(/SUCCESS/);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/FAILED/);
  });
});
