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
  private readonly env: Env;
  constructor(env: Env) {
    this.env = env;
  }

  private raw(name: string): string | undefined {
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

  /** Throws a {@link ConfigError} naming every bad variable seen so far. */
  check(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
