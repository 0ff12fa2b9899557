import { describe, expect, it } from 'vitest';
import { runKurier } from '../support/run-kurier.js';

describe('kurier command', () => {
  it('exits 2 with usage on an unknown command', async () => {
    const result = await runKurier(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });
});
