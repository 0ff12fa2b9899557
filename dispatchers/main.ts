import { notYet } from '../cli/stub.js';

/** `kurier dispatch`: exit code 0 ok, 1 failure, 2 usage. */
export function runDispatch(_args: readonly string[]): Promise<number> {
  return Promise.resolve(notYet('dispatch'));
}
