/**
 * `validateTrigger`: a trigger checked against its CRD schema (closed objects) and then semantically —
 * what a schema cannot say: URLs, durations, cron and time zones, topic and subject syntax, field pairs.
 */
import { validate as isCronExpression, validateDetailed as explainCron } from 'node-cron';
import { durationTooLong, parseDuration } from '../common/duration.js';
import { isTimeZone } from '../common/time-zone.js';
import {
  jetStreamNameProblem, kafkaBrokerProblem, kafkaTopicProblem, natsSubjectProblem, PULSAR_NAME, pulsarTopicProblem, rabbitQueueProblem,
} from '../common/source-names.js';
import { checkSchema, schemaFor, type KindSchema, type Problem, type TriggerSchemas } from './schema.js';

export type { Problem, TriggerSchemas } from './schema.js';
export { loadSchemas, parseSchemas } from './schema.js';

type Obj = Record<string, unknown>;

const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const asObj = (value: unknown): Obj | undefined => (isObj(value) ? value : undefined);
const has = (obj: Obj | undefined, key: string): boolean => obj !== undefined && obj[key] !== undefined && obj[key] !== null;
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const show = (value: unknown): string => (value === undefined ? 'undefined' : JSON.stringify(value));

/** Collects problems; a check only reports on values of the type it understands (the schema reports the rest). */
class Report {
  readonly problems: Problem[] = [];
  error(path: string, message: string): void {
    this.problems.push({ path, message, severity: 'error' });
  }
  warn(path: string, message: string): void {
    this.problems.push({ path, message, severity: 'warning' });
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkMetadata(doc: Obj, report: Report): void {
  const metadata = asObj(doc.metadata);
  if (metadata === undefined) {
    if (doc.metadata === undefined) report.error('metadata.name', 'required field is missing');
    return;
  }
  const name = metadata.name;
  if (name === undefined) report.error('metadata.name', 'required field is missing');
  else if (typeof name !== 'string') report.error('metadata.name', 'must be a string');
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    report.error('metadata.name', `${show(name)} is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters`);
  }
  const namespace = metadata.namespace;
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace.length > 63 || !DNS_LABEL.test(namespace))) {
    report.error('metadata.namespace', `${show(namespace)} is not a valid namespace: lower-case letters, digits and '-', at most 63 characters`);
  }
}

/** Reports `value` at `path` unless it is an absolute URL with one of `protocols`; returns the parsed URL. */
function checkUrl(path: string, value: unknown, protocols: readonly string[], report: Report, hint = ''): URL | undefined {
  if (typeof value !== 'string') return undefined;
  const expected = `must be an absolute ${protocols.map((p) => `${p}//`).join(' or ')} URL${hint}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    report.error(path, `${expected} (got ${show(value)})`);
    return undefined;
  }
  if (!protocols.includes(url.protocol) || url.hostname === '') {
    report.error(path, `${expected} (got ${show(value)})`);
    return undefined;
  }
  return url;
}

function checkDuration(path: string, value: unknown, report: Report, options: { positive?: boolean } = {}): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    report.error(path, `${show(value)} is not a duration: give it a unit, like ${value}s or ${value}ms`);
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) {
    report.error(path, `${show(value)} is not a duration: write it like 500ms, 30s, 5m or 1h30m`);
    return undefined;
  }
  if (options.positive === true && ms <= 0) report.error(path, 'must be greater than 0');
  const tooLong = durationTooLong(ms);
  if (tooLong !== undefined) {
    report.error(path, `${show(value)} ${tooLong}`);
    return undefined;
  }
  return ms;
}

/** `spec.kubeless`: the function's URL (1.0), or its name with namespace/port/scheme (before 1.0). */
function checkKubelessFunction(kubeless: Obj | undefined, report: Report): void {
  if (kubeless !== undefined && (has(kubeless, 'namespace') || has(kubeless, 'port'))) {
    const name = kubeless.function;
    if (typeof name === 'string' && (name.length > 63 || !DNS_LABEL.test(name))) {
      report.error('spec.kubeless.function', `${show(name)} is not a function name: with spec.kubeless.namespace or port (the form before kubeless-pulsar-trigger 1.0) give the name, e.g. myfunction, or drop them and give the URL`);
    }
    if (has(kubeless, 'scheme') && has(kubeless, 'schema') && kubeless.scheme !== kubeless.schema) {
      report.error('spec.kubeless.schema', `contradicts spec.kubeless.scheme (${show(kubeless.scheme)}): give one of them`);
    }
  } else {
    checkUrl('spec.kubeless.function', kubeless?.function, ['http:', 'https:'], report, ', the function as kubeless-pulsar-trigger 1.0 takes it, e.g. http://myfunction.default:8080 (or, as before 1.0, a name with spec.kubeless.namespace and port)');
    for (const field of ['scheme', 'schema']) {
      if (kubeless !== undefined && has(kubeless, field)) report.error(`spec.kubeless.${field}`, 'applies only to a function given by name with spec.kubeless.namespace or port');
    }
  }
}

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** A label key as Kubernetes takes it: an optional DNS-subdomain prefix and `/`, then a name. */
function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'its prefix (before /) must be a DNS subdomain';
  if (name.length > 63 || !LABEL_NAME.test(name)) return "its name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  return undefined;
}

/** `spec.functionSelector`: a label selector with something in it, each requirement well formed. */
function checkFunctionSelector(selector: Obj, report: Report): void {
  const labels = asObj(selector.matchLabels) ?? {};
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  if (Object.keys(labels).length === 0 && expressions.length === 0) {
    report.error('spec.functionSelector', 'give matchLabels or matchExpressions: an empty selector would choose every Service in the namespace');
  }
  for (const [key, value] of Object.entries(labels)) {
    const problem = labelKeyProblem(key);
    if (problem !== undefined) report.error(`spec.functionSelector.matchLabels.${key}`, `${show(key)} is not a label key: ${problem}`);
    if (typeof value === 'string' && !LABEL_VALUE.test(value)) report.error(`spec.functionSelector.matchLabels.${key}`, `${show(value)} is not a label value`);
  }
  expressions.forEach((expression, index) => {
    const e = asObj(expression);
    if (e === undefined) return;
    const path = `spec.functionSelector.matchExpressions[${index}]`;
    if (typeof e.key === 'string' && e.key !== '') {
      const problem = labelKeyProblem(e.key);
      if (problem !== undefined) report.error(`${path}.key`, `${show(e.key)} is not a label key: ${problem}`);
    }
    const values = Array.isArray(e.values) ? e.values : [];
    if ((e.operator === 'In' || e.operator === 'NotIn') && values.length === 0) report.error(`${path}.values`, `${e.operator} needs at least one value`);
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && values.length > 0) report.error(`${path}.values`, `${e.operator} takes no values`);
    values.forEach((value, i) => {
      if (typeof value === 'string' && !LABEL_VALUE.test(value)) report.error(`${path}.values[${i}]`, `${show(value)} is not a label value`);
    });
  });
}

function checkFunction(spec: Obj, kind: KindSchema, report: Report): void {
  const fn = asObj(spec.function);
  const kubeless = asObj(spec.kubeless);
  const selector = asObj(spec.functionSelector);
  const given = [spec.function !== undefined, spec.functionSelector !== undefined, kind.source === 'pulsar' && kubeless !== undefined].filter(Boolean).length;
  const others = kind.source === 'pulsar' ? 'spec.function, spec.functionSelector or spec.kubeless.function' : 'spec.function or spec.functionSelector';
  if (given === 0) {
    report.error('spec.function', `required field is missing: give exactly one of ${others}${kind.source === 'pulsar' ? ' (the kubeless-pulsar-trigger form)' : ''}`);
  } else if (given > 1) {
    report.error(spec.functionSelector !== undefined ? 'spec.functionSelector' : 'spec.kubeless.function', `set exactly one of ${others}, not several`);
  }
  if (kind.source === 'pulsar') checkKubelessFunction(kubeless, report);
  if (selector !== undefined) checkFunctionSelector(selector, report);
  if (fn === undefined) return;
  if (has(fn, 'url') === has(fn, 'service')) {
    report.error('spec.function', `set exactly one of url or service (${has(fn, 'url') ? 'both are set' : 'neither is set'})`);
  }
  checkUrl('spec.function.url', fn.url, ['http:', 'https:'], report);
  const service = asObj(fn.service);
  if (service === undefined) return;
  for (const key of ['name', 'namespace']) {
    const value = service[key];
    if (typeof value === 'string' && (value.length > 63 || !DNS_LABEL.test(value))) {
      report.error(`spec.function.service.${key}`, `${show(value)} is not a valid ${key}: lower-case letters, digits and '-', at most 63 characters`);
    }
  }
  if (typeof service.path === 'string' && !service.path.startsWith('/')) {
    report.error('spec.function.service.path', `must start with "/" (got ${show(service.path)})`);
  }
}

const RETRY_WORDS = new Set(['network', 'timeout', 'tls', '4xx', '5xx']);

function checkRetryWhen(value: unknown, report: Report): void {
  if (!Array.isArray(value)) return;
  value.forEach((item: unknown, index) => {
    const path = `spec.delivery.retry.when[${index}]`;
    if (typeof item !== 'string' && typeof item !== 'number') return;
    const word = String(item);
    if (RETRY_WORDS.has(word)) return;
    const status = /^\d{3}$/.test(word) ? Number(word) : Number.NaN;
    if (Number.isNaN(status) || status < 100 || status > 599) {
      report.error(path, `${show(item)} is not a retryable outcome: use network, timeout, tls, 4xx, 5xx or an HTTP status code such as 503`);
    } else if (status >= 200 && status < 300) {
      report.error(path, `${word} is a successful delivery and cannot be retried`);
    }
  });
}

/** Checks a topic / subject / queue name as the source understands it; returns an error message or undefined. */
type TargetCheck = (name: string) => string | undefined;

/** How a source names its topics; the same destination may be written several ways (Pulsar's short names). */
interface Target {
  readonly problem: TargetCheck;
  readonly canonical: (name: string) => string;
}

function checkDelivery(spec: Obj, report: Report, target: Target | undefined, consumed: readonly string[]): void {
  const delivery = asObj(spec.delivery);
  if (delivery === undefined) return;
  checkDuration('spec.delivery.timeout', delivery.timeout, report, { positive: true });
  const retry = asObj(delivery.retry);
  if (retry !== undefined) {
    const initial = checkDuration('spec.delivery.retry.initialDelay', retry.initialDelay, report);
    const max = checkDuration('spec.delivery.retry.maxDelay', retry.maxDelay, report, { positive: true });
    checkDuration('spec.delivery.retry.maxElapsed', retry.maxElapsed, report, { positive: true });
    if (initial !== undefined && max !== undefined && initial > max) {
      report.error('spec.delivery.retry.initialDelay', `must not exceed maxDelay (${String(retry.initialDelay)} > ${String(retry.maxDelay)})`);
    }
    checkRetryWhen(retry.when, report);
  }
  for (const key of ['deadLetter', 'reply']) {
    const name = text(asObj(delivery[key])?.topic);
    if (name === undefined || target === undefined) continue;
    const path = `spec.delivery.${key}.topic`;
    const problem = target.problem(name);
    if (problem !== undefined) report.error(path, problem);
    else if (consumed.map(target.canonical).includes(target.canonical(name))) report.error(path, `${show(name)} is what this trigger consumes; it would feed its own output back to the function`);
  }
}

// --- Kafka ---------------------------------------------------------------------------------------

function checkKafkaBrokers(value: unknown, report: Report): void {
  if (!Array.isArray(value)) return;
  value.forEach((broker: unknown, index) => {
    if (typeof broker !== 'string' || broker === '') return;
    const problem = kafkaBrokerProblem(broker);
    if (problem !== undefined) report.error(`spec.kafka.brokers[${index}]`, problem);
  });
}

function checkKafka(kafka: Obj, report: Report): string[] {
  checkKafkaBrokers(kafka.brokers, report);
  if (has(kafka, 'topic') && has(kafka, 'topics')) report.error('spec.kafka.topics', 'set exactly one of topic or topics, not both');
  if (!has(kafka, 'topic') && !has(kafka, 'topics')) report.error('spec.kafka.topic', 'required field is missing (or topics)');
  const consumed: string[] = [];
  const topic = text(kafka.topic);
  if (topic !== undefined) {
    consumed.push(topic);
    const problem = kafkaTopicProblem(topic);
    if (problem !== undefined) report.error('spec.kafka.topic', problem);
  }
  if (Array.isArray(kafka.topics)) {
    kafka.topics.forEach((item: unknown, index) => {
      if (typeof item !== 'string') return;
      const problem = kafkaTopicProblem(item);
      if (problem !== undefined) report.error(`spec.kafka.topics[${index}]`, problem);
      else if (consumed.includes(item)) report.warn(`spec.kafka.topics[${index}]`, `${show(item)} is listed twice`);
      consumed.push(item);
    });
  }
  const session = checkDuration('spec.kafka.sessionTimeout', kafka.sessionTimeout, report, { positive: true });
  checkDuration('spec.kafka.rebalanceTimeout', kafka.rebalanceTimeout, report, { positive: true });
  const heartbeat = checkDuration('spec.kafka.heartbeatInterval', kafka.heartbeatInterval, report, { positive: true });
  if (session !== undefined || heartbeat !== undefined) {
    // kafkajs' defaults (session 30s, heartbeat 3s) apply to the one not given.
    const [sessionMs, heartbeatMs] = [session ?? 30_000, heartbeat ?? 3_000];
    if (heartbeatMs >= sessionMs) {
      const shown = (value: unknown, fallback: string): string => (typeof value === 'string' ? value : `${fallback} by default`);
      report.error(
        heartbeat !== undefined ? 'spec.kafka.heartbeatInterval' : 'spec.kafka.sessionTimeout',
        `heartbeatInterval must be less than sessionTimeout (${shown(kafka.heartbeatInterval, '3s')} >= ${shown(kafka.sessionTimeout, '30s')})`,
      );
    }
  }
  const sasl = asObj(kafka.sasl);
  if (sasl !== undefined) {
    if (has(sasl, 'username') === has(sasl, 'usernameSecretRef')) {
      report.error('spec.kafka.sasl', `set exactly one of username or usernameSecretRef (${has(sasl, 'username') ? 'both are set' : 'neither is set'})`);
    }
    const tls = asObj(kafka.tls);
    if (sasl.mechanism === 'plain' && (tls === undefined || tls.enabled === false)) {
      report.warn('spec.kafka.sasl.mechanism', 'SASL PLAIN without tls sends the password in clear text');
    }
  }
  const tls = asObj(kafka.tls);
  if (tls !== undefined && has(tls, 'certSecretRef') !== has(tls, 'keySecretRef')) {
    report.error(`spec.kafka.tls.${has(tls, 'certSecretRef') ? 'keySecretRef' : 'certSecretRef'}`, 'certSecretRef and keySecretRef go together: set both for client certificate authentication');
  }
  return consumed;
}

// --- Pulsar --------------------------------------------------------------------------------------

/** The full Pulsar topic URL a name stands for (the rule render applies). */
function pulsarTopicUrl(name: string): string {
  if (name.includes('://')) return name;
  return name.split('/').length === 3 ? `persistent://${name}` : `persistent://public/default/${name}`;
}

function checkPulsarBroker(value: unknown, report: Report): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(pulsar|pulsar\+ssl):\/\/([^/\s]+)\/?$/.exec(value);
  const hosts = match?.[2]?.split(',') ?? [];
  const bad = hosts.length === 0 || hosts.some((host) => !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?$/.test(host));
  if (bad) {
    report.error('spec.pulsar.broker', `must be a pulsar:// or pulsar+ssl:// service URL such as pulsar://pulsar-broker.pulsar:6650 (got ${show(value)})`);
    return undefined;
  }
  return match?.[1];
}

/** The pre-1.0 form: topic is a bare name in spec.pulsar.namespace; returns the full topic it stands for. */
function checkPreOneTopic(pulsar: Obj, name: string | undefined, report: Report): string | undefined {
  const namespace = text(pulsar.namespace);
  const tenant = text(pulsar.tenant);
  if (name !== undefined && (name.includes('/') || !PULSAR_NAME.test(name))) {
    report.error('spec.pulsar.topic', `${show(name)} is not a topic name: with spec.pulsar.namespace give the bare name, e.g. mytopic (or drop namespace and write persistent://TENANT/NAMESPACE/TOPIC)`);
    return undefined;
  }
  if (namespace === undefined) return undefined;
  const parts = namespace.split('/');
  if (parts.length > 2 || parts.some((part) => !PULSAR_NAME.test(part))) {
    report.error('spec.pulsar.namespace', `${show(namespace)} is not a Pulsar namespace: write NAMESPACE or TENANT/NAMESPACE`);
    return undefined;
  }
  if (parts.length === 2 && tenant !== undefined) {
    report.error('spec.pulsar.tenant', `spec.pulsar.namespace ${show(namespace)} already names the tenant`);
  }
  if (tenant !== undefined && !PULSAR_NAME.test(tenant)) report.error('spec.pulsar.tenant', `${show(tenant)} is not a valid Pulsar tenant name`);
  if (name === undefined) return undefined;
  const type = text(pulsar['topic-type']) ?? 'persistent';
  return `${type}://${parts.length === 2 ? namespace : `${tenant ?? 'public'}/${namespace}`}/${name}`;
}

function checkPulsar(pulsar: Obj, report: Report): string[] {
  const scheme = checkPulsarBroker(pulsar.broker, report);
  const preOne = has(pulsar, 'namespace');
  let topic = text(pulsar.topic);
  if (preOne) {
    topic = checkPreOneTopic(pulsar, topic, report);
  } else {
    for (const field of ['tenant', 'topic-type']) {
      if (has(pulsar, field)) report.error(`spec.pulsar.${field}`, 'applies only with spec.pulsar.namespace (the form before kubeless-pulsar-trigger 1.0)');
    }
    if (topic !== undefined) {
      const problem = pulsarTopicProblem(topic);
      if (problem !== undefined) report.error('spec.pulsar.topic', problem);
    }
  }
  if (has(pulsar, 'auth-token')) {
    if (has(pulsar, 'authTokenSecretRef')) report.error('spec.pulsar.auth-token', 'set at most one of authTokenSecretRef or auth-token');
    else report.warn('spec.pulsar.auth-token', 'an inline token is readable by anyone who can read the trigger: put it in a Secret and use authTokenSecretRef');
  }
  if (has(pulsar, 'tls') && scheme === 'pulsar') {
    report.warn('spec.pulsar.tls', 'tls settings apply only to a pulsar+ssl:// broker');
  }
  return topic === undefined ? [] : [topic];
}

// --- NATS ----------------------------------------------------------------------------------------

function checkNatsUrl(value: unknown, report: Report): void {
  if (typeof value !== 'string') return;
  for (const entry of value.split(',').map((part) => part.trim())) {
    const url = checkUrl('spec.nats.url', entry, ['nats:', 'tls:'], report, ' (several may be comma-separated)');
    if (url !== undefined && url.password !== '') {
      report.error('spec.nats.url', 'inline secret values are not accepted: the URL carries a password; use tokenSecretRef, credentialsSecretRef or username + passwordSecretRef');
    }
  }
}

function checkNatsAuth(nats: Obj, report: Report): void {
  const userPass = has(nats, 'username') || has(nats, 'usernameSecretRef') || has(nats, 'passwordSecretRef');
  const methods = [has(nats, 'tokenSecretRef'), has(nats, 'credentialsSecretRef'), userPass].filter(Boolean).length;
  if (methods > 1) report.error('spec.nats', 'choose one authentication: tokenSecretRef, credentialsSecretRef or username + passwordSecretRef');
  if (has(nats, 'username') && has(nats, 'usernameSecretRef')) report.error('spec.nats.usernameSecretRef', 'set at most one of username or usernameSecretRef');
  if (userPass && !has(nats, 'passwordSecretRef')) report.error('spec.nats.passwordSecretRef', 'required field is missing (a username needs a password)');
  if (has(nats, 'passwordSecretRef') && !has(nats, 'username') && !has(nats, 'usernameSecretRef')) {
    report.error('spec.nats.username', 'required field is missing (or usernameSecretRef): a password needs a username');
  }
}

function checkNats(nats: Obj, report: Report): string[] {
  checkNatsUrl(nats.url, report);
  const subject = text(nats.subject);
  if (subject !== undefined) {
    const problem = natsSubjectProblem(subject, true);
    if (problem !== undefined) report.error('spec.nats.subject', problem);
  }
  const jetstream = asObj(nats.jetstream);
  if (jetstream !== undefined) {
    if (has(nats, 'queueGroup')) report.error('spec.nats.queueGroup', 'queueGroup is for core NATS; JetStream replicas share the durable consumer instead');
    for (const key of ['stream', 'consumer']) {
      const name = text(jetstream[key]);
      const problem = name === undefined ? undefined : jetStreamNameProblem(name, key === 'stream' ? 'stream' : 'consumer');
      if (problem !== undefined) report.error(`spec.nats.jetstream.${key}`, problem);
    }
    const ackWait = checkDuration('spec.nats.jetstream.ackWait', jetstream.ackWait, report);
    if (ackWait !== undefined && ackWait < 1000) report.error('spec.nats.jetstream.ackWait', `must be at least 1s (got ${String(jetstream.ackWait)})`);
  }
  checkNatsAuth(nats, report);
  return subject === undefined ? [] : [subject];
}

// --- RabbitMQ ------------------------------------------------------------------------------------

function checkRabbitmq(rabbit: Obj, spec: Obj, report: Report): string[] {
  if (has(rabbit, 'url') === has(rabbit, 'urlSecretRef')) {
    report.error(has(rabbit, 'url') ? 'spec.rabbitmq.urlSecretRef' : 'spec.rabbitmq.url', has(rabbit, 'url') ? 'set exactly one of url or urlSecretRef, not both' : 'required field is missing (or urlSecretRef)');
  }
  const url = checkUrl('spec.rabbitmq.url', rabbit.url, ['amqp:', 'amqps:'], report);
  if (url !== undefined && url.password !== '') {
    report.error('spec.rabbitmq.url', 'inline secret values are not accepted: the URL carries a password; use urlSecretRef or passwordSecretRef');
  }
  if (has(rabbit, 'username') && has(rabbit, 'usernameSecretRef')) report.error('spec.rabbitmq.usernameSecretRef', 'set at most one of username or usernameSecretRef');
  const queue = text(rabbit.queue);
  if (queue !== undefined) {
    const problem = rabbitQueueProblem(queue);
    if (problem !== undefined) report.error('spec.rabbitmq.queue', problem);
    else if (queue.startsWith('amq.') && rabbit.declare !== false) {
      report.error('spec.rabbitmq.queue', `names starting with "amq." are reserved and RabbitMQ refuses to declare them; set declare: false to consume an existing queue`);
    }
  }
  if (!has(rabbit, 'exchange')) {
    for (const key of ['exchangeType', 'routingKey']) {
      if (has(rabbit, key)) report.warn(`spec.rabbitmq.${key}`, 'has no effect without exchange');
    }
  }
  const maxInFlight = asObj(spec.delivery)?.maxInFlight;
  if (typeof rabbit.prefetch === 'number' && typeof maxInFlight === 'number' && rabbit.prefetch < maxInFlight) {
    report.warn('spec.rabbitmq.prefetch', `below delivery.maxInFlight (${rabbit.prefetch} < ${maxInFlight}): at most ${rabbit.prefetch} messages will be in flight`);
  }
  return queue === undefined ? [] : [queue];
}

// --- Cron ----------------------------------------------------------------------------------------

function cronProblem(schedule: string): string | undefined {
  if (isCronExpression(schedule)) return undefined;
  const fields = schedule.trim().split(/\s+/).filter((field) => field !== '').length;
  const shape = 'a cron expression has 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first)';
  if (fields !== 5 && fields !== 6) return `${show(schedule)} is not a valid cron expression: ${shape}, this one has ${fields}`;
  const details = explainCron(schedule).errors.map((error) => `${error.field} ${show(error.value ?? '')} is out of range or malformed`);
  return `${show(schedule)} is not a valid cron expression${details.length > 0 ? `: ${details.join('; ')}` : ''}`;
}


const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/;

function checkCron(cron: Obj, report: Report): void {
  const schedule = text(cron.schedule);
  if (schedule !== undefined) {
    const problem = cronProblem(schedule);
    if (problem !== undefined) report.error('spec.cron.schedule', problem);
  }
  const zone = text(cron.timezone);
  if (zone !== undefined && !isTimeZone(zone)) report.error('spec.cron.timezone', `${show(zone)} is not an IANA time zone such as Europe/Berlin, America/New_York or UTC`);
  const contentType = text(cron.contentType);
  if (contentType !== undefined && !MEDIA_TYPE.test(contentType)) {
    report.error('spec.cron.contentType', `${show(contentType)} is not a media type such as application/json or text/plain`);
  }
  const payload = text(cron.payload);
  if (payload !== undefined && payload !== '' && (contentType ?? 'application/json').includes('json')) {
    try {
      JSON.parse(payload);
    } catch {
      report.warn('spec.cron.payload', `is not valid JSON but is sent as ${contentType ?? 'application/json'}; set contentType (e.g. text/plain)`);
    }
  }
}

// --- spec.deployment -----------------------------------------------------------------------------

/** What an override sets that the controller owns; the override policy (render/policy.ts) judges the rest. */
function checkDeployment(spec: Obj, report: Report): void {
  const deployment = asObj(spec.deployment);
  if (deployment === undefined) return;
  const metadata = asObj(deployment.metadata);
  if (metadata?.name !== undefined) {
    report.warn('spec.deployment.metadata.name', 'ignored: the controller names the Deployment (one per trigger and kind)');
  }
  if (asObj(deployment.spec)?.selector !== undefined) {
    report.error('spec.deployment.spec.selector', "the controller owns the selector (one per trigger, matching the pod labels it sets); remove it");
  }
}

// --- the whole trigger ---------------------------------------------------------------------------

const same = (name: string): string => name;
const TARGETS: Readonly<Record<string, Target>> = {
  kafka: { problem: kafkaTopicProblem, canonical: same },
  pulsar: { problem: pulsarTopicProblem, canonical: pulsarTopicUrl },
  nats: { problem: (name) => natsSubjectProblem(name, false), canonical: same },
  rabbitmq: { problem: rabbitQueueProblem, canonical: same },
};

function checkSource(kind: KindSchema, spec: Obj, report: Report): string[] {
  const block = asObj(spec[kind.source]);
  if (block === undefined) return [];
  switch (kind.source) {
    case 'kafka':
      return checkKafka(block, report);
    case 'pulsar':
      return checkPulsar(block, report);
    case 'nats':
      return checkNats(block, report);
    case 'rabbitmq':
      return checkRabbitmq(block, spec, report);
    case 'cron':
      checkCron(block, report);
      return [];
    default:
      return [];
  }
}

function knownKinds(schemas: TriggerSchemas): string {
  return [...schemas.kinds.values()].map((k) => `${k.group}/${k.version} ${k.kind}`).join(', ');
}

function identify(doc: Obj, schemas: TriggerSchemas): KindSchema | Problem {
  const apiVersion = doc.apiVersion;
  const kind = doc.kind;
  const found = typeof apiVersion === 'string' && typeof kind === 'string' ? schemaFor(schemas, apiVersion, kind) : undefined;
  if (found !== undefined) return found;
  if (typeof kind !== 'string') return { path: 'kind', message: 'required field is missing: not a Kurier trigger', severity: 'error' };
  if (typeof apiVersion !== 'string') return { path: 'apiVersion', message: `required field is missing: not a Kurier trigger (kind ${kind})`, severity: 'error' };
  const sameKind = [...schemas.kinds.values()].find((k) => k.kind === kind);
  if (sameKind !== undefined) {
    return { path: 'apiVersion', message: `not a Kurier trigger: apiVersion ${show(apiVersion)}, kind ${kind}; Kurier serves ${kind} as ${sameKind.group}/${sameKind.version}`, severity: 'error' };
  }
  return { path: 'kind', message: `not a Kurier trigger: apiVersion ${show(apiVersion)}, kind ${show(kind)} (known: ${knownKinds(schemas)})`, severity: 'error' };
}

/** spec.autoscaling: KEDA owns the replica count, so spec.replicas is refused beside it. */
function checkAutoscaling(spec: Obj, kind: KindSchema, report: Report): void {
  const autoscaling = asObj(spec.autoscaling);
  if (autoscaling === undefined) return;
  if (has(spec, 'replicas')) report.error('spec.replicas', 'set either spec.replicas or spec.autoscaling, not both (KEDA owns the replica count)');
  const override = asObj(asObj(spec.deployment)?.spec);
  if (override !== undefined && has(override, 'replicas')) {
    report.error('spec.deployment.spec.replicas', 'not with spec.autoscaling: KEDA owns the replica count (set autoscaling.minReplicas/maxReplicas instead)');
  }
  const { minReplicas, maxReplicas } = autoscaling;
  if (typeof minReplicas === 'number' && typeof maxReplicas === 'number' && minReplicas > maxReplicas) {
    report.error('spec.autoscaling.minReplicas', `must not exceed autoscaling.maxReplicas (${minReplicas} > ${maxReplicas})`);
  }
  if (kind.source === 'pulsar') {
    if (!has(autoscaling, 'adminURL')) report.error('spec.autoscaling.adminURL', 'required field is missing: URL of the Pulsar admin REST API KEDA reads the subscription backlog from (e.g. http://pulsar-broker.pulsar:8080)');
    const pulsar = asObj(spec.pulsar);
    if (pulsar !== undefined && has(pulsar, 'auth-token')) report.error('spec.pulsar.auth-token', 'an inline token cannot reach KEDA: put it in a Secret and use spec.pulsar.authTokenSecretRef to autoscale');
  }
  if (kind.source === 'nats') {
    const nats = asObj(spec.nats);
    if (nats !== undefined && !has(nats, 'jetstream')) report.error('spec.autoscaling', 'needs JetStream (spec.nats.jetstream): KEDA measures the lag of a JetStream consumer; core NATS has no backlog');
    if (!has(autoscaling, 'monitoringEndpoint')) report.error('spec.autoscaling.monitoringEndpoint', 'required field is missing: host:port of the NATS monitoring endpoint KEDA polls (nats-server -m 8222)');
  }
}

const REPLACEABLE = new Set(['pattern', 'type', 'format']);

/**
 * Every problem of `doc` as a trigger: schema problems (unknown fields are errors) and semantic
 * problems, each with its field path. Warnings do not make a trigger invalid.
 */
export function validateTrigger(doc: unknown, schemas: TriggerSchemas): Problem[] {
  if (!isObj(doc)) return [{ path: '', message: 'not a trigger: expected a YAML mapping with apiVersion, kind, metadata and spec', severity: 'error' }];
  const kind = identify(doc, schemas);
  if (!('check' in kind)) return [kind];
  const report = new Report();
  checkMetadata(doc, report);
  const spec = asObj(doc.spec);
  if (spec !== undefined) {
    checkFunction(spec, kind, report);
    const consumed = checkSource(kind, spec, report);
    checkDelivery(spec, report, TARGETS[kind.source], consumed);
    checkDeployment(spec, report);
    checkAutoscaling(spec, kind, report);
  }
  const semanticErrors = new Set(report.problems.filter((p) => p.severity === 'error').map((p) => p.path));
  // The status subresource ignores status in what users apply; the controller owns it.
  const { status: _status, ...applied } = doc;
  const schemaProblems = checkSchema(kind, applied)
    .filter((p) => !(REPLACEABLE.has(p.keyword) && semanticErrors.has(p.path)))
    .map(({ path, message, severity }): Problem => ({ path, message, severity }));
  const seen = new Set(schemaProblems.map((p) => `${p.path}\n${p.message}`));
  const semantic = report.problems.filter((p) => !seen.has(`${p.path}\n${p.message}`));
  return [...schemaProblems, ...semantic].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** True when `problems` holds no error (warnings allowed). */
export function isValid(problems: readonly Problem[]): boolean {
  return problems.every((problem) => problem.severity !== 'error');
}
