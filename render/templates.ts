import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isObject } from './merge.js';
import { parsePolicy, PolicyError, type OverridePolicy } from './policy-settings.js';
import type { JsonObject } from './trigger.js';

/** One trigger kind, learned from `templates/<source>/`. */
export interface KindTemplate {
  readonly kind: string;
  readonly source: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  /** The kubeless `event-namespace` header value for this kind. */
  readonly eventNamespace: string;
  /** Default values of `spec.<source>` fields, with `{name}` and `{namespace}` placeholders. */
  readonly defaults: Readonly<Record<string, SourceDefault>>;
  /** Extra controller-owned variables, with `{name}`, `{namespace}` and `{functionUrl}` placeholders. */
  readonly env: readonly { readonly name: string; readonly value: string }[];
  /** Exactly one pod, replaced with Recreate (e.g. cron: one firing per tick). */
  readonly singleton: boolean;
  /** The dispatcher container template. */
  readonly container: JsonObject;
}

/** A default for a source field; `unless` names a sibling field whose presence cancels it. */
export interface SourceDefault {
  readonly value: string;
  readonly unless?: string;
}

export { DEFAULT_POLICY, type OverridePolicy } from './policy-settings.js';

/** Everything render needs from `templates/`. */
export interface Templates {
  readonly deployment: JsonObject;
  readonly policy: OverridePolicy;
  /** Keyed by kind, e.g. `KafkaTrigger`. */
  readonly kinds: ReadonlyMap<string, KindTemplate>;
}

/** A template file that is missing or malformed; the message names the file and field. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

async function readYamlObject(file: string, optional = false): Promise<JsonObject | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TemplateError(`${file}: cannot read`, { cause: err });
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new TemplateError(`${file}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (value === null && optional) return {};
  if (!isObject(value)) throw new TemplateError(`${file}: must be a YAML mapping`);
  return value;
}

function requireString(doc: JsonObject, field: string, file: string): string {
  const value = doc[field];
  if (typeof value !== 'string' || value === '') throw new TemplateError(`${file}: ${field} must be a non-empty string`);
  return value;
}

function stringList(doc: JsonObject, field: string, file: string): string[] {
  const value = doc[field] ?? [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new TemplateError(`${file}: ${field} must be a list of strings`);
  }
  return value;
}

function defaultsMap(doc: JsonObject, file: string): Record<string, SourceDefault> {
  const value = doc['defaults'] ?? {};
  if (!isObject(value)) throw new TemplateError(`${file}: defaults must map field names to values`);
  const out: Record<string, SourceDefault> = {};
  for (const [field, entry] of Object.entries(value)) {
    if (typeof entry === 'string') out[field] = { value: entry };
    else if (isObject(entry) && typeof entry['value'] === 'string' && (entry['unless'] === undefined || typeof entry['unless'] === 'string')) {
      out[field] = typeof entry['unless'] === 'string' ? { value: entry['value'], unless: entry['unless'] } : { value: entry['value'] };
    } else throw new TemplateError(`${file}: defaults.${field} must be a string or {value, unless}`);
  }
  return out;
}

function envList(doc: JsonObject, file: string): { name: string; value: string }[] {
  const value = doc['env'] ?? [];
  if (!Array.isArray(value)) throw new TemplateError(`${file}: env must be a list`);
  return value.map((item, index) => {
    if (!isObject(item) || typeof item['name'] !== 'string' || typeof item['value'] !== 'string') {
      throw new TemplateError(`${file}: env[${index}] must have string name and value`);
    }
    return { name: item['name'], value: item['value'] };
  });
}

async function loadKind(dir: string, source: string): Promise<KindTemplate> {
  const kindFile = join(dir, source, 'kind.yaml');
  const containerFile = join(dir, source, 'container.yaml');
  const meta = (await readYamlObject(kindFile)) ?? {};
  const container = (await readYamlObject(containerFile)) ?? {};
  const declaredSource = requireString(meta, 'source', kindFile);
  if (declaredSource !== source) {
    throw new TemplateError(`${kindFile}: source "${declaredSource}" must match its folder "${source}"`);
  }
  if (container['name'] !== undefined && container['name'] !== 'dispatcher') {
    throw new TemplateError(`${containerFile}: name must be "dispatcher" (or omitted)`);
  }
  return Object.freeze({
    kind: requireString(meta, 'kind', kindFile),
    source,
    plural: requireString(meta, 'plural', kindFile),
    shortNames: stringList(meta, 'shortNames', kindFile),
    eventNamespace: requireString(meta, 'eventNamespace', kindFile),
    defaults: defaultsMap(meta, kindFile),
    env: envList(meta, kindFile),
    singleton: meta['singleton'] === true,
    container: { ...container, name: 'dispatcher' },
  });
}

/**
 * The folder to read: a kubelet-mounted ConfigMap (`..data` → `..<timestamp>/`, one symlink per
 * entry) is read through the resolved `..data`, so one load sees one version even while the kubelet
 * swaps in another; a plain folder is read as it is.
 */
async function snapshotDir(dir: string): Promise<string> {
  try {
    return await realpath(join(dir, '..data'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return dir;
    throw new TemplateError(`${join(dir, '..data')}: cannot resolve`, { cause: err });
  }
}

async function kindFolders(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new TemplateError(`${dir}: cannot read the templates folder`, { cause: err });
  }
  const folders: string[] = [];
  // Hidden entries are the kubelet's bookkeeping (`..data`, `..2026_01_01_…`), never kinds;
  // stat (not the dirent type) follows the symlinks a ConfigMap mount is made of.
  for (const name of entries.filter((entry) => !entry.startsWith('.')).sort()) {
    let isFolder: boolean;
    try {
      isFolder = (await stat(join(dir, name))).isDirectory();
    } catch (err) {
      throw new TemplateError(`${join(dir, name)}: cannot read`, { cause: err });
    }
    if (isFolder) folders.push(name);
  }
  return folders;
}

async function loadFrom(dir: string): Promise<Templates> {
  const deploymentFile = join(dir, 'deployment.yaml');
  const policyFile = join(dir, 'policy.yaml');
  const deployment = (await readYamlObject(deploymentFile)) ?? {};
  let policy: OverridePolicy;
  try {
    policy = parsePolicy(await readYamlObject(policyFile, true), policyFile);
  } catch (err) {
    throw err instanceof PolicyError ? new TemplateError(err.message, { cause: err }) : err;
  }
  const kinds = new Map<string, KindTemplate>();
  for (const source of await kindFolders(dir)) {
    const kind = await loadKind(dir, source);
    if (kinds.has(kind.kind)) throw new TemplateError(`${join(dir, source)}: kind ${kind.kind} is defined twice`);
    kinds.set(kind.kind, kind);
  }
  if (kinds.size === 0) throw new TemplateError(`${dir}: no kinds found (expected <source>/kind.yaml folders)`);
  return Object.freeze({ deployment, policy, kinds });
}

/**
 * Reads `deployment.yaml`, the optional `policy.yaml` and one `<source>/{kind,container}.yaml`
 * per kind: adding a kind is adding a folder. `dir` may be a plain folder or a ConfigMap mounted
 * by the kubelet.
 */
export async function loadTemplates(dir: string): Promise<Templates> {
  // The kubelet deletes the previous `..<timestamp>/` right after the swap: a load that raced it
  // finds its files gone, and the next one reads the new version whole.
  for (let attempt = 1; ; attempt++) {
    const snapshot = await snapshotDir(dir);
    try {
      return await loadFrom(snapshot);
    } catch (err) {
      const vanished = snapshot !== dir && err instanceof TemplateError && (await snapshotDir(dir)) !== snapshot;
      if (!vanished || attempt >= 3) throw err;
    }
  }
}
