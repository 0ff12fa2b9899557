import { stableStringify } from './patch.js';
import type { StatusCause } from './errors.js';
import type { KObj } from './store.js';

type M = Record<string, unknown>;
const isMap = (v: unknown): v is M => v !== null && typeof v === 'object' && !Array.isArray(v);
const mapAt = (o: M, k: string): M => {
  if (!isMap(o[k])) o[k] = {};
  return o[k] as M;
};

function defaultProbe(p: unknown): void {
  if (!isMap(p)) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (isMap(p.httpGet)) p.httpGet.scheme ??= 'HTTP';
}

function defaultContainer(c: unknown): void {
  if (!isMap(c)) return;
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.imagePullPolicy === undefined && typeof c.image === 'string') {
    const tag = /:([^/:@]+)$/.exec(c.image.split('@')[0] ?? '')?.[1];
    c.imagePullPolicy = c.image.includes('@') || (tag !== undefined && tag !== 'latest') ? 'IfNotPresent' : 'Always';
  }
  c.resources ??= {};
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isMap(p)) p.protocol ??= 'TCP';
  if (Array.isArray(c.env)) {
    for (const e of c.env) {
      if (isMap(e) && isMap(e.valueFrom) && isMap(e.valueFrom.fieldRef)) e.valueFrom.fieldRef.apiVersion ??= 'v1';
    }
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

/** The defaults the API server fills into a PodTemplateSpec (the ones a drift check would trip over). */
function defaultPodSpec(spec: M): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const list of [spec.containers, spec.initContainers]) if (Array.isArray(list)) list.forEach(defaultContainer);
  if (Array.isArray(spec.volumes)) {
    for (const v of spec.volumes) {
      if (!isMap(v)) continue;
      if (isMap(v.secret)) v.secret.defaultMode ??= 420;
      if (isMap(v.configMap)) v.configMap.defaultMode ??= 420;
      if (isMap(v.projected)) v.projected.defaultMode ??= 420;
    }
  }
}

/** apps/v1 Deployment defaulting, as kube-apiserver's SetDefaults_Deployment does. */
export function defaultDeployment(obj: KObj): void {
  const spec = mapAt(obj, 'spec');
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  const strategy = mapAt(spec, 'strategy');
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = mapAt(strategy, 'rollingUpdate');
    ru.maxUnavailable ??= '25%';
    ru.maxSurge ??= '25%';
  }
  const template = mapAt(spec, 'template');
  defaultPodSpec(mapAt(template, 'spec'));
}

function matchesSelector(selector: M, labels: M): boolean {
  const ml = isMap(selector.matchLabels) ? selector.matchLabels : {};
  for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false;
  const exprs = Array.isArray(selector.matchExpressions) ? (selector.matchExpressions as M[]) : [];
  for (const e of exprs) {
    const key = String(e.key);
    const values = Array.isArray(e.values) ? (e.values as string[]) : [];
    const has = Object.hasOwn(labels, key);
    const ok =
      e.operator === 'In' ? has && values.includes(String(labels[key])) :
      e.operator === 'NotIn' ? !has || !values.includes(String(labels[key])) :
      e.operator === 'Exists' ? has :
      e.operator === 'DoesNotExist' ? !has : false;
    if (!ok) return false;
  }
  return true;
}

const goMap = (m: M): string => `map[string]string{${Object.entries(m).map(([k, v]) => `"${k}":"${String(v)}"`).join(', ')}}`;

/** apps/v1 Deployment validation: the checks a controller can trip over. */
export function validateDeployment(obj: KObj, old: KObj | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = isMap(obj.spec) ? obj.spec : {};
  const selector = spec.selector;
  const template = isMap(spec.template) ? spec.template : {};
  const tmeta = isMap(template.metadata) ? template.metadata : {};
  const labels = isMap(tmeta.labels) ? tmeta.labels : {};
  if (!isMap(selector)) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' });
  else {
    const empty = !isMap(selector.matchLabels) && !Array.isArray(selector.matchExpressions);
    if (empty) causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment', field: 'spec.selector' });
    else if (!matchesSelector(selector, labels)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${goMap(labels)}: \`selector\` does not match template \`labels\``, field: 'spec.template.metadata.labels' });
    if (old && isMap(old.spec) && stableStringify(old.spec.selector) !== stableStringify(selector)) {
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(selector)}: field is immutable`, field: 'spec.selector' });
    }
  }
  if (typeof spec.replicas === 'number' && spec.replicas < 0) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${spec.replicas}: must be greater than or equal to 0`, field: 'spec.replicas' });
  const pod = isMap(template.spec) ? template.spec : {};
  const containers = Array.isArray(pod.containers) ? (pod.containers as unknown[]) : [];
  if (containers.length === 0) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers' });
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const cm = isMap(c) ? c : {};
    const f = `spec.template.spec.containers[${i}]`;
    if (typeof cm.name !== 'string' || cm.name === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `${f}.name` });
    else if (names.has(cm.name)) causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${cm.name}"`, field: `${f}.name` });
    else names.add(cm.name);
    if (typeof cm.image !== 'string' || cm.image === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `${f}.image` });
    const envNames = new Set<string>();
    if (Array.isArray(cm.env)) {
      (cm.env as unknown[]).forEach((e, j) => {
        const name = isMap(e) ? e.name : undefined;
        if (typeof name !== 'string' || name === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `${f}.env[${j}].name` });
        else envNames.add(name);
      });
    }
  });
  return causes;
}

/** core/v1 Secret: `stringData` is written into `data` (base64) and dropped; `type` defaults to Opaque. */
export function prepareSecret(obj: KObj): void {
  obj.type ??= 'Opaque';
  if (isMap(obj.stringData)) {
    const data = mapAt(obj, 'data');
    for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
    delete obj.stringData;
  }
}

const EVENT_RENAMES: readonly (readonly [string, string])[] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

/** core/v1 Event (the stored form) → events.k8s.io/v1 Event. */
export function eventToEventsV1(obj: KObj): KObj {
  const out: KObj = { ...obj, metadata: obj.metadata };
  for (const [core, v1] of EVENT_RENAMES) {
    delete out[core]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
    if (obj[core] !== undefined && obj[core] !== '' && obj[core] !== 0) out[v1] = obj[core];
  }
  return out;
}

/** events.k8s.io/v1 Event → core/v1 Event (the stored form). */
export function eventsV1ToEvent(obj: KObj): KObj {
  const out: KObj = { ...obj, metadata: obj.metadata };
  for (const [core, v1] of EVENT_RENAMES) {
    delete out[v1]; // eslint-disable-line @typescript-eslint/no-dynamic-delete
    if (obj[v1] !== undefined) out[core] = obj[v1];
  }
  return out;
}

/**
 * Event validation: an event lives in its object's namespace (both versions); events.k8s.io/v1 also
 * requires what the new API made mandatory.
 */
export function validateEvent(obj: KObj, eventsV1: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const ref = (eventsV1 ? obj.regarding : obj.involvedObject) as M | undefined;
  const refField = eventsV1 ? 'regarding' : 'involvedObject';
  const ns = obj.metadata.namespace;
  if (isMap(ref) && typeof ref.namespace === 'string' && ref.namespace !== '' && ref.namespace !== ns) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${ref.namespace}": does not match event.namespace`, field: `${refField}.namespace` });
  }
  if (obj.type !== undefined && obj.type !== 'Normal' && obj.type !== 'Warning' && eventsV1) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(obj.type)}: has invalid value: ${JSON.stringify(obj.type)}`, field: 'type' });
  }
  if (eventsV1) {
    for (const f of ['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']) {
      if (obj[f] === undefined || obj[f] === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: f });
    }
  }
  return causes;
}

/** core/v1 Service defaulting, as kube-apiserver does it for what a controller reads (type, port protocol and targetPort). */
export function defaultService(obj: KObj): void {
  const spec = mapAt(obj, 'spec');
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (Array.isArray(spec.ports)) {
    for (const p of spec.ports) {
      if (!isMap(p)) continue;
      p.protocol ??= 'TCP';
      p.targetPort ??= p.port;
    }
  }
}

/** core/v1 Service validation: ports need a number, unique names, and a name each when there are several. */
export function validateService(obj: KObj): StatusCause[] {
  const spec = isMap((obj as unknown as M).spec) ? ((obj as unknown as M).spec as M) : {};
  const ports = Array.isArray(spec.ports) ? spec.ports.filter(isMap) : [];
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const field = `spec.ports[${i}]`;
    if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(p.port ?? null)}: must be between 1 and 65535, inclusive`, field: `${field}.port` });
    const name = typeof p.name === 'string' ? p.name : '';
    if (ports.length > 1 && name === '') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `${field}.name` });
    if (name !== '' && names.has(name)) causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${name}"`, field: `${field}.name` });
    names.add(name);
  });
  if (ports.length === 0 && spec.type !== 'ExternalName' && spec.clusterIP !== 'None') causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ports' });
  return causes;
}
