import { afterAll, beforeAll } from 'vitest';

/**
 * Starts a value in `beforeAll` of the calling file or describe block and stops it in `afterAll`.
 * Returns a stand-in whose properties read through to the started value, so it can be a
 * module-level `const`; reading it before `beforeAll` ran throws, naming `what`.
 */
export function useSuiteFixture<T extends object>(what: string, start: () => Promise<T>, stop: (value: T) => Promise<void>): T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  });
  afterAll(async () => {
    if (value !== undefined) await stop(value);
  });
  return new Proxy({} as T, {
    get(_target, key) {
      if (value === undefined) throw new Error(`${what} is read before beforeAll started it`);
      return Reflect.get(value, key, value) as unknown;
    },
  });
}
