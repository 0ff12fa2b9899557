import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { stdin } from 'node:process';
import { explainAmbiguity, parseKubectlYaml, type AmbiguousScalar } from './kubectl-yaml.js';

/** One YAML document read from a file, a directory or standard input, as kubectl reads it. */
export interface InputDocument {
  /** File name as given (`-` for standard input). */
  readonly file: string;
  /** Position of the document in its file, from 0. */
  readonly index: number;
  readonly value: unknown;
  /** Set when the document is not valid YAML: `LINE:COLUMN: what is wrong` (the file is prefixed by the caller). */
  readonly error?: string;
  /** Plain scalars kubectl (YAML 1.1) reads differently from YAML 1.2. */
  readonly ambiguous: readonly AmbiguousScalar[];
}

/** An input that cannot be read at all (missing file, empty file): a usage problem, exit code 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function filesOf(target: string): Promise<string[]> {
  if (target === '-') return ['-'];
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(target)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${target}: no such file or directory` : `${target}: ${(err as Error).message}`, { cause: err });
  }
  if (!isDirectory) return [target];
  const entries = (await readdir(target)).filter((entry) => /\.ya?ml$/.test(entry)).sort();
  if (entries.length === 0) throw new InputError(`${target}: no *.yaml or *.yml files in this directory`);
  return entries.map((entry) => join(target, entry));
}

async function readText(file: string): Promise<string> {
  if (file === '-') return readStdin();
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Every non-empty YAML document of one file (or `-`); a file with none is an {@link InputError}. */
async function documentsOfFile(file: string): Promise<InputDocument[]> {
  const out: InputDocument[] = [];
  for (const document of parseKubectlYaml(await readText(file))) {
    const [first] = document.errors;
    if (first !== undefined) {
      out.push({ file, index: document.index, value: undefined, error: `${first.line}:${first.column}: ${first.message}`, ambiguous: [] });
    } else if (document.value !== null && document.value !== undefined) {
      out.push({ file, index: document.index, value: document.value, ambiguous: document.ambiguous });
    }
  }
  if (out.length === 0) throw new InputError(`${file === '-' ? 'standard input' : file}: no YAML documents (the file is empty or holds only comments)`);
  return out;
}

/**
 * Every non-empty YAML document of every target (a file, a directory of *.yaml/*.yml, or `-`), in
 * order. Throws {@link InputError} for a missing file or one without documents; a YAML syntax
 * error is a document with `error` set, so the other documents are still judged.
 */
export async function readDocuments(targets: string | readonly string[]): Promise<InputDocument[]> {
  const list = typeof targets === 'string' ? [targets] : targets;
  if (list.filter((target) => target === '-').length > 1) throw new InputError('standard input (-) can be read only once');
  const out: InputDocument[] = [];
  for (const target of list) {
    for (const file of await filesOf(target)) out.push(...(await documentsOfFile(file)));
  }
  return out;
}

/** `FILE:INDEX KIND/NAME` of a document, for one-line problem reports (`?` for a missing part). */
export function describeDocument(document: InputDocument): string {
  const value = document.value as { kind?: unknown; metadata?: { name?: unknown } } | undefined;
  const kind = typeof value?.kind === 'string' ? value.kind : '?';
  const name = typeof value?.metadata?.name === 'string' ? value.metadata.name : '?';
  return `${document.file}:${document.index}${kind === '?' && name === '?' ? '' : ` ${kind}/${name}`}`;
}

/** `FILE:LINE:COLUMN: not valid YAML: …`, the one line for a document with a syntax error. */
export function describeSyntaxError(document: InputDocument): string {
  return `${document.file}:${document.error ?? ''}`.replace(/^([^:]*:\d+:\d+): /, '$1: not valid YAML: ');
}

/** Parsed `-f`-style options: flags with values, boolean switches, and positional arguments. */
export interface ParsedArgs {
  /** The last value of each flag. */
  readonly values: ReadonlyMap<string, string>;
  /** Every value of each flag, in order (for repeatable flags such as `-f`). */
  readonly lists: ReadonlyMap<string, readonly string[]>;
  readonly switches: ReadonlySet<string>;
  readonly positional: readonly string[];
  /** `-h` or `--help` was given. */
  readonly help: boolean;
}

/** A command line that does not fit the command's usage (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--filename` is another spelling of `-f`, as in kubectl. */
export const FILE_FLAG_ALIASES: Readonly<Record<string, string>> = { '--filename': '-f' };

/**
 * Parses `args` given which flags take a value (`-f`, `--templates`) and which are switches.
 * `--flag=value` and `-f=value` are accepted; `aliases` maps other spellings to a flag; `-h` and
 * `--help` set `help`. Unknown flags are usage errors.
 */
export function parseArgs(
  args: readonly string[],
  withValue: readonly string[],
  switches: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): ParsedArgs {
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const on = new Set<string>();
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const [spelled = '', inline] = arg.startsWith('-') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const flag = aliases[spelled] ?? spelled;
    if (withValue.includes(flag)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`${spelled} needs a value`);
      values.set(flag, value);
      lists.set(flag, [...(lists.get(flag) ?? []), value]);
    } else if (switches.includes(flag)) {
      on.add(flag);
    } else if (flag === '-h' || flag === '--help') {
      help = true;
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  return { values, lists, switches: on, positional, help };
}

/** One warning line per scalar kubectl reads differently from YAML 1.2: `FILE:LINE:COLUMN PATH: warning: …`. */
export function ambiguityWarnings(document: InputDocument): string[] {
  return document.ambiguous.map((scalar) => `${document.file}:${scalar.line}:${scalar.column} ${scalar.path}: warning: ${explainAmbiguity(scalar)}`);
}
