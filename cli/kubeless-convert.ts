/**
 * Turns one kubeless trigger manifest into a Kurier trigger: which kinds are known, what of their
 * metadata is carried, and what each conversion could not map. Pure: the command (cli/convert.ts)
 * reads, judges and writes.
 */
import { API_VERSION } from '../render/trigger.js';
import type { FieldComment } from './kubectl-yaml-writer.js';
import { isObj, type ConvertOptions, type Note, type Obj, type Source } from './kubeless-source.js';
import { convertPulsarTrigger } from './kubeless-pulsar.js';
import { convertCronJobTrigger, convertKafkaTrigger, convertNatsTrigger } from './kubeless-triggers.js';

/** A converted trigger, its notes, and the comments its YAML carries (placeholders to fill in). */
export interface Conversion {
  readonly trigger: Obj;
  readonly notes: readonly Note[];
  readonly comments: readonly FieldComment[];
}

export type ConvertResult = { readonly converted: Conversion } | { readonly skipped: string };

type Converter = (source: Source, notes: Note[], comments: FieldComment[]) => { kind: string; spec: Obj };

/** kubeless.io kinds and the version each was written in. */
const KINDS: Readonly<Record<string, { version: string; convert: Converter }>> = {
  KafkaTrigger: { version: 'v1beta1', convert: convertKafkaTrigger },
  NATSTrigger: { version: 'v1beta1', convert: convertNatsTrigger },
  CronJobTrigger: { version: 'v1beta1', convert: convertCronJobTrigger },
  PulsarTrigger: { version: 'v1', convert: convertPulsarTrigger },
};

const SKIPPED_KUBELESS: Readonly<Record<string, string>> = {
  Function: 'a kubeless Function is not a trigger: Kurier calls it through the Service kubeless made for it (its first port is used for CronJobTriggers naming it)',
  HTTPTrigger: 'a kubeless HTTPTrigger is an Ingress to the function, not an event source: Kurier has no counterpart; keep or replace the Ingress',
  KinesisTrigger: 'a kubeless KinesisTrigger: Kurier has no Kinesis source',
};

// Set by the API server; an exported object (kubectl get -o yaml) carries them.
const SERVER_METADATA = new Set(['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function carriedMetadata(metadata: Obj, notes: Note[]): Obj {
  const out: Obj = {};
  for (const [field, value] of Object.entries(metadata)) {
    if (SERVER_METADATA.has(field)) continue;
    if (field === 'ownerReferences' || field === 'finalizers') {
      notes.push({ path: `metadata.${field}`, message: 'not carried over: it names kubeless objects and controllers, not Kurier ones' });
      continue;
    }
    if (field === 'annotations' && isObj(value)) {
      const { [LAST_APPLIED]: _lastApplied, ...rest } = value;
      if (Object.keys(rest).length > 0) out[field] = rest;
      continue;
    }
    out[field] = value;
  }
  return out;
}

/**
 * Converts one document as kubectl read it. kubeless.io KafkaTrigger, NATSTrigger, CronJobTrigger
 * and PulsarTrigger are converted; anything else is skipped with the reason.
 */
export function convertKubeless(value: unknown, options: ConvertOptions): ConvertResult {
  if (!isObj(value)) return { skipped: 'not a Kubernetes object (no mapping at the top level)' };
  const { apiVersion, kind } = value;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return { skipped: 'not a Kubernetes object (apiVersion or kind missing)' };
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'kurier.dev') return { skipped: `already a Kurier trigger (${apiVersion}); nothing to convert` };
  if (group !== 'kubeless.io') return { skipped: `${apiVersion} ${kind} is not a kubeless trigger; kurier convert reads kubeless.io KafkaTrigger, NATSTrigger, CronJobTrigger and PulsarTrigger` };
  const known = KINDS[kind];
  if (known === undefined) return { skipped: SKIPPED_KUBELESS[kind] ?? `kubeless ${kind} is not a kind kurier convert knows (KafkaTrigger, NATSTrigger, CronJobTrigger, PulsarTrigger)` };

  const notes: Note[] = [];
  const comments: FieldComment[] = [];
  if (version !== known.version) notes.push({ path: 'apiVersion', message: `kubeless wrote ${kind} as kubeless.io/${known.version}; read ${apiVersion} as that version` });
  const metadata = carriedMetadata(isObj(value['metadata']) ? value['metadata'] : {}, notes);
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : undefined;
  const spec = isObj(value['spec']) ? value['spec'] : {};
  const converted = known.convert({ metadata, namespace, spec, options }, notes, comments);
  return { converted: { trigger: { apiVersion: API_VERSION, kind: converted.kind, metadata, spec: converted.spec }, notes, comments } };
}
