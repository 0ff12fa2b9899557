/** Secrets for `kurier run`: the values a cluster would hold, given on the command line or in a file. */
import { readFile } from 'node:fs/promises';
import { parseKubectlYaml } from './kubectl-yaml.js';
import { InputError, UsageError } from './input.js';

/** Secret name → key → value. */
export type LocalSecrets = Map<string, Map<string, string>>;

function put(secrets: LocalSecrets, name: string, key: string, value: string): void {
  const keys = secrets.get(name) ?? new Map<string, string>();
  keys.set(key, value);
  secrets.set(name, keys);
}

/** `--secret NAME/KEY=VALUE`: the value is everything after the first `=`. */
export function parseSecretFlag(flag: string, secrets: LocalSecrets): void {
  const match = /^([^/=]+)\/([^=]+)=([\s\S]*)$/.exec(flag);
  if (match === null) throw new UsageError(`--secret ${JSON.stringify(flag)}: write NAME/KEY=VALUE, e.g. --secret nats-auth/password=s3cr3t`);
  const [, name = '', key = '', value = ''] = match;
  put(secrets, name, key, value);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `--secrets-file FILE`: Kubernetes Secret manifests (`data` base64, `stringData` plain), or one
 * plain mapping `NAME: { KEY: VALUE }`. Several YAML documents may be mixed.
 */
export async function readSecretsFile(file: string, secrets: LocalSecrets): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`--secrets-file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { cause: err });
  }
  for (const document of parseKubectlYaml(text)) {
    const [error] = document.errors;
    if (error !== undefined) throw new InputError(`${file}:${error.line}:${error.column}: not valid YAML: ${error.message}`);
    const value = document.value;
    if (value === undefined || value === null) continue;
    if (!isRecord(value)) throw new InputError(`${file}: document ${document.index} is not a mapping`);
    if (value['kind'] === 'Secret') {
      const name = isRecord(value['metadata']) ? value['metadata']['name'] : undefined;
      if (typeof name !== 'string') throw new InputError(`${file}: document ${document.index}: a Secret needs metadata.name`);
      for (const [key, encoded] of Object.entries(isRecord(value['data']) ? value['data'] : {})) put(secrets, name, key, Buffer.from(String(encoded), 'base64').toString('utf8'));
      for (const [key, plain] of Object.entries(isRecord(value['stringData']) ? value['stringData'] : {})) put(secrets, name, key, String(plain));
      continue;
    }
    for (const [name, keys] of Object.entries(value)) {
      if (!isRecord(keys)) throw new InputError(`${file}: ${name}: expected KEY: VALUE pairs under the Secret name`);
      for (const [key, plain] of Object.entries(keys)) put(secrets, name, key, String(plain));
    }
  }
}
