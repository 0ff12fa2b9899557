import { stderr, stdout } from 'node:process';
import type { Problem } from '../render/schema.js';
import type { VerdictSettings } from '../render/verdict.js';
import { describeDocument, FILE_FLAG_ALIASES, InputError, parseArgs, readDocuments, UsageError, type InputDocument } from './input.js';
import { loadVerdictSettings, SettingsError, VERDICT_FLAGS } from './verdict-settings.js';

/** What `kurier render` and `kurier validate` judge: the documents and the verdict's settings. */
export interface JudgeInput {
  readonly settings: VerdictSettings;
  readonly documents: readonly InputDocument[];
  /** The values and switches of the command's own flags (`extra` of {@link readJudgeInput}). */
  readonly flags: { readonly values: ReadonlyMap<string, string>; readonly switches: ReadonlySet<string> };
}

/** Flags a command takes besides -f and the verdict's. */
export interface ExtraFlags {
  readonly withValue: readonly string[];
  readonly switches: readonly string[];
}

/** One problem on one line: `FILE:DOC KIND/NAME: PATH: [warning:] MESSAGE`. */
export function problemLine(document: InputDocument, problem: Problem): string {
  const where = problem.path === '' ? '' : ` ${problem.path}:`;
  const severity = problem.severity === 'warning' ? ' warning:' : '';
  return `${describeDocument(document)}:${where}${severity} ${problem.message}\n`;
}

function optionsOf(args: readonly string[], extra: ExtraFlags): { targets: readonly string[]; values: ReadonlyMap<string, string>; switches: ReadonlySet<string> } | 'help' {
  const parsed = parseArgs(args, ['-f', ...VERDICT_FLAGS.withValue, ...extra.withValue], [...VERDICT_FLAGS.switches, ...extra.switches], FILE_FLAG_ALIASES);
  if (parsed.help) return 'help';
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
  const targets = parsed.lists.get('-f') ?? [];
  if (targets.length === 0) throw new UsageError('-f FILE|DIR|- is required');
  return { targets, values: parsed.values, switches: parsed.switches };
}

/**
 * Reads the flags and files of `kurier <command>`: the input to judge, or the exit code when there
 * is nothing to judge (0 after printing `usage` for --help, 2 after one line on a usage error or
 * unreadable input).
 */
export async function readJudgeInput(command: string, args: readonly string[], usage: string, extra: ExtraFlags = { withValue: [], switches: [] }): Promise<JudgeInput | number> {
  try {
    const options = optionsOf(args, extra);
    if (options === 'help') {
      stdout.write(usage);
      return 0;
    }
    const settings = await loadVerdictSettings(options.values, options.switches);
    return { settings, documents: await readDocuments(options.targets), flags: { values: options.values, switches: options.switches } };
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`kurier ${command}: ${err.message} (run "kurier ${command} --help" for usage)\n`);
      return 2;
    }
    if (err instanceof InputError || err instanceof SettingsError || (err instanceof Error && 'code' in err)) {
      stderr.write(`kurier ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
