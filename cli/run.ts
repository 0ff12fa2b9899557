/** `kurier run`: placeholder until the local runner lands. */
export function runTrigger(): Promise<number> {
  process.stderr.write('kurier run: not available yet\n');
  return Promise.resolve(2);
}
