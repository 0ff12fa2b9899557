import { existsSync } from 'node:fs';
import { stderr, stdout } from 'node:process';
import { isValid, type Problem } from '../render/validate.js';
import { judgeTrigger, type VerdictSettings } from '../render/verdict.js';
import { describeDocument, FILE_FLAG_ALIASES, parseArgs, readDocuments, UsageError, type InputDocument, type ParsedArgs } from './input.js';
import { loadVerdictSettings, SettingsError, VERDICT_FLAGS, VERDICT_USAGE } from './verdict-settings.js';

const USAGE = `usage: kurier validate -f FILE|DIR|- [-f …] ${VERDICT_USAGE}\n`;

function line(document: InputDocument, problem: Problem): string {
  const where = problem.path === '' ? '' : ` ${problem.path}:`;
  const severity = problem.severity === 'warning' ? ' warning:' : '';
  return `${describeDocument(document)}:${where}${severity} ${problem.message}\n`;
}

function targetsOf(args: readonly string[]): { targets: readonly string[]; parsed: ParsedArgs } {
  const parsed = parseArgs(args, ['-f', ...VERDICT_FLAGS.withValue], [...VERDICT_FLAGS.switches], FILE_FLAG_ALIASES);
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
  const targets = parsed.lists.get('-f') ?? [];
  if (targets.length === 0) throw new UsageError('-f FILE|DIR|- is required');
  if (targets.filter((target) => target === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  return { targets, parsed };
}

async function documentsOf(targets: readonly string[]): Promise<InputDocument[]> {
  const documents: InputDocument[] = [];
  for (const target of targets) {
    if (target !== '-' && !existsSync(target)) throw new UsageError(`${target}: no such file or directory`);
    const found = await readDocuments(target);
    if (found.length === 0) {
      throw new UsageError(`${target === '-' ? 'standard input' : target}: no YAML documents (a directory is read for *.yaml and *.yml files)`);
    }
    documents.push(...found);
  }
  return documents;
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
    const { targets, parsed } = targetsOf(args);
    settings = await loadVerdictSettings(parsed.values, parsed.switches);
    documents = await documentsOf(targets);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`kurier validate: ${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof SettingsError || (err instanceof Error && 'code' in err)) {
      stderr.write(`kurier validate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  let errors = 0;
  let warnings = 0;
  for (const document of documents) {
    const problems: readonly Problem[] =
      document.error !== undefined ? [{ path: '', message: `not valid YAML: ${document.error}`, severity: 'error' }] : judgeTrigger(document.value, settings).problems;
    for (const problem of problems) stderr.write(line(document, problem));
    if (!isValid(problems)) errors++;
    warnings += problems.filter((problem) => problem.severity === 'warning').length;
  }
  const valid = documents.length - errors;
  stdout.write(`${valid} of ${documents.length} trigger${documents.length === 1 ? '' : 's'} valid${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
  return errors > 0 ? 1 : 0;
}
