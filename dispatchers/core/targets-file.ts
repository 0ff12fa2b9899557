import { readFile } from 'node:fs/promises';
import { redactUrl } from './redact.js';

/** One function a fan-out dispatcher delivers every message to. */
export interface Target {
  /** The target's name (the Service's), unique in the list; the `target` label of its metrics. */
  readonly name: string;
  readonly url: string;
}

/** A targets file that cannot be used: `problem` says why, without the file's name. */
export class TargetsFileError extends Error {
  override readonly name = 'TargetsFileError';
  readonly problem: string;
  constructor(problem: string, options?: ErrorOptions) {
    super(problem, options);
    this.problem = problem;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkUrl(url: string, where: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TargetsFileError(`${where}.url ${JSON.stringify(redactUrl(url))} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TargetsFileError(`${where}.url ${JSON.stringify(redactUrl(url))} must use http or https`);
  }
}

function targetAt(entry: unknown, index: number, seen: Set<string>): Target {
  const where = `targets[${String(index)}]`;
  if (!isRecord(entry)) throw new TargetsFileError(`${where} is not an object with name and url`);
  const { name, url } = entry;
  if (typeof name !== 'string' || name === '') throw new TargetsFileError(`${where}.name must be a non-empty string`);
  if (seen.has(name)) throw new TargetsFileError(`${where}.name ${JSON.stringify(name)} is listed twice`);
  if (typeof url !== 'string') throw new TargetsFileError(`${where}.url must be a string`);
  checkUrl(url, where);
  seen.add(name);
  return { name, url };
}

/**
 * Parses `{"targets":[{"name":"…","url":"http://…"}]}`. Pure; throws a {@link TargetsFileError}
 * naming the first problem. Other fields are ignored (the controller may add some later).
 */
export function parseTargets(text: string): Target[] {
  if (text.trim() === '') throw new TargetsFileError('the file is empty');
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new TargetsFileError(`not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!isRecord(document) || !Array.isArray(document.targets)) {
    throw new TargetsFileError('expected an object with a "targets" list ({"targets":[{"name":"…","url":"http://…"}]})');
  }
  const seen = new Set<string>();
  return document.targets.map((entry, index) => targetAt(entry, index, seen));
}

/** Reads and parses the file at `path`, following symlinks (a ConfigMap volume's `..data` swap). */
export async function readTargetsFile(path: string): Promise<Target[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TargetsFileError(`cannot be read (${code ?? (error instanceof Error ? error.message : String(error))})`, { cause: error });
  }
  return parseTargets(text);
}

/** Two lists name the same targets at the same URLs (order does not matter). */
export function sameTargets(a: readonly Target[], b: readonly Target[]): boolean {
  if (a.length !== b.length) return false;
  const urls = new Map(a.map((target) => [target.name, target.url]));
  return b.every((target) => urls.get(target.name) === target.url);
}

export interface TargetsWatch {
  /** Stops polling; a read in progress is discarded. */
  stop(): void;
}

export interface TargetsWatchOptions {
  readonly path: string;
  readonly intervalMs: number;
  /** The list read at start, so only changes are reported. */
  readonly initial: readonly Target[];
  /** Called with the new list whenever a good read differs from the last good one. */
  readonly onChange: (targets: Target[]) => void;
  /** Called on each failed read, with whether the problem differs from the previous failed read's. */
  readonly onProblem: (problem: string, isNew: boolean) => void;
  /** Called on a good read after failed ones (the last problem is over). */
  readonly onRecovered?: () => void;
}

/**
 * Re-reads the targets file every `intervalMs`. A file that cannot be used keeps the last good
 * list: the kubelet swaps the whole `..data` directory at once, so a bad read is a bad ConfigMap,
 * never half a write.
 */
export function watchTargetsFile(options: TargetsWatchOptions): TargetsWatch {
  let current: readonly Target[] = options.initial;
  let lastProblem: string | undefined;
  let stopped = false;
  let reading = false;
  const poll = async (): Promise<void> => {
    if (reading) return;
    reading = true;
    try {
      const targets = await readTargetsFile(options.path);
      if (stopped) return;
      if (lastProblem !== undefined) {
        lastProblem = undefined;
        options.onRecovered?.();
      }
      if (!sameTargets(current, targets)) {
        current = targets;
        options.onChange(targets);
      }
    } catch (error) {
      if (stopped) return;
      const problem = error instanceof TargetsFileError ? error.problem : String(error);
      options.onProblem(problem, problem !== lastProblem);
      lastProblem = problem;
    } finally {
      reading = false;
    }
  };
  const timer = setInterval(() => { void poll(); }, options.intervalMs);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
