import { stderr } from 'node:process';

/** Placeholder for a subcommand whose module has not landed yet; replaced as each lands. */
export function notYet(command: string): number {
  stderr.write(`kurier: "${command}" is not available in this build yet\n`);
  return 2;
}
