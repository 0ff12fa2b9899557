import { existsSync } from 'node:fs';
import { stderr, stdout } from 'node:process';
import { SchemaError } from '../render/schema.js';
import { SHIPPED_CRD } from '../render/shipped-files.js';
import { isValid, loadSchemas, validateTrigger, type Problem, type TriggerSchemas } from '../render/validate.js';
import { describeDocument, FILE_FLAG_ALIASES, parseArgs, readDocuments, UsageError, type InputDocument } from './input.js';

const USAGE = 'usage: kurier validate -f FILE|DIR|- [-f …] [--crd FILE]\n';

function line(document: InputDocument, problem: Problem): string {
  const where = problem.path === '' ? '' : ` ${problem.path}:`;
  const severity = problem.severity === 'warning' ? ' warning:' : '';
  return `${describeDocument(document)}:${where}${severity} ${problem.message}\n`;
}

function targetsOf(args: readonly string[]): { targets: readonly string[]; crd: string } {
  const parsed = parseArgs(args, ['-f', '--crd'], [], FILE_FLAG_ALIASES);
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
  const targets = parsed.lists.get('-f') ?? [];
  if (targets.length === 0) throw new UsageError('-f FILE|DIR|- is required');
  if (targets.filter((target) => target === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  return { targets, crd: parsed.values.get('--crd') ?? SHIPPED_CRD };
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
 * `kurier validate`: checks every document against the CRD schemas (unknown fields are errors) and
 * semantically; prints each problem on one line to stderr. Exit 0 valid (warnings allowed), 1 invalid, 2 usage.
 */
export async function runValidate(args: readonly string[]): Promise<number> {
  let schemas: TriggerSchemas;
  let documents: InputDocument[];
  try {
    const { targets, crd } = targetsOf(args);
    schemas = loadSchemas(crd);
    documents = await documentsOf(targets);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`kurier validate: ${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof SchemaError || (err instanceof Error && 'code' in err)) {
      stderr.write(`kurier validate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  let errors = 0;
  let warnings = 0;
  for (const document of documents) {
    const problems: Problem[] =
      document.error !== undefined ? [{ path: '', message: `not valid YAML: ${document.error}`, severity: 'error' }] : validateTrigger(document.value, schemas);
    for (const problem of problems) stderr.write(line(document, problem));
    if (!isValid(problems)) errors++;
    warnings += problems.filter((problem) => problem.severity === 'warning').length;
  }
  const valid = documents.length - errors;
  stdout.write(`${valid} of ${documents.length} trigger${documents.length === 1 ? '' : 's'} valid${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
  return errors > 0 ? 1 : 0;
}
