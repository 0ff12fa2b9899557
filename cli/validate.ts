import { stderr, stdout } from 'node:process';
import { SchemaError } from '../render/schema.js';
import { SHIPPED_CRD } from '../render/shipped-files.js';
import { isValid, loadSchemas, validateTrigger, type Problem, type TriggerSchemas } from '../render/validate.js';
import {
  ambiguityWarnings, describeDocument, describeSyntaxError, FILE_FLAG_ALIASES, InputError, parseArgs, readDocuments, UsageError, type InputDocument,
} from './input.js';

const USAGE = `usage: kurier validate -f FILE|DIR|- [-f …] [--crd FILE]

Checks every trigger in the files (read as kubectl reads YAML) against the CRD schemas, where
unknown fields are errors, and semantically; prints one line per problem with its field path.

  -f, --filename FILE|DIR|-   a file, a directory (its *.yaml and *.yml files) or - for standard input; repeatable
  --crd FILE                  the CRDs to check against (default: the shipped crd.yaml)
  -h, --help                  this help

Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage or unreadable input.
`;

function line(document: InputDocument, problem: Problem): string {
  const where = problem.path === '' ? '' : ` ${problem.path}:`;
  const severity = problem.severity === 'warning' ? ' warning:' : '';
  return `${describeDocument(document)}:${where}${severity} ${problem.message}\n`;
}

/** Judges one parsed document: schema and semantic problems. */
export function judgeForValidate(value: unknown, schemas: TriggerSchemas): Problem[] {
  return validateTrigger(value, schemas);
}

function optionsOf(args: readonly string[]): { targets: readonly string[]; crd: string } | 'help' {
  const parsed = parseArgs(args, ['-f', '--crd'], [], FILE_FLAG_ALIASES);
  if (parsed.help) return 'help';
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
  const targets = parsed.lists.get('-f') ?? [];
  if (targets.length === 0) throw new UsageError('-f FILE|DIR|- is required');
  return { targets, crd: parsed.values.get('--crd') ?? SHIPPED_CRD };
}

/**
 * `kurier validate`: checks every document against the CRD schemas (unknown fields are errors) and
 * semantically; prints each problem on one line to stderr. Exit 0 valid (warnings allowed), 1 invalid, 2 usage.
 */
export async function runValidate(args: readonly string[]): Promise<number> {
  let schemas: TriggerSchemas;
  let documents: InputDocument[];
  try {
    const options = optionsOf(args);
    if (options === 'help') {
      stdout.write(USAGE);
      return 0;
    }
    schemas = loadSchemas(options.crd);
    documents = await readDocuments(options.targets);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`kurier validate: ${err.message} (run "kurier validate --help" for usage)\n`);
      return 2;
    }
    if (err instanceof InputError || err instanceof SchemaError || (err instanceof Error && 'code' in err)) {
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
    const problems = judgeForValidate(document.value, schemas);
    for (const problem of problems) stderr.write(line(document, problem));
    if (!isValid(problems)) errors++;
    warnings += ambiguities.length + problems.filter((problem) => problem.severity === 'warning').length;
  }
  const valid = documents.length - errors;
  stdout.write(`${valid} of ${documents.length} trigger${documents.length === 1 ? '' : 's'} valid${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
  return errors > 0 ? 1 : 0;
}
