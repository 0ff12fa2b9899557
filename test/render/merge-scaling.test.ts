/**
 * Render time grows linearly with the size of an override: four times the keyed-list entries must
 * take about four times as long, far from the 16× of the old find-per-item merge (10k env entries
 * 0.5 s, 40k 12.8 s; 16.5× for 10k → 40k when this test ran against it). Ratios of the fastest of
 * several runs measured in the same process, never absolute times, so a loaded machine does not
 * decide the result. Sizes are well past 20k entries: around and below that V8 may keep the
 * objects in its young generation and the cost per entry drops several-fold, a step that is not the
 * algorithm's (the merge alone is fast enough to show it, so it is measured at 40k and 160k).
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

setFlagsFromString('--expose-gc');
/** A full collection, so that no run pays for the garbage of the one before it. */
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * The fastest of several runs of each size, the sizes taking turns so that a burst of load from
 * elsewhere on the machine slows both alike.
 */
function fastestOfEach(small: () => void, large: () => void, rounds = 5): [number, number] {
  const best = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  for (let round = 0; round < rounds; round++) {
    [small, large].forEach((run, index) => {
      collectGarbage();
      const start = performance.now();
      run();
      best[index] = Math.min(best[index]!, performance.now() - start);
    });
  }
  return [best[0]!, best[1]!];
}

const SMALL = 20_000;
const LARGE = 80_000;
const MERGE_SMALL = 40_000;
const MERGE_LARGE = 160_000;
/** Linear work gives 4; quadratic gives 16. Room for noise, well below quadratic. */
const MAX_GROWTH = 10;

describe('merge and render scale linearly', () => {
  it(`merges a keyed list of ${MERGE_LARGE} entries over ${MERGE_LARGE} at most ${MAX_GROWTH}× slower than ${MERGE_SMALL} over ${MERGE_SMALL}`, () => {
    const merge = (n: number): (() => void) => {
      const base = withEnv(env(n, 'base'));
      const override = withEnv(env(n, 'override').reverse());
      return () => strategicMerge(base, override);
    };
    merge(1000)(); // warm up the JIT
    const [small, large] = fastestOfEach(merge(MERGE_SMALL), merge(MERGE_LARGE));
    console.log(`merge: ${MERGE_SMALL} entries ${small.toFixed(1)} ms, ${MERGE_LARGE} entries ${large.toFixed(1)} ms, growth ${(large / small).toFixed(2)}× (linear 4×)`);
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
    const renderOf = (n: number): (() => void) => {
      const input = trigger(n);
      return () => render(input, relaxed);
    };
    renderOf(1000)();
    const [small, large] = fastestOfEach(renderOf(SMALL), renderOf(LARGE));
    console.log(`render: ${SMALL} entries ${small.toFixed(1)} ms, ${LARGE} entries ${large.toFixed(1)} ms, growth ${(large / small).toFixed(2)}× (linear 4×)`);
    expect(large / small).toBeLessThan(MAX_GROWTH);
  }, 120_000);

  it('refuses an override over the admin size limit, naming the setting', () => {
    const trigger: Trigger = {
      apiVersion: 'kurier.dev/v1alpha1',
      kind: 'NATSTrigger',
      metadata: { name: 'big', namespace: 'shop' },
      spec: { nats: { url: 'nats://n:4222', subject: 's' }, function: { url: 'http://fn:8080/' }, deployment: withEnv(env(100_000, 'x')) },
    };
    expect(() => render(trigger, templates)).toThrow(/^spec\.deployment: is \d+ bytes as JSON; the limit is 262144 \(policy maxOverrideBytes\)$/);
  });
});
