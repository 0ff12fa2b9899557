import { durationTooLong, parseDuration } from '../../common/duration.js';
import { redactUrl } from './redact.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown at start when configuration is bad; its message has one line per bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(problems.join('\n'), options);
    this.problems = problems;
  }
}

/**
 * Reads typed values from the environment and collects every problem, each naming its variable,
 * so a dispatcher reports all of them at once before connecting to anything.
 */
export class EnvReader {
  readonly problems: string[] = [];
  /** Every variable name asked for so far, set or not. */
  readonly asked = new Set<string>();
  private readonly env: Env;
  constructor(env: Env) {
    this.env = env;
  }

  private raw(name: string): string | undefined {
    this.asked.add(name);
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string): string | undefined;
  string(name: string, fallback: string): string;
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback;
  }

  required(name: string, what = 'a value'): string {
    const value = this.raw(name);
    if (value === undefined) {
      this.problems.push(`${name} is required (${what})`);
      return '';
    }
    return value;
  }

  integer(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name}=${JSON.stringify(value)} is not an integer in [${min}, ${max}]`);
      return fallback;
    }
    return parsed;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (value === 'true' || value === '1' || value === 'yes') return true;
    if (value === 'false' || value === '0' || value === 'no') return false;
    this.problems.push(`${name}=${JSON.stringify(value)} is not a boolean (true or false)`);
    return fallback;
  }

  /** A duration in milliseconds (`500ms`, `30s`, `5m`), at most 576h. */
  duration(name: string, fallbackMs: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallbackMs;
    const parsed = parseDuration(value);
    if (parsed === undefined) {
      this.problems.push(`${name}=${JSON.stringify(value)} is not a duration (e.g. 500ms, 30s, 5m)`);
      return fallbackMs;
    }
    const tooLong = durationTooLong(parsed);
    if (tooLong !== undefined) {
      this.problems.push(`${name}=${JSON.stringify(value)} ${tooLong}`);
      return fallbackMs;
    }
    return parsed;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = choices.find((choice) => choice.toLowerCase() === value.toLowerCase());
    if (match === undefined) {
      this.problems.push(`${name}=${JSON.stringify(value)} must be one of ${choices.join(', ')}`);
      return fallback;
    }
    return match;
  }

  /** A comma-separated list (the env contract joins arrays of scalars with commas). */
  list(name: string): string[] {
    const value = this.raw(name);
    return value === undefined ? [] : value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
        this.problems.push(`${name}=${JSON.stringify(redactUrl(value))} must use ${protocols.join(' or ')}`);
      }
    } catch {
      this.problems.push(`${name}=${JSON.stringify(redactUrl(value))} is not a URL`);
    }
    return value;
  }

  /**
   * One warning per set variable that starts with one of `prefixes` but is not in `known`, naming
   * the closest known name: a misspelt variable would otherwise be silently ignored.
   */
  unknownVariables(prefixes: readonly string[], known: readonly string[]): string[] {
    const names = Object.keys(this.env).filter((name) => prefixes.some((prefix) => name.startsWith(prefix)) && !known.includes(name)).sort();
    return names.map((name) => {
      const closest = closestName(name, known.filter((candidate) => prefixes.some((prefix) => name.startsWith(prefix) && candidate.startsWith(prefix))));
      return `${name} is not a variable this dispatcher reads; it is ignored${closest === undefined ? '' : ` (did you mean ${closest}?)`}`;
    });
  }

  /** Throws a {@link ConfigError} naming every bad variable seen so far. */
  check(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate most like `name`: most `_`-separated words in common first (`NATS_STREAM` →
 * `NATS_JETSTREAM_STREAM`), then fewest edits (`NATS_SUBJCT` → `NATS_SUBJECT`).
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const words = new Set(name.split('_').slice(1));
  const shared = (candidate: string): number => candidate.split('_').slice(1).filter((word) => words.has(word)).length;
  return [...candidates].sort((a, b) => shared(b) - shared(a) || editDistance(name, a) - editDistance(name, b) || a.localeCompare(b))[0];
}
