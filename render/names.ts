import { createHash } from 'node:crypto';

const DNS_LABEL_MAX = 63;
const HASH_LENGTH = 8;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);
}

function trimToLabel(text: string, max: number): string {
  return text.slice(0, max).replace(/[^a-z0-9]+$/, '');
}

/**
 * The dispatcher Deployment's name: `<trigger>-<source>`, a valid DNS label, unique per trigger,
 * kind and (for a Deployment in another namespace) the trigger's namespace. Names that had to be
 * shortened or changed carry a hash of the full identity, so two triggers never share one.
 */
export function deploymentName(triggerName: string, source: string, triggerNamespace?: string): string {
  const identity = triggerNamespace === undefined ? triggerName : `${triggerNamespace}-${triggerName}`;
  const plain = `${identity}-${source}`;
  if (plain.length <= DNS_LABEL_MAX && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(plain)) return plain;
  const hash = shortHash(`${triggerNamespace ?? ''}/${triggerName}/${source}`);
  const room = DNS_LABEL_MAX - source.length - HASH_LENGTH - 2;
  const stem = trimToLabel(identity.toLowerCase().replace(/[^a-z0-9-]+/g, '-'), room);
  return `${stem === '' ? 'trigger' : stem}-${hash}-${source}`;
}

/** `text` as a label value (≤ 63 characters); long values keep a prefix and a hash of the whole. */
export function labelValue(text: string): string {
  if (text.length <= DNS_LABEL_MAX) return text;
  return `${trimToLabel(text, DNS_LABEL_MAX - HASH_LENGTH - 1)}-${shortHash(text)}`;
}
