/**
 * kubeless' own triggers (kubeless.io/v1beta1, from kubeless/kafka-trigger, nats-trigger and
 * cronjob-trigger) as Kurier triggers. Their controllers took the broker from their own
 * environment, so the broker becomes an explicit placeholder unless the user gives it.
 */
import { goJsonMarshal } from './go-json.js';
import type { FieldComment } from './kubectl-yaml-writer.js';
import { isObj, unmappedFields, type Note, type Obj, type Source } from './kubeless-source.js';

/** Host names under `.invalid` never resolve (RFC 2606): a placeholder left in place fails loudly, it never reaches another broker. */
export const KAFKA_BROKERS_PLACEHOLDER = 'kafka-brokers.replace-me.invalid:9092';
export const NATS_URL_PLACEHOLDER = 'nats://nats-url.replace-me.invalid:4222';

// kafka-trigger's KAFKA_BROKERS default and nats-trigger's NATS_URL default (their controllers' env).
const KUBELESS_KAFKA_DEFAULT = 'kafka.kubeless:9092';
const KUBELESS_NATS_DEFAULT = 'nats://nats.nats-io.svc.cluster.local:4222';
/** kubeless gives a Function's Service this port unless the Function sets spec.service.ports. */
export const KUBELESS_FUNCTION_PORT = 8080;

function topicOf(spec: Obj, notes: Note[]): string | undefined {
  const topic = spec['topic'];
  if (typeof topic === 'string' && topic !== '') return topic;
  notes.push({ path: 'spec.topic', message: topic === undefined ? 'missing: kubeless required it; fill in the topic' : `must be a non-empty string (got ${JSON.stringify(topic)})` });
  return undefined;
}

function selectorOf(spec: Obj, notes: Note[]): Obj {
  const selector = spec['functionSelector'];
  if (!isObj(selector)) {
    notes.push({ path: 'spec.functionSelector', message: 'missing: kubeless picked the functions by this label selector; without it no function is named' });
    return {};
  }
  const empty = (value: unknown): boolean => value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0);
  if (empty(selector['matchLabels']) && empty(selector['matchExpressions'])) {
    notes.push({ path: 'spec.functionSelector', message: 'empty: kubeless chose every Function in the namespace with it; Kurier refuses an empty selector (it would choose every Service): give the labels of the functions meant' });
  } else {
    // kubeless gave each Function's Service the Function's labels, so the same functions match.
    notes.push({ path: 'spec.functionSelector', message: "carried unchanged: kubeless matched it against Functions, Kurier against the Services in the namespace; a kubeless Function's Service has its labels, but check that no other Service carries them" });
  }
  return { functionSelector: selector };
}

/** kubeless.io/v1beta1 KafkaTrigger: `topic` and `functionSelector`; brokers came from the controller's KAFKA_BROKERS. */
export function convertKafkaTrigger({ spec, options }: Source, notes: Note[], comments: FieldComment[]): { kind: string; spec: Obj } {
  unmappedFields(spec, ['topic', 'functionSelector'], 'spec', 'KafkaTrigger', notes);
  const topic = topicOf(spec, notes);
  const given = options.kafkaBrokers !== undefined && options.kafkaBrokers.length > 0;
  if (!given) {
    const text = `kubeless' kafka-trigger took the brokers from its controller's KAFKA_BROKERS (default ${KUBELESS_KAFKA_DEFAULT}), and TLS and SASL from its KAFKA_ENABLE_TLS and KAFKA_ENABLE_SASL`;
    notes.push({ path: 'spec.kafka.brokers', message: `placeholder ${KAFKA_BROKERS_PLACEHOLDER}: fill in your brokers (or run with --kafka-brokers): ${text}; set spec.kafka.tls and spec.kafka.sasl if it used them` });
    comments.push({ path: ['spec', 'kafka', 'brokers'], text: `FILL IN: the brokers kubeless' kafka-trigger read from KAFKA_BROKERS (default ${KUBELESS_KAFKA_DEFAULT})` });
  }
  notes.push({
    path: 'spec.kafka.groupId',
    message: "kubeless consumed with one consumer group per function (NAMESPACE_TRIGGER_FUNCTION_TOPIC); the Kurier trigger uses its own group (NAMESPACE.NAME), which starts at the newest offset: what is published between stopping kubeless' kafka-trigger and starting the dispatcher is not delivered unless you set fromBeginning or groupId",
  });
  const kafka: Obj = { brokers: given ? [...(options.kafkaBrokers ?? [])] : [KAFKA_BROKERS_PLACEHOLDER], ...(topic === undefined ? {} : { topic }) };
  return { kind: 'KafkaTrigger', spec: { kafka, ...selectorOf(spec, notes) } };
}

/** kubeless.io/v1beta1 NATSTrigger: `topic` (a subject) and `functionSelector`; the URL came from the controller's NATS_URL. */
export function convertNatsTrigger({ spec, options }: Source, notes: Note[], comments: FieldComment[]): { kind: string; spec: Obj } {
  unmappedFields(spec, ['topic', 'functionSelector'], 'spec', 'NATSTrigger', notes);
  const subject = topicOf(spec, notes);
  const given = options.natsUrl !== undefined && options.natsUrl !== '';
  if (!given) {
    notes.push({ path: 'spec.nats.url', message: `placeholder ${NATS_URL_PLACEHOLDER}: fill in your NATS server (or run with --nats-url): kubeless' nats-trigger took it from its controller's NATS_URL (default ${KUBELESS_NATS_DEFAULT})` });
    comments.push({ path: ['spec', 'nats', 'url'], text: `FILL IN: the server kubeless' nats-trigger read from NATS_URL (default ${KUBELESS_NATS_DEFAULT})` });
  }
  const nats: Obj = { url: given ? options.natsUrl : NATS_URL_PLACEHOLDER, ...(subject === undefined ? {} : { subject }) };
  return { kind: 'NATSTrigger', spec: { nats, ...selectorOf(spec, notes) } };
}

// Kubernetes CronJob schedules before 1.27 could name a zone in front: `CRON_TZ=Europe/Berlin 0 7 * * *`.
const ZONE_PREFIX = /^(?:CRON_TZ|TZ)=(\S+)\s+(.+)$/;

function cronOf(spec: Obj, notes: Note[]): Obj {
  const schedule = spec['schedule'];
  if (typeof schedule !== 'string' || schedule.trim() === '') {
    notes.push({ path: 'spec.schedule', message: schedule === undefined ? 'missing: kubeless required it; fill in the schedule' : `must be a cron expression (got ${JSON.stringify(schedule)})` });
    return {};
  }
  const zoned = ZONE_PREFIX.exec(schedule.trim());
  const cron: Obj = zoned === null ? { schedule } : { schedule: zoned[2], timezone: zoned[1] };
  const payload = spec['payload'];
  if (payload === undefined || payload === null) {
    notes.push({ path: 'spec.payload', message: "none: kubeless' CronJob called the function with a GET and no body; Kurier POSTs an empty body" });
  } else {
    // cronjob-trigger sent json.Marshal(payload) as application/json, Kurier's default content type.
    cron['payload'] = goJsonMarshal(payload);
  }
  return cron;
}

function functionOf({ spec, namespace, options }: Source, notes: Note[]): Obj {
  const name = spec['function-name'];
  if (typeof name !== 'string' || name === '') {
    notes.push({ path: 'spec.function-name', message: 'missing: kubeless required it; fill in spec.function.service.name' });
    return {};
  }
  const known = options.functionPorts.get(`${namespace ?? ''}/${name}`);
  if (known === undefined) {
    notes.push({
      path: 'spec.function.service.port',
      message: `${KUBELESS_FUNCTION_PORT}, the port kubeless gives a Function's Service unless the Function sets spec.service.ports (then its first port): check it, or convert the Function's manifest together with this trigger`,
    });
  }
  // kubeless named the Service after the Function, in the Function's (= the trigger's) namespace, and posted to path /.
  return { function: { service: { name, port: known ?? KUBELESS_FUNCTION_PORT } } };
}

/** kubeless.io/v1beta1 CronJobTrigger: `schedule`, `function-name` and `payload`. */
export function convertCronJobTrigger(source: Source, notes: Note[]): { kind: string; spec: Obj } {
  unmappedFields(source.spec, ['schedule', 'function-name', 'payload'], 'spec', 'CronJobTrigger', notes);
  return { kind: 'CronTrigger', spec: { cron: cronOf(source.spec, notes), ...functionOf(source, notes) } };
}
