/**
 * Render time grows linearly with the size of an override: quadrupling the keyed-list entries must
 * not take much more than four times as long (the old find-per-item merge took ~16×: 10k env
 * entries 0.5 s, 40k 12.8 s). Ratios of the fastest of several runs measured in the same process,
 * never absolute times, so a loaded machine does not decide the result.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { strategicMerge } from '../../render/merge.js';
import { render } from '../../render/render.js';
import { loadTemplates, type Templates } from '../../render/templates.js';
import type { JsonObject, Trigger } from '../../render/trigger.js';
import { repoRoot } from '../support/run-kurier.js';

let templates: Templates;
beforeAll(async () => {
  templates = await loadTemplates(join(repoRoot, 'templates'));
});

const env = (n: number, value: string): JsonObject[] => Array.from({ length: n }, (_, i) => ({ name: `VAR_${i}`, value }));
const withEnv = (entries: JsonObject[]): JsonObject => ({ spec: { template: { spec: { containers: [{ name: 'dispatcher', env: entries }] } } } });

function fastest(run: () => void, times = 3): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

const SMALL = 10_000;
const LARGE = 40_000;
/** Linear work gives 4; the quadratic merge gave 16. Generous for noise, far below quadratic. */
const MAX_GROWTH = 8;

describe('merge and render scale linearly', () => {
  it(`merges a keyed list of ${LARGE} entries over ${LARGE} at most ${MAX_GROWTH}× slower than ${SMALL} over ${SMALL}`, () => {
    const time = (n: number): number => {
      const base = withEnv(env(n, 'base'));
      const override = withEnv(env(n, 'override').reverse());
      return fastest(() => strategicMerge(base, override));
    };
    time(1000); // warm up the JIT
    const small = time(SMALL);
    const large = time(LARGE);
    console.log(`merge: ${SMALL} entries ${small.toFixed(1)} ms, ${LARGE} entries ${large.toFixed(1)} ms, growth ${(large / small).toFixed(2)}× (linear 4×)`);
    expect(large / small).toBeLessThan(MAX_GROWTH);
  }, 120_000);

  it(`renders a trigger with ${LARGE} override env entries at most ${MAX_GROWTH}× slower than one with ${SMALL}`, () => {
    const relaxed: Templates = { ...templates, policy: { ...templates.policy, maxOverrideBytes: 64 * 1024 * 1024 } };
    const trigger = (n: number): Trigger => ({
      apiVersion: 'kurier.dev/v1alpha1',
      kind: 'NATSTrigger',
      metadata: { name: 'big', namespace: 'shop' },
      spec: { nats: { url: 'nats://n:4222', subject: 's' }, function: { url: 'http://fn:8080/' }, deployment: withEnv(env(n, 'x')) },
    });
    const time = (n: number): number => {
      const input = trigger(n);
      return fastest(() => render(input, relaxed));
    };
    time(1000);
    const small = time(SMALL);
    const large = time(LARGE);
    console.log(`render: ${SMALL} entries ${small.toFixed(1)} ms, ${LARGE} entries ${large.toFixed(1)} ms, growth ${(large / small).toFixed(2)}× (linear 4×)`);
    expect(large / small).toBeLessThan(MAX_GROWTH);
  }, 120_000);

  it('refuses an override over the admin size limit, naming the setting', () => {
    const trigger: Trigger = {
      apiVersion: 'kurier.dev/v1alpha1',
      kind: 'NATSTrigger',
      metadata: { name: 'big', namespace: 'shop' },
      spec: { nats: { url: 'nats://n:4222', subject: 's' }, function: { url: 'http://fn:8080/' }, deployment: withEnv(env(80_000, 'x')) },
    };
    expect(() => render(trigger, templates)).toThrow(/^spec\.deployment: is \d+ bytes as JSON; the limit is 262144 \(policy maxOverrideBytes\)$/);
  });
});
