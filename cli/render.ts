import { stderr, stdout } from 'node:process';
import { stringify } from 'yaml';
import type { Problem } from '../render/schema.js';
import { judgeTrigger, type VerdictSettings } from '../render/verdict.js';
import {
  ambiguityWarnings, describeDocument, describeSyntaxError, FILE_FLAG_ALIASES, InputError, parseArgs, readDocuments, UsageError, type InputDocument,
} from './input.js';
import { loadVerdictSettings, SettingsError, VERDICT_FLAGS, VERDICT_USAGE } from './verdict-settings.js';

const USAGE = `usage: kurier render -f FILE|DIR|- [-f …] ${VERDICT_USAGE}

Prints the dispatcher Deployment of every trigger in the files (multi-document YAML, read as
kubectl reads it), separated by ---, ready for kubectl apply -f -. Each trigger is judged exactly
as kurier validate and the controller judge it; every problem goes to stderr on one line.

  -f, --filename FILE|DIR|-   a file, a directory (its *.yaml and *.yml files) or - for standard input; repeatable
  --templates DIR             the dispatcher templates (default: the shipped templates/)
  --policy FILE               the override policy to judge by (default: the templates' policy.yaml)
  --crd FILE                  the CRDs to check against (default: the shipped crd.yaml)
  --allow-cross-namespace     allow spec.deployment.metadata.namespace to move a Deployment elsewhere
  -h, --help                  this help

Exit codes: 0 every trigger rendered (warnings allowed), 1 a trigger is refused, 2 usage or unreadable input.
`;

function line(document: InputDocument, problem: Problem): string {
  const where = problem.path === '' ? '' : ` ${problem.path}:`;
  const severity = problem.severity === 'warning' ? ' warning:' : '';
  return `${describeDocument(document)}:${where}${severity} ${problem.message}\n`;
}

function targetsOf(args: readonly string[]): { targets: readonly string[]; values: ReadonlyMap<string, string>; switches: ReadonlySet<string> } | 'help' {
  const parsed = parseArgs(args, ['-f', ...VERDICT_FLAGS.withValue], [...VERDICT_FLAGS.switches], FILE_FLAG_ALIASES);
  if (parsed.help) return 'help';
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
  const targets = parsed.lists.get('-f') ?? [];
  if (targets.length === 0) throw new UsageError('-f FILE|DIR|- is required');
  return { targets, values: parsed.values, switches: parsed.switches };
}

/**
 * `kurier render`: prints the dispatcher Deployment of every trigger, judged exactly as
 * `kurier validate` and the controller judge it; each problem goes to stderr on one line.
 * Exit 0 ok (warnings allowed), 1 invalid, 2 usage.
 */
export async function runRender(args: readonly string[]): Promise<number> {
  let settings: VerdictSettings;
  let documents: InputDocument[];
  try {
    const options = targetsOf(args);
    if (options === 'help') {
      stdout.write(USAGE);
      return 0;
    }
    settings = await loadVerdictSettings(options.values, options.switches);
    documents = await readDocuments(options.targets);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`kurier render: ${err.message} (run "kurier render --help" for usage)\n`);
      return 2;
    }
    if (err instanceof InputError || err instanceof SettingsError || (err instanceof Error && 'code' in err)) {
      stderr.write(`kurier render: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  let failed = false;
  const rendered: string[] = [];
  for (const document of documents) {
    if (document.error !== undefined) {
      stderr.write(`${describeSyntaxError(document)}\n`);
      failed = true;
      continue;
    }
    for (const warning of ambiguityWarnings(document)) stderr.write(`${warning}\n`);
    const verdict = judgeTrigger(document.value, settings);
    for (const problem of verdict.problems) stderr.write(line(document, problem));
    if (verdict.deployment === undefined) failed = true;
    else rendered.push(stringify(verdict.deployment, { lineWidth: 0 }));
  }
  stdout.write(rendered.join('---\n'));
  return failed ? 1 : 0;
}
