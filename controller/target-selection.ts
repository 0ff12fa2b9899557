/**
 * Which Services a `spec.functionSelector` chooses, and at which port: pure, so the controller, its
 * tests and the docs agree on one rule. Port: the one named `http`, else the only one; a Service
 * with several ports and none named `http` is left out (its owner names one `http`).
 */
import { serviceUrl, type FunctionTarget } from '../render/function-targets.js';
import { MAX_TARGET_NAMES, type LabelSelector, type TargetsStatus } from '../render/trigger.js';

/** The parts of a core/v1 Service the selection reads. */
export interface ServiceLike {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: { ports?: readonly { name?: string; port?: number; protocol?: string }[] };
}

/** A matching Service that could not be used, with its ports as `name:port`. */
export interface LeftOut {
  readonly name: string;
  readonly ports: readonly string[];
}

export interface Selection {
  /** Sorted by name. */
  readonly targets: readonly FunctionTarget[];
  /** Sorted by name. */
  readonly leftOut: readonly LeftOut[];
}

/** True when `labels` meet every requirement of `selector` (metav1.LabelSelector semantics). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(labels, key);
    const ok =
      operator === 'In' ? present && values.includes(labels[key] ?? '')
      : operator === 'NotIn' ? !present || !values.includes(labels[key] ?? '')
      : operator === 'Exists' ? present
      : !present;
    if (!ok) return false;
  }
  return true;
}

/** `app=orders,tier in (a,b),!legacy`: the selector as kubectl writes one, for messages. */
export function selectorText(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    if (operator === 'In') parts.push(`${key} in (${values.join(',')})`);
    else if (operator === 'NotIn') parts.push(`${key} notin (${values.join(',')})`);
    else parts.push(operator === 'Exists' ? key : `!${key}`);
  }
  return parts.join(',');
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The port to deliver to: the one named http, else the only one, else none. */
function chosenPort(service: ServiceLike): number | undefined {
  const ports = (service.spec?.ports ?? []).filter((p) => typeof p.port === 'number' && (p.protocol ?? 'TCP') === 'TCP');
  const named = ports.find((p) => p.name === 'http');
  if (named !== undefined) return named.port;
  return ports.length === 1 ? ports[0]?.port : undefined;
}

/** The Services of `namespace` that `selector` chooses, as targets, and those left out for want of a port. */
export function selectTargets(services: readonly ServiceLike[], selector: LabelSelector, namespace: string): Selection {
  const targets: FunctionTarget[] = [];
  const leftOut: LeftOut[] = [];
  for (const service of services) {
    if ((service.metadata.namespace ?? namespace) !== namespace) continue;
    if (!selectorMatches(selector, service.metadata.labels ?? {})) continue;
    const port = chosenPort(service);
    if (port === undefined) {
      const ports = (service.spec?.ports ?? []).map((p) => `${p.name ?? ''}:${String(p.port)}${(p.protocol ?? 'TCP') === 'TCP' ? '' : `/${p.protocol ?? ''}`}`);
      leftOut.push({ name: service.metadata.name, ports });
    } else {
      targets.push({ name: service.metadata.name, url: serviceUrl(service.metadata.name, namespace, port) });
    }
  }
  return { targets: targets.sort(byName), leftOut: leftOut.sort(byName) };
}

/** `status.targets`: the count, the first names, and whether the list was cut. */
export function targetsStatus(selection: Selection): TargetsStatus {
  const names = selection.targets.map((t) => t.name);
  const status: TargetsStatus = { count: names.length, names: names.slice(0, MAX_TARGET_NAMES) };
  if (names.length > MAX_TARGET_NAMES) status.truncated = true;
  return status;
}

/** What a person reads about Services left out: which, with which ports, and what to do. */
export function leftOutMessage(leftOut: readonly LeftOut[]): string {
  const list = leftOut.map((s) => `${s.name} (ports ${s.ports.length === 0 ? 'none' : s.ports.join(', ')})`).join('; ');
  return `Services left out, no port to choose: ${list}; name one port http (or give the Service a single port)`;
}
