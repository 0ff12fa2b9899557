import { notYet } from './stub.js';

/** `kurier validate`: exit code 0 ok, 1 failure, 2 usage. */
export function runValidate(_args: readonly string[]): Promise<number> {
  return Promise.resolve(notYet('validate'));
}
