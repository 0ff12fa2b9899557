import { stderr, stdout } from 'node:process';
import { isValid, type Problem } from '../render/validate.js';
import { judgeTrigger, type VerdictSettings } from '../render/verdict.js';
import {
  ambiguityWarnings, describeDocument, describeSyntaxError, FILE_FLAG_ALIASES, InputError, parseArgs, readDocuments, UsageError, type InputDocument,
} from './input.js';
import { loadVerdictSettings, SettingsError, VERDICT_FLAGS, VERDICT_USAGE } from './verdict-settings.js';

const USAGE = `usage: kurier validate -f FILE|DIR|- [-f …] ${VERDICT_USAGE}

Judges every trigger in the files (read as kubectl reads YAML) exactly as kurier render and the
controller do: the CRD schemas (unknown fields are errors), semantic checks, secrets and the
override policy; prints one line per problem with its field path.

  -f, --filename FILE|DIR|-   a file, a directory (its *.yaml and *.yml files) or - for standard input; repeatable
  --templates DIR             the dispatcher templates (default: the shipped templates/)
  --policy FILE               the override policy to judge by (default: the templates' policy.yaml)
  --crd FILE                  the CRDs to check against (default: the shipped crd.yaml)
  --allow-cross-namespace     allow spec.deployment.metadata.namespace to move a Deployment elsewhere
  -h, --help                  this help

Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage or unreadable input.
`;

function line(document: InputDocument, problem: Problem): string {
  const where = problem.path === '' ? '' : ` ${problem.path}:`;
  const severity = problem.severity === 'warning' ? ' warning:' : '';
  return `${describeDocument(document)}:${where}${severity} ${problem.message}\n`;
}

function optionsOf(args: readonly string[]): { targets: readonly string[]; values: ReadonlyMap<string, string>; switches: ReadonlySet<string> } | 'help' {
  const parsed = parseArgs(args, ['-f', ...VERDICT_FLAGS.withValue], [...VERDICT_FLAGS.switches], FILE_FLAG_ALIASES);
  if (parsed.help) return 'help';
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
  const targets = parsed.lists.get('-f') ?? [];
  if (targets.length === 0) throw new UsageError('-f FILE|DIR|- is required');
  return { targets, values: parsed.values, switches: parsed.switches };
}

/**
 * `kurier validate`: judges every document exactly as `kurier render` and the controller do (CRD
 * schema, semantic checks, secrets, the override policy with the same admin settings); prints each
 * problem on one line to stderr. Exit 0 valid (warnings allowed), 1 invalid, 2 usage.
 */
export async function runValidate(args: readonly string[]): Promise<number> {
  let settings: VerdictSettings;
  let documents: InputDocument[];
  try {
    const options = optionsOf(args);
    if (options === 'help') {
      stdout.write(USAGE);
      return 0;
    }
    settings = await loadVerdictSettings(options.values, options.switches);
    documents = await readDocuments(options.targets);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`kurier validate: ${err.message} (run "kurier validate --help" for usage)\n`);
      return 2;
    }
    if (err instanceof InputError || err instanceof SettingsError || (err instanceof Error && 'code' in err)) {
      stderr.write(`kurier validate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  let errors = 0;
  let warnings = 0;
  for (const document of documents) {
    if (document.error !== undefined) {
      stderr.write(`${describeSyntaxError(document)}\n`);
      errors++;
      continue;
    }
    const ambiguities = ambiguityWarnings(document);
    for (const warning of ambiguities) stderr.write(`${warning}\n`);
    const { problems } = judgeTrigger(document.value, settings);
    for (const problem of problems) stderr.write(line(document, problem));
    if (!isValid(problems)) errors++;
    warnings += ambiguities.length + problems.filter((problem) => problem.severity === 'warning').length;
  }
  const valid = documents.length - errors;
  stdout.write(`${valid} of ${documents.length} trigger${documents.length === 1 ? '' : 's'} valid${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
  return errors > 0 ? 1 : 0;
}
