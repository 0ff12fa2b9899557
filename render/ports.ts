/** The dispatcher's metrics port and what depends on it: METRICS_PORT, the scrape annotation, host networking. */
import { isObject } from './merge.js';
import type { JsonObject } from './trigger.js';

export const METRICS_PORT_NAME = 'metrics';
export const DEFAULT_METRICS_PORT = 9090;
const PROMETHEUS_PORT = 'prometheus.io/port';

function child(parent: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = parent?.[key];
  return isObject(value) ? value : undefined;
}

function podTemplateOf(deployment: JsonObject): JsonObject | undefined {
  return child(child(deployment, 'spec'), 'template');
}

/**
 * Settles the dispatcher container's metrics port and returns it. Ports merge by `containerPort`,
 * so an override that moves the port named `metrics` (e.g. to 9191) leaves the template's 9090
 * beside it under the same name, which the API server refuses: the port named `metrics` that came
 * last (the override's) is kept, the others of that name are dropped.
 */
export function settleMetricsPort(dispatcher: JsonObject): number {
  const ports = Array.isArray(dispatcher['ports']) ? dispatcher['ports'] : [];
  const named = ports.filter((port): port is JsonObject => isObject(port) && port['name'] === METRICS_PORT_NAME);
  const chosen = named.at(-1);
  if (named.length > 1) dispatcher['ports'] = ports.filter((port) => !named.includes(port as JsonObject) || port === chosen);
  const port = chosen?.['containerPort'];
  return typeof port === 'number' ? port : DEFAULT_METRICS_PORT;
}

/**
 * Points `prometheus.io/port` at the metrics port actually used, unless the trigger's override sets
 * that annotation itself (e.g. for an exporter sidecar).
 */
export function annotateMetricsPort(deployment: JsonObject, override: JsonObject, metricsPort: number): void {
  const template = podTemplateOf(deployment);
  if (template === undefined) return;
  const annotations = child(child(podTemplateOf(override), 'metadata'), 'annotations');
  if (annotations?.[PROMETHEUS_PORT] !== undefined) return;
  const metadata = child(template, 'metadata') ?? {};
  const current = child(metadata, 'annotations');
  if (current === undefined || current[PROMETHEUS_PORT] === undefined) return;
  metadata['annotations'] = { ...current, [PROMETHEUS_PORT]: String(metricsPort) };
  template['metadata'] = metadata;
}

/**
 * With `hostNetwork` (where an admin allows it) every container port is a port of the node, so a
 * second pod of the same Deployment can never run on that node: a surge rollout (maxSurge 1,
 * maxUnavailable 0) would wait forever for its new pod. Such a Deployment replaces pods one at a
 * time instead (maxSurge 0, maxUnavailable 1), and its pods resolve cluster DNS names
 * (ClusterFirstWithHostNet), unless the override chose a strategy or dnsPolicy itself.
 */
export function fitHostNetwork(deployment: JsonObject, override: JsonObject): void {
  const spec = child(deployment, 'spec');
  const podSpec = child(podTemplateOf(deployment), 'spec');
  if (spec === undefined || podSpec?.['hostNetwork'] !== true) return;
  const overrideSpec = child(override, 'spec');
  const overridePodSpec = child(podTemplateOf(override), 'spec');
  const strategy = child(spec, 'strategy');
  if (overrideSpec?.['strategy'] === undefined && strategy?.['type'] !== 'Recreate') {
    spec['strategy'] = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };
  }
  if (overridePodSpec?.['dnsPolicy'] === undefined) podSpec['dnsPolicy'] = 'ClusterFirstWithHostNet';
}
