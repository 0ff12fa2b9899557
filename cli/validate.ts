import { stderr, stdout } from 'node:process';
import { isValid } from '../render/validate.js';
import { judgeTrigger } from '../render/verdict.js';
import { ambiguityWarnings, describeSyntaxError } from './input.js';
import { problemLine, readJudgeInput } from './judge-input.js';
import { VERDICT_FLAG_HELP, VERDICT_USAGE } from './verdict-settings.js';

const USAGE = `usage: kurier validate -f FILE|DIR|- [-f …] ${VERDICT_USAGE}

Judges every trigger in the files (read as kubectl reads YAML) exactly as kurier render and the
controller do: the CRD schemas (unknown fields are errors), semantic checks, secrets and the
override policy; prints one line per problem with its field path.

${VERDICT_FLAG_HELP}

Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage or unreadable input.
`;



/**
 * `kurier validate`: judges every document exactly as `kurier render` and the controller do (CRD
 * schema, semantic checks, secrets, the override policy with the same admin settings); prints each
 * problem on one line to stderr. Exit 0 valid (warnings allowed), 1 invalid, 2 usage.
 */
export async function runValidate(args: readonly string[]): Promise<number> {
  const input = await readJudgeInput('validate', args, USAGE);
  if (typeof input === 'number') return input;
  const { settings, documents } = input;

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
    for (const problem of problems) stderr.write(problemLine(document, problem));
    if (!isValid(problems)) errors++;
    warnings += ambiguities.length + problems.filter((problem) => problem.severity === 'warning').length;
  }
  const valid = documents.length - errors;
  stdout.write(`${valid} of ${documents.length} trigger${documents.length === 1 ? '' : 's'} valid${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
  return errors > 0 ? 1 : 0;
}
