import process from 'node:process';
import { runDispatcher } from './core/runtime.js';
import { Source } from './core/types.js';
import type { SourceModule } from './core/types.js';
import { COMMON_VARIABLES, formatVariables, type VariableDoc } from './core/variables.js';

const USAGE = `usage: kurier dispatch <${Object.values(Source).join('|')}>
  configured only by environment variables (docs/dispatchers.md);
  kurier dispatch <source> --help lists that source's variables\n`;

function isSource(name: string): name is Source {
  return (Object.values(Source) as string[]).includes(name);
}

function isSourceModule(value: unknown): value is SourceModule<unknown> {
  return typeof value === 'object' && value !== null && 'createAdapter' in value && 'parseConfig' in value;
}

// Spelled out (not a computed path) so bundlers and readers see every adapter; each loads only when used.
const SOURCE_LOADERS: Readonly<Record<Source, () => Promise<unknown>>> = {
  kafka: () => import('./kafka/index.js'),
  pulsar: () => import('./pulsar/index.js'),
  nats: () => import('./nats/index.js'),
  rabbitmq: () => import('./rabbitmq/index.js'),
  cron: () => import('./cron/index.js'),
};

// Small modules with no broker client: help and the unknown-variable check load them without the adapter.
const VARIABLE_LOADERS: Readonly<Record<Source, () => Promise<readonly VariableDoc[]>>> = {
  kafka: async () => (await import('./kafka/variables.js')).KAFKA_VARIABLES,
  pulsar: async () => {
    const { PULSAR_VARIABLES, PULSAR_COMPATIBILITY_VARIABLES } = await import('./pulsar/variables.js');
    return [...PULSAR_VARIABLES, ...PULSAR_COMPATIBILITY_VARIABLES];
  },
  nats: async () => (await import('./nats/variables.js')).NATS_VARIABLES,
  rabbitmq: async () => (await import('./rabbitmq/variables.js')).RABBITMQ_VARIABLES,
  cron: async () => (await import('./cron/variables.js')).CRON_VARIABLES,
};

async function sourceHelp(source: Source): Promise<string> {
  return `usage: kurier dispatch ${source}\n  configured only by environment variables:\n\n${
    formatVariables(`${source} variables:`, await VARIABLE_LOADERS[source]())}\n${formatVariables('variables of every dispatcher:', COMMON_VARIABLES)}`;
}

async function loadSource(source: Source): Promise<SourceModule<unknown> | string> {
  let loaded: unknown;
  try {
    loaded = await SOURCE_LOADERS[source]();
  } catch (error) {
    return `the ${source} dispatcher could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
  }
  const candidate = (loaded as { sourceModule?: unknown }).sourceModule;
  return isSourceModule(candidate) ? candidate : `dispatchers/${source}/index does not export a sourceModule`;
}

/** `kurier dispatch <source>`: exit code 0 ok, 1 failure, 2 usage. The only reader of process.env. */
export function runDispatch(args: readonly string[]): Promise<number> {
  return runDispatchWith(args, process.env);
}

/** `kurier dispatch <source>` configured by `env` instead of this process's environment (`kurier run`). */
export async function runDispatchWith(args: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const [source, ...rest] = args;
  if (source === '-h' || source === '--help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (source !== undefined && isSource(source) && rest.length === 1 && (rest[0] === '-h' || rest[0] === '--help')) {
    process.stdout.write(await sourceHelp(source));
    return 0;
  }
  if (source === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (!isSource(source) || rest.length > 0) {
    const problem = isSource(source) ? `unexpected argument ${rest[0] ?? ''}` : `unknown source "${source}"`;
    process.stderr.write(`kurier dispatch: ${problem} (run "kurier dispatch --help" for usage)\n`);
    return 2;
  }
  const module = await loadSource(source);
  if (typeof module === 'string') {
    process.stderr.write(`kurier dispatch ${source}: ${module}\n`);
    return 1;
  }
  return runDispatcher({
    source,
    module,
    env,
    variables: await VARIABLE_LOADERS[source](),
    writeError: (line) => process.stderr.write(`${line}\n`),
    onSignal: (handler) => {
      process.on('SIGTERM', handler);
      process.on('SIGINT', handler);
      return () => {
        process.off('SIGTERM', handler);
        process.off('SIGINT', handler);
      };
    },
  });
}
