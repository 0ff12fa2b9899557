/** Parsing one source's variables alone, as its config tests do. */
import { ConfigError, EnvReader } from '../../dispatchers/core/env-reader.js';
import type { TriggerIdentity } from '../../dispatchers/core/types.js';

export interface SourceConfigParser<C> {
  /** The parsed configuration; throws the `ConfigError` listing every problem. */
  readonly parse: (env: Record<string, string>) => C;
  /** Every problem reported for `env` (empty when it parses). */
  readonly problems: (env: Record<string, string>) => string[];
}

export function sourceConfigParser<C>(parseSource: (reader: EnvReader, trigger: TriggerIdentity) => C, trigger: TriggerIdentity): SourceConfigParser<C> {
  const parse = (env: Record<string, string>): C => {
    const reader = new EnvReader(env);
    const config = parseSource(reader, trigger);
    reader.check();
    return config;
  };
  return {
    parse,
    problems: (env) => {
      try {
        parse(env);
      } catch (error) {
        if (error instanceof ConfigError) return [...error.problems];
        throw error;
      }
      return [];
    },
  };
}
