import { notYet } from './stub.js';

/** `kurier render`: exit code 0 ok, 1 failure, 2 usage. */
export function runRender(_args: readonly string[]): Promise<number> {
  return Promise.resolve(notYet('render'));
}
