import { notYet } from '../cli/stub.js';

/** `kurier controller`: exit code 0 ok, 1 failure, 2 usage. */
export function runController(_args: readonly string[]): Promise<number> {
  return Promise.resolve(notYet('controller'));
}
