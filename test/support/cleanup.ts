import { afterEach } from 'vitest';
import { DispatcherProcess } from './dispatcher-process.js';

/** Steps that undo what one test set up. */
export interface Cleanup {
  /** Runs `step` after the current test, before the steps pushed earlier (last in, first out). */
  push(step: () => Promise<unknown>): void;
  /** Starts `kurier dispatch <source>` with `env` and stops it after the current test. */
  dispatcher(source: string, env: Record<string, string>): Promise<DispatcherProcess>;
}

/** Registers an `afterEach` in the calling scope that runs the pushed steps, last first. */
export function useCleanup(): Cleanup {
  const steps: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of steps.splice(0).reverse()) await step();
  });
  return {
    push: (step) => {
      steps.push(step);
    },
    dispatcher: async (source, env) => {
      const dispatcher = await DispatcherProcess.start(source, env);
      steps.push(() => dispatcher.stop());
      return dispatcher;
    },
  };
}
