import { existsSync } from 'node:fs';
import { stderr, stdout } from 'node:process';
import { fileURLToPath } from 'node:url';
import { SchemaError } from '../controller/schema.js';
import { isValid, loadSchemas, validateTrigger, type Problem, type TriggerSchemas } from '../controller/validate.js';
import { parseArgs, readDocuments, UsageError, type InputDocument } from './input.js';

const USAGE = 'usage: kurier validate -f FILE|DIR|- [-f …] [--crd FILE]\n';

/** The crd.yaml next to the sources (a checkout) or next to dist/ (an image). */
export function defaultCrdPath(): string {
  const candidates = ['../crd.yaml', '../../crd.yaml'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  return candidates.find((candidate) => existsSync(candidate)) ?? candidates[0] ?? 'crd.yaml';
}

function who(document: InputDocument): string {
  const value = document.value as { kind?: unknown; metadata?: { name?: unknown } } | undefined;
  const kind = typeof value?.kind === 'string' ? value.kind : '?';
  const name = typeof value?.metadata?.name === 'string' ? value.metadata.name : '?';
  return kind === '?' && name === '?' ? '' : ` ${kind}/${name}`;
}

function line(document: InputDocument, problem: Problem): string {
  const where = problem.path === '' ? '' : ` ${problem.path}:`;
  const severity = problem.severity === 'warning' ? ' warning:' : '';
  return `${document.file}:${document.index}${who(document)}:${where}${severity} ${problem.message}\n`;
}

function targetsOf(args: readonly string[]): { targets: string[]; crd: string } {
  const targets: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const inline = /^(?:-f|--filename)=(.*)$/.exec(arg);
    if (inline !== null) targets.push(inline[1] ?? '');
    else if (arg === '-f' || arg === '--filename') {
      const value = args[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      targets.push(value);
    } else rest.push(arg);
  }
  const parsed = parseArgs(rest, ['--crd'], []);
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
  if (targets.length === 0) throw new UsageError('-f FILE|DIR|- is required');
  if (targets.filter((target) => target === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  return { targets, crd: parsed.values.get('--crd') ?? defaultCrdPath() };
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
