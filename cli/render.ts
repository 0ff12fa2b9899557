import { stderr, stdout } from 'node:process';
import { stringify } from 'yaml';
import type { Problem } from '../render/schema.js';
import { judgeTrigger, type VerdictSettings } from '../render/verdict.js';
import { describeDocument, FILE_FLAG_ALIASES, parseArgs, readDocuments, UsageError, type InputDocument } from './input.js';
import { loadVerdictSettings, SettingsError, VERDICT_FLAGS, VERDICT_USAGE } from './verdict-settings.js';

const USAGE = `usage: kurier render -f FILE|DIR|- ${VERDICT_USAGE}\n`;

function line(document: InputDocument, problem: Problem): string {
  const where = problem.path === '' ? '' : ` ${problem.path}:`;
  const severity = problem.severity === 'warning' ? ' warning:' : '';
  return `${describeDocument(document)}:${where}${severity} ${problem.message}\n`;
}

/**
 * `kurier render`: prints the dispatcher Deployment of every trigger, judged exactly as
 * `kurier validate` and the controller judge it; each problem goes to stderr on one line.
 * Exit 0 ok (warnings allowed), 1 invalid, 2 usage.
 */
export async function runRender(args: readonly string[]): Promise<number> {
  let target: string;
  let settings: VerdictSettings;
  try {
    const parsed = parseArgs(args, ['-f', ...VERDICT_FLAGS.withValue], [...VERDICT_FLAGS.switches], FILE_FLAG_ALIASES);
    if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
    const file = parsed.values.get('-f');
    if (file === undefined) throw new UsageError('-f FILE is required');
    target = file;
    settings = await loadVerdictSettings(parsed.values, parsed.switches);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`kurier render: ${err.message}\n${USAGE}`);
      return 2;
    }
    if (!(err instanceof SettingsError)) throw err;
    stderr.write(`kurier render: ${err.message}\n`);
    return 2;
  }

  let documents: InputDocument[];
  try {
    documents = await readDocuments(target);
  } catch (err) {
    stderr.write(`kurier render: ${(err as Error).message}\n`);
    return err instanceof Error && 'code' in err ? 2 : 1;
  }

  let failed = false;
  const rendered: string[] = [];
  for (const document of documents) {
    const verdict =
      document.error !== undefined
        ? { problems: [{ path: '', message: `not valid YAML: ${document.error}`, severity: 'error' } satisfies Problem] }
        : judgeTrigger(document.value, settings);
    for (const problem of verdict.problems) stderr.write(line(document, problem));
    if (verdict.deployment === undefined) failed = true;
    else rendered.push(stringify(verdict.deployment, { lineWidth: 0 }));
  }
  stdout.write(rendered.join('---\n'));
  return failed ? 1 : 0;
}
