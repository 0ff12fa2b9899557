import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { stdin } from 'node:process';
import { parseAllDocuments } from 'yaml';

/** One YAML document read from a file, a directory or standard input. */
export interface InputDocument {
  /** File name as given (`-` for standard input). */
  readonly file: string;
  /** Position of the document in its file, from 0. */
  readonly index: number;
  readonly value: unknown;
  /** Set when the document is not valid YAML. */
  readonly error?: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function filesOf(target: string): Promise<string[]> {
  if (target === '-') return ['-'];
  const info = await stat(target);
  if (!info.isDirectory()) return [target];
  const entries = await readdir(target);
  return entries.filter((entry) => /\.ya?ml$/.test(entry)).sort().map((entry) => join(target, entry));
}

/** Every non-empty YAML document in `target` (a file, a directory of *.yaml/*.yml, or `-`). */
export async function readDocuments(target: string): Promise<InputDocument[]> {
  const out: InputDocument[] = [];
  for (const file of await filesOf(target)) {
    const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    parseAllDocuments(text).forEach((document, index) => {
      if (document.errors.length > 0) {
        out.push({ file, index, value: undefined, error: document.errors.map((error) => error.message.split('\n')[0]).join('; ') });
        return;
      }
      let value: unknown;
      try {
        value = document.toJS();
      } catch (err) {
        // yaml refuses alias expansion past its limit (an "alias bomb") with a ReferenceError.
        out.push({ file, index, value: undefined, error: `cannot be read: ${(err as Error).message}` });
        return;
      }
      if (value !== null && value !== undefined) out.push({ file, index, value });
    });
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

/** Parsed `-f`-style options: flags with values, boolean switches, and positional arguments. */
export interface ParsedArgs {
  /** The last value of each flag. */
  readonly values: ReadonlyMap<string, string>;
  /** Every value of each flag, in order (for repeatable flags such as `-f`). */
  readonly lists: ReadonlyMap<string, readonly string[]>;
  readonly switches: ReadonlySet<string>;
  readonly positional: readonly string[];
}

/** A command line that does not fit the command's usage (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--filename` is another spelling of `-f`, as in kubectl. */
export const FILE_FLAG_ALIASES: Readonly<Record<string, string>> = { '--filename': '-f' };

/**
 * Parses `args` given which flags take a value (`-f`, `--templates`) and which are switches.
 * `--flag=value` and `-f=value` are accepted; `aliases` maps other spellings to a flag.
 * Unknown flags are usage errors.
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
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  return { values, lists, switches: on, positional };
}
