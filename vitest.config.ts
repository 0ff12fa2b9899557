import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests share real brokers; files run in parallel but each uses unique names.
    pool: 'forks',
    maxWorkers: 2,
  },
});
