/**
 * `kurier run`: one trigger's dispatcher on this machine, exactly as the controller would run it —
 * the trigger is judged and rendered as the controller renders it, and the dispatcher container's
 * arguments and environment start a local `kurier` process, with Secret references resolved from
 * `--secret` flags or a `--secrets-file`.
 */
import { stderr, stdout } from 'node:process';
import type { JsonObject, Trigger } from '../render/trigger.js';
import { judgeTrigger } from '../render/verdict.js';
import { ambiguityWarnings, describeDocument, describeSyntaxError, FILE_FLAG_ALIASES, InputError, parseArgs, readDocuments, UsageError } from './input.js';
import { parseSecretFlag, readSecretsFile, type LocalSecrets } from './local-secrets.js';
import { loadVerdictSettings, SettingsError } from './verdict-settings.js';

const USAGE = `usage: kurier run -f FILE [--function-url URL] [--secret NAME/KEY=VALUE …] [--secrets-file FILE] [--metrics-port N] [--templates DIR]

Runs the dispatcher of the one trigger in FILE on this machine, as the controller would run it in
the cluster: the trigger is validated and rendered, and the dispatcher container's arguments and
environment (only those) configure a dispatcher in this process. Ctrl-C (SIGINT) or SIGTERM drains
and stops it.

  -f, --filename FILE       the trigger (one YAML document; - for standard input)
  --function-url URL        send to this URL instead of spec.function (e.g. a function on localhost)
  --secret NAME/KEY=VALUE   the value of key KEY of Secret NAME, for every ...SecretRef; repeatable
  --secrets-file FILE       Secret manifests (data or stringData) or a mapping NAME: {KEY: VALUE}
  --metrics-port N          serve /healthz, /readyz and /metrics on N (default 0: any free port, logged; the pod uses the rendered 9090)
  --templates DIR           the dispatcher templates (default: the shipped templates/)
  -h, --help                this help

Exit codes: the dispatcher's (0 after a clean stop, 1 on a failure), 1 invalid trigger or missing secret, 2 usage.
`;

interface RunOptions {
  readonly file: string;
  readonly functionUrl: string | undefined;
  readonly secrets: LocalSecrets;
  readonly metricsPort: string | undefined;
  readonly templatesDir: string | undefined;
}

/** A trigger that cannot run: one line per problem, exit 1. */
class RunError extends Error {
  override readonly name = 'RunError';
}

async function parseOptions(args: readonly string[]): Promise<RunOptions | 'help'> {
  const parsed = parseArgs(args, ['-f', '--function-url', '--secret', '--secrets-file', '--metrics-port', '--templates'], [], FILE_FLAG_ALIASES);
  if (parsed.help) return 'help';
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
  const files = parsed.lists.get('-f') ?? [];
  if (files.length !== 1) throw new UsageError(files.length === 0 ? '-f FILE is required' : '-f takes one trigger file (run one dispatcher per kurier run)');
  const functionUrl = parsed.values.get('--function-url');
  if (functionUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(functionUrl)) throw new UsageError(`--function-url ${JSON.stringify(functionUrl)} is not an http:// or https:// URL`);
  const metricsPort = parsed.values.get('--metrics-port');
  if (metricsPort !== undefined && !(/^\d+$/.test(metricsPort) && Number(metricsPort) <= 65_535)) throw new UsageError(`--metrics-port ${JSON.stringify(metricsPort)} is not a port number`);
  const secrets: LocalSecrets = new Map();
  const secretsFile = parsed.values.get('--secrets-file');
  if (secretsFile !== undefined) await readSecretsFile(secretsFile, secrets);
  for (const flag of parsed.lists.get('--secret') ?? []) parseSecretFlag(flag, secrets);
  return { file: files[0] ?? '', functionUrl, secrets, metricsPort, templatesDir: parsed.values.get('--templates') };
}

/** The one trigger of the file and its Deployment, judged as `kurier validate` and the controller do; warnings go to stderr. */
async function judgedTrigger(file: string, templatesDir: string | undefined): Promise<{ trigger: Trigger; deployment: JsonObject }> {
  const documents = await readDocuments(file);
  if (documents.length !== 1) throw new RunError(`${file}: holds ${documents.length} YAML documents; kurier run takes a file with one trigger`);
  const [document] = documents;
  if (document === undefined) throw new RunError(`${file}: no trigger`);
  if (document.error !== undefined) throw new RunError(describeSyntaxError(document));
  for (const warning of ambiguityWarnings(document)) stderr.write(`${warning}\n`);
  const settings = await loadVerdictSettings(new Map(templatesDir === undefined ? [] : [['--templates', templatesDir]]), new Set());
  const verdict = judgeTrigger(document.value, settings);
  const lines = verdict.problems.map((problem) => `${describeDocument(document)}: ${problem.path === '' ? '' : `${problem.path}: `}${problem.severity === 'warning' ? 'warning: ' : ''}${problem.message}`);
  if (verdict.deployment === undefined) throw new RunError(lines.join('\n'));
  for (const line of lines) stderr.write(`${line}\n`);
  return { trigger: document.value as Trigger, deployment: verdict.deployment };
}

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean } } & JsonObject;
}

function dispatcherContainer(deployment: JsonObject): { args: string[]; command: unknown; env: EnvVar[]; envFrom: unknown } {
  const pod = ((deployment['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
  const container = (pod['containers'] as JsonObject[]).find((candidate) => candidate['name'] === 'dispatcher');
  if (container === undefined) throw new RunError('the rendered Deployment has no dispatcher container');
  return {
    args: (container['args'] ?? []) as string[],
    command: container['command'],
    env: (container['env'] ?? []) as unknown as EnvVar[],
    envFrom: container['envFrom'],
  };
}

/** The container's environment with every secretKeyRef resolved; names each missing Secret key at once. */
function resolveEnv(env: readonly EnvVar[], secrets: LocalSecrets): Record<string, string> {
  const resolved: Record<string, string> = {};
  const missing: string[] = [];
  for (const variable of env) {
    if (variable.value !== undefined) {
      resolved[variable.name] = variable.value;
      continue;
    }
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref === undefined) {
      if (variable.valueFrom !== undefined) throw new RunError(`${variable.name}: only value and valueFrom.secretKeyRef can be resolved on this machine (got ${Object.keys(variable.valueFrom).join(', ')})`);
      resolved[variable.name] = '';
      continue;
    }
    const value = secrets.get(ref.name)?.get(ref.key);
    if (value !== undefined) resolved[variable.name] = value;
    else if (ref.optional !== true) missing.push(`${variable.name} comes from key "${ref.key}" of Secret "${ref.name}", which was not given: pass --secret ${ref.name}/${ref.key}=VALUE or put it in --secrets-file`);
  }
  if (missing.length > 0) throw new RunError(missing.join('\n'));
  return resolved;
}

async function prepare(options: RunOptions): Promise<{ trigger: Trigger; args: string[]; env: Record<string, string> }> {
  const { trigger, deployment } = await judgedTrigger(options.file, options.templatesDir);
  const container = dispatcherContainer(deployment);
  if (container.command !== undefined || container.args[0] !== 'dispatch') {
    throw new RunError('the dispatcher container runs its own command (spec.deployment overrides it); kurier run runs only kurier\'s own dispatcher');
  }
  if (container.envFrom !== undefined) throw new RunError('the dispatcher container has envFrom, which kurier run cannot resolve; use env entries');
  const env = resolveEnv(container.env, options.secrets);
  if (options.functionUrl !== undefined) {
    env['FUNCTION_URL'] = options.functionUrl;
    if ('KUBELESS_FUNCTION' in env) env['KUBELESS_FUNCTION'] = options.functionUrl;
  }
  // On a developer's machine the pod's fixed port is often taken: any free port unless asked.
  env['METRICS_PORT'] = options.metricsPort ?? '0';
  return { trigger, args: container.args, env };
}

/**
 * Runs the dispatcher in this process, configured only by the rendered variables (as in the pod,
 * not this shell's environment), so Ctrl-C drains it and nothing outlives `kurier run`.
 */
async function runDispatcher(args: readonly string[], env: Record<string, string>): Promise<number> {
  const { runDispatchWith } = await import('../dispatchers/main.js');
  return runDispatchWith(args.slice(1), env);
}

/** `kurier run`: exit code of the dispatcher, 1 for a trigger that cannot run, 2 usage. */
export async function runTrigger(args: readonly string[]): Promise<number> {
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    const options = await parseOptions(args);
    if (options === 'help') {
      stdout.write(USAGE);
      return 0;
    }
    prepared = await prepare(options);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`kurier run: ${err.message} (run "kurier run --help" for usage)\n`);
      return 2;
    }
    if (err instanceof InputError || err instanceof SettingsError) {
      stderr.write(`kurier run: ${err.message}\n`);
      return 2;
    }
    if (err instanceof RunError) {
      stderr.write(`${err.message.split('\n').map((line) => `kurier run: ${line}`).join('\n')}\n`);
      return 1;
    }
    throw err;
  }
  const { trigger, args: dispatcherArgs, env } = prepared;
  stderr.write(`kurier run: ${trigger.kind} ${trigger.metadata.namespace ?? 'default'}/${trigger.metadata.name} → kurier ${dispatcherArgs.join(' ')} with ${Object.keys(env).length} variables as rendered, sending to ${env['FUNCTION_URL'] ?? env['KUBELESS_FUNCTION'] ?? '?'}\n`);
  return runDispatcher(dispatcherArgs, env);
}
