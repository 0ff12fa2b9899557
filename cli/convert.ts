import { stderr, stdout } from 'node:process';
import { kafkaBrokerProblem } from '../common/source-names.js';
import type { Problem } from '../render/schema.js';
import { isValid } from '../render/validate.js';
import { judgeTrigger, type VerdictSettings } from '../render/verdict.js';
import { ambiguityWarnings, describeSyntaxError, UsageError, type InputDocument } from './input.js';
import { readJudgeInput } from './judge-input.js';
import { stringifyForKubectl } from './kubectl-yaml-writer.js';
import { convertKubeless } from './kubeless-convert.js';
import { isObj, type ConvertOptions, type Note } from './kubeless-source.js';
import { VERDICT_FLAG_HELP, VERDICT_USAGE } from './verdict-settings.js';

const USAGE = `usage: kurier convert -f FILE|DIR|- [-f …] [--kafka-brokers HOST:PORT,…] [--nats-url URL] ${VERDICT_USAGE}

Prints a Kurier trigger for every kubeless trigger in the files (read as kubectl reads YAML):
kubeless.io/v1beta1 KafkaTrigger, NATSTrigger and CronJobTrigger, and kubeless-pulsar-trigger's
kubeless.io/v1 PulsarTrigger (1.0 and pre-1.0 forms), as multi-document YAML ready for
kubectl apply -f -. Lists (kubectl get -o yaml) are read item by item; a kubeless Function in the
input gives the Service port of the CronJobTriggers that name it. Everything else is skipped.
On stderr, one line per document and field: what could not be mapped, placeholders to fill in,
and what kurier validate says of the converted trigger.

  --kafka-brokers HOST:PORT,…  the brokers kubeless' kafka-trigger read from KAFKA_BROKERS
                              (without it: a placeholder in spec.kafka.brokers to fill in)
  --nats-url URL              the server kubeless' nats-trigger read from NATS_URL
                              (without it: a placeholder in spec.nats.url to fill in)
${VERDICT_FLAG_HELP}
  (--allow-cross-namespace also keeps a PulsarTrigger's spec.deployment.metadata.namespace)

Exit codes: 0 at least one trigger converted and every document read; 1 nothing converted, or a
document is not valid YAML (the others are still converted); 2 usage, unreadable input or settings.
A converted trigger that kurier validate refuses is printed and counts as converted: stderr says why.
`;

const EXTRA_FLAGS = { withValue: ['--kafka-brokers', '--nats-url'], switches: [] } as const;

/** One document to convert: an input document, or one item of a List in it. */
interface Entry {
  readonly document: InputDocument;
  readonly where: string;
  readonly value: unknown;
}

function entriesOf(document: InputDocument): Entry[] {
  const where = `${document.file}:${document.index}`;
  const { value } = document;
  // kubectl reads a List (kubectl get -o yaml) as its items.
  if (isObj(value) && typeof value['kind'] === 'string' && value['kind'].endsWith('List') && Array.isArray(value['items'])) {
    return value['items'].map((item: unknown, index) => ({ document, where: `${where} items[${index}]`, value: item }));
  }
  return [{ document, where, value }];
}

const part = (field: unknown, unset: string): string => (typeof field === 'string' && field !== '' ? field : unset);

/** `NAMESPACE/NAME` of an input object. */
function namespacedName(value: Record<string, unknown>): string {
  const metadata = isObj(value['metadata']) ? value['metadata'] : {};
  return `${part(metadata['namespace'], '(namespace unset)')}/${part(metadata['name'], '?')}`;
}

/** ` KIND/NAMESPACE/NAME` of an input object, for the lines on stderr (empty for a non-object). */
function identity(value: unknown): string {
  return isObj(value) ? ` ${part(value['kind'], '?')}/${namespacedName(value)}` : '';
}

/** The first Service port of every kubeless Function among `entries`, by `namespace/name`. */
function functionPorts(entries: readonly Entry[]): Map<string, number> {
  const ports = new Map<string, number>();
  for (const { value } of entries) {
    if (!isObj(value) || value['kind'] !== 'Function' || typeof value['apiVersion'] !== 'string' || !value['apiVersion'].startsWith('kubeless.io/')) continue;
    const metadata = isObj(value['metadata']) ? value['metadata'] : {};
    const spec = isObj(value['spec']) ? value['spec'] : {};
    const service = isObj(spec['service']) ? spec['service'] : {};
    const first: unknown = Array.isArray(service['ports']) ? service['ports'][0] : undefined;
    const port = isObj(first) ? first['port'] : undefined;
    if (typeof metadata['name'] === 'string' && typeof port === 'number') ports.set(`${typeof metadata['namespace'] === 'string' ? metadata['namespace'] : ''}/${metadata['name']}`, port);
  }
  return ports;
}

function optionsOf(values: ReadonlyMap<string, string>, switches: ReadonlySet<string>, entries: readonly Entry[]): ConvertOptions {
  const brokersFlag = values.get('--kafka-brokers');
  const kafkaBrokers = brokersFlag?.split(',').map((broker) => broker.trim());
  for (const broker of kafkaBrokers ?? []) {
    const problem = kafkaBrokerProblem(broker);
    if (problem !== undefined) throw new UsageError(`--kafka-brokers: ${broker === '' ? 'an empty broker' : problem}`);
  }
  const natsUrl = values.get('--nats-url');
  if (natsUrl !== undefined && !/^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/.test(natsUrl)) throw new UsageError(`--nats-url: must be nats://HOST:PORT or tls://HOST:PORT, several comma-separated (got ${JSON.stringify(natsUrl)})`);
  return {
    allowCrossNamespace: switches.has('--allow-cross-namespace'),
    functionPorts: functionPorts(entries),
    ...(kafkaBrokers === undefined ? {} : { kafkaBrokers }),
    ...(natsUrl === undefined ? {} : { natsUrl }),
  };
}

const noteLine = (prefix: string, note: Note): string => `${prefix}: ${note.path}: ${note.message}\n`;
const verdictLine = (prefix: string, problem: Problem): string =>
  `${prefix}: ${problem.severity === 'warning' ? 'kurier validate warns' : 'the converted trigger does not pass kurier validate'}: ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}\n`;

interface Tally { converted: number; skipped: number; refused: number }

function convertEntry(entry: Entry, options: ConvertOptions, settings: VerdictSettings, tally: Tally): string | undefined {
  const prefix = `${entry.where}${identity(entry.value)}`;
  const result = convertKubeless(entry.value, options);
  if ('skipped' in result) {
    stderr.write(`${prefix}: skipped: ${result.skipped}\n`);
    tally.skipped++;
    return undefined;
  }
  const { trigger, notes, comments } = result.converted;
  for (const note of notes) stderr.write(noteLine(prefix, note));
  const { problems } = judgeTrigger(trigger, settings);
  for (const problem of problems) stderr.write(verdictLine(prefix, problem));
  tally.converted++;
  if (!isValid(problems)) tally.refused++;
  // convertKubeless converts only objects with a string apiVersion and kind.
  const value = entry.value as Record<string, unknown> & { apiVersion: string; kind: string };
  const source = entry.document.file === '-' ? `standard input${entry.where.slice(1)}` : entry.where;
  return stringifyForKubectl(trigger, { header: `kurier convert: from ${value.apiVersion} ${value.kind} ${namespacedName(value)} (${source})`, comments });
}

/**
 * `kurier convert`: prints a Kurier trigger for every kubeless trigger in the input, and on stderr
 * what it could not map and what kurier validate says of the result. Exit codes: see USAGE.
 */
export async function runConvert(args: readonly string[]): Promise<number> {
  const input = await readJudgeInput('convert', args, USAGE, EXTRA_FLAGS);
  if (typeof input === 'number') return input;
  const { settings, documents, flags } = input;

  let unreadable = false;
  const entries: Entry[] = [];
  for (const document of documents) {
    if (document.error !== undefined) {
      stderr.write(`${describeSyntaxError(document)}\n`);
      unreadable = true;
      continue;
    }
    for (const warning of ambiguityWarnings(document)) stderr.write(`${warning}\n`);
    entries.push(...entriesOf(document));
  }
  let options: ConvertOptions;
  try {
    options = optionsOf(flags.values, flags.switches, entries);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr.write(`kurier convert: ${err.message} (run "kurier convert --help" for usage)\n`);
    return 2;
  }

  const tally: Tally = { converted: 0, skipped: 0, refused: 0 };
  const output: string[] = [];
  for (const entry of entries) {
    const yaml = convertEntry(entry, options, settings, tally);
    if (yaml !== undefined) output.push(yaml);
  }
  stdout.write(output.join('---\n'));
  const refused = tally.refused > 0 ? `, ${tally.refused} not passing kurier validate (see above)` : '';
  stderr.write(`kurier convert: ${tally.converted} of ${entries.length} document${entries.length === 1 ? '' : 's'} converted${tally.skipped > 0 ? `, ${tally.skipped} skipped` : ''}${refused}\n`);
  return tally.converted === 0 || unreadable ? 1 : 0;
}
