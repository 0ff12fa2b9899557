import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../dispatchers/core/config.js';
import { closestName, EnvReader, type Env } from '../../dispatchers/core/env-reader.js';
import { readConfiguration } from '../../dispatchers/core/runtime.js';
import type { Source, SourceModule } from '../../dispatchers/core/types.js';
import { COMMON_VARIABLES, type VariableDoc } from '../../dispatchers/core/variables.js';
import { parseCronConfig } from '../../dispatchers/cron/index.js';
import { CRON_VARIABLES } from '../../dispatchers/cron/variables.js';
import { parseKafkaConfig } from '../../dispatchers/kafka/config.js';
import { KAFKA_VARIABLES } from '../../dispatchers/kafka/variables.js';
import { parseNatsConfig } from '../../dispatchers/nats/config.js';
import { NATS_VARIABLES } from '../../dispatchers/nats/variables.js';
import { parsePulsarConfig } from '../../dispatchers/pulsar/config.js';
import { PULSAR_COMPATIBILITY_VARIABLES, PULSAR_VARIABLES } from '../../dispatchers/pulsar/variables.js';
import { parseRabbitMQConfig } from '../../dispatchers/rabbitmq/config.js';
import { RABBITMQ_VARIABLES } from '../../dispatchers/rabbitmq/variables.js';
import { useCleanup } from '../support/cleanup.js';
import { DispatcherProcess } from '../support/dispatcher-process.js';
import { runKurier } from '../support/run-kurier.js';

type Parse = SourceModule<unknown>['parseConfig'];

const SOURCES: readonly { source: Source; parse: Parse; variables: readonly VariableDoc[]; env: Env }[] = [
  { source: 'nats', parse: parseNatsConfig, variables: NATS_VARIABLES, env: { NATS_URL: 'nats://127.0.0.1:4222', NATS_SUBJECT: 'a', NATS_JETSTREAM_STREAM: 'S' } },
  { source: 'rabbitmq', parse: parseRabbitMQConfig, variables: RABBITMQ_VARIABLES, env: { RABBITMQ_URL: 'amqp://127.0.0.1', RABBITMQ_QUEUE: 'q', RABBITMQ_EXCHANGE: 'x' } },
  { source: 'kafka', parse: parseKafkaConfig, variables: KAFKA_VARIABLES, env: { KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC: 't', KAFKA_SASL_MECHANISM: 'plain' } },
  { source: 'pulsar', parse: parsePulsarConfig, variables: PULSAR_VARIABLES, env: { PULSAR_BROKER: 'pulsar://p:6650', PULSAR_TOPIC: 't' } },
  { source: 'cron', parse: parseCronConfig, variables: CRON_VARIABLES, env: { CRON_SCHEDULE: '* * * * *' } },
];

function asked(parse: Parse, source: Source, env: Env): Set<string> {
  const reader = new EnvReader({ FUNCTION_URL: 'http://127.0.0.1/', ...env });
  const config = parseConfig(reader, source);
  parse(reader, config.trigger);
  return reader.asked;
}

const fakeModule = (source: Source, parse: Parse): SourceModule<unknown> => ({ source, parseConfig: parse, createAdapter: () => { throw new Error('not used'); } });

describe('the variables a dispatcher documents are the ones it reads', () => {
  it.each(SOURCES)('$source: --help lists exactly the variables its config reader asks for', ({ source, parse, variables, env }) => {
    const read = [...asked(parse, source, env)].filter((name) => name.startsWith(`${source.toUpperCase()}_`)).sort();
    expect(read).toEqual(variables.map((variable) => variable.name).sort());
  });

  it('documents every common variable the core reads', () => {
    const env = SOURCES[0]?.env ?? {};
    // KUBELESS_FUNCTION is read only when FUNCTION_URL is not set.
    const names = new Set([...asked(parseNatsConfig, 'nats', env), ...asked(parseNatsConfig, 'nats', { ...env, FUNCTION_URL: undefined, KUBELESS_FUNCTION: 'http://127.0.0.1/' })]);
    const read = [...names].filter((name) => !name.startsWith('NATS_')).sort();
    expect(read).toEqual(COMMON_VARIABLES.map((variable) => variable.name).sort());
  });
});

describe('unknown variables', () => {
  it('warns about a misspelt NATS_STREAM, naming NATS_JETSTREAM_STREAM', () => {
    const { warnings } = readConfiguration('nats', fakeModule('nats', parseNatsConfig), {
      FUNCTION_URL: 'http://127.0.0.1/', NATS_URL: 'nats://127.0.0.1:4222', NATS_SUBJECT: 'a', NATS_STREAM: 'ORDERS', DELIVERY_RETRY_ON: '5xx', KAFKA_TOPIC: 'x',
    }, NATS_VARIABLES);
    expect(warnings).toEqual([
      'DELIVERY_RETRY_ON is not a variable this dispatcher reads; it is ignored (did you mean DELIVERY_RETRY_WHEN?)',
      'NATS_STREAM is not a variable this dispatcher reads; it is ignored (did you mean NATS_JETSTREAM_STREAM?)',
    ]);
  });

  it('says nothing when every variable is known', () => {
    const { warnings } = readConfiguration('kafka', fakeModule('kafka', parseKafkaConfig), {
      FUNCTION_URL: 'http://127.0.0.1/', KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC: 't', DELIVERY_TIMEOUT: '5s', NATS_URL: 'other dispatcher',
    }, KAFKA_VARIABLES);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['NATS_SUBJCT', 'NATS_SUBJECT'],
    ['KAFKA_TOPIC_NAME', 'KAFKA_TOPIC'],
    ['KAFKA_BROKER', 'KAFKA_BROKERS'],
    ['RABBITMQ_QUEUE_NAME', 'RABBITMQ_QUEUE'],
  ])('suggests %s → %s', (name, expected) => {
    const all = [...NATS_VARIABLES, ...KAFKA_VARIABLES, ...RABBITMQ_VARIABLES].map((variable) => variable.name).filter((candidate) => candidate.split('_')[0] === name.split('_')[0]);
    expect(closestName(name, all)).toBe(expected);
  });
});

describe('kurier dispatch <source> --help', () => {
  it.each(SOURCES.map(({ source, variables }) => [source, variables] as const))('%s lists its variables with their defaults and exits 0', async (source, variables) => {
    const result = await runKurier(['dispatch', source, '--help']);
    expect(result.code).toBe(0);
    for (const variable of [...variables, ...COMMON_VARIABLES]) {
      expect(result.stdout).toMatch(new RegExp(`^  ${variable.name} +${variable.default === 'required' ? 'required' : 'default: '}`, 'm'));
    }
  });
});

describe('what render gives a dispatcher', () => {
  it('holds no <SOURCE>_* or DELIVERY_* variable the dispatcher would warn about, for every example', async () => {
    const { readDocuments } = await import('../../cli/input.js');
    const { render } = await import('../../render/render.js');
    const { loadTemplates } = await import('../../render/templates.js');
    const { SHIPPED_TEMPLATES } = await import('../../render/shipped-files.js');
    const templates = await loadTemplates(SHIPPED_TEMPLATES);
    const catalogs = new Map(SOURCES.map(({ source, variables }) => [source, [...variables, ...COMMON_VARIABLES, ...(source === 'pulsar' ? PULSAR_COMPATIBILITY_VARIABLES : [])].map((variable) => variable.name)]));
    let checked = 0;
    for (const document of await readDocuments('examples')) {
      const deployment = render(document.value as Parameters<typeof render>[0], templates, { allowCrossNamespace: true });
      const pod = (deployment.spec as { template: { spec: { containers: { name: string; args?: string[]; env?: { name: string }[] }[] } } }).template.spec;
      const dispatcher = pod.containers.find((container) => container.name === 'dispatcher');
      const source = (dispatcher?.args ?? []).at(-1) as Source;
      const known = catalogs.get(source) ?? [];
      const owned = (dispatcher?.env ?? []).map((variable) => variable.name).filter((name) => name.startsWith(`${source.toUpperCase()}_`) || name.startsWith('DELIVERY_'));
      expect(owned.filter((name) => !known.includes(name)), document.file).toEqual([]);
      checked += owned.length;
    }
    expect(checked).toBeGreaterThan(20);
  });
});

describe('a dispatcher started by hand with a misspelt variable', () => {
  const cleanup = useCleanup();

  it('logs a warning naming the closest known variable (NATS_STREAM → NATS_JETSTREAM_STREAM) at start', async () => {
    const dispatcher = DispatcherProcess.spawn('nats', { FUNCTION_URL: 'http://127.0.0.1:9/', NATS_URL: 'nats://127.0.0.1:9', NATS_SUBJECT: 'orders', NATS_STREAM: 'ORDERS' });
    cleanup.push(() => dispatcher.stop());
    const warning = await dispatcher.waitForLog((line) => line.level === 'warn' && String(line.msg).startsWith('NATS_STREAM'), 15_000, 'the unknown-variable warning');
    expect(warning.msg).toBe('NATS_STREAM is not a variable this dispatcher reads; it is ignored (did you mean NATS_JETSTREAM_STREAM?)');
  });
});
