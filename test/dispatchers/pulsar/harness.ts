/**
 * What the Pulsar tests run against: the fake of pulsar-client (no real broker) always, and a
 * real broker through the real `pulsar-client` when PULSAR_URL is set. Plus the adapter wired to
 * the real core pipeline in this process.
 */
import { randomBytes } from 'node:crypto';
import { readConfiguration } from '../../../dispatchers/core/runtime.js';
import { createMetrics } from '../../../dispatchers/core/metrics.js';
import type { DispatchPipeline } from '../../../dispatchers/core/pipeline.js';
import type { SourceModule } from '../../../dispatchers/core/types.js';
import { PulsarAdapter } from '../../../dispatchers/pulsar/adapter.js';
import type { PulsarClient, PulsarClientConfig, PulsarModule, PulsarProducerMessage } from '../../../dispatchers/pulsar/client-api.js';
import { parsePulsarConfig } from '../../../dispatchers/pulsar/config.js';
import type { PulsarConfig } from '../../../dispatchers/pulsar/config.js';
import { loadPulsarClient } from '../../../dispatchers/pulsar/load.js';
import { FakePulsarBroker } from '../../support/fake-pulsar.js';
import { silentLogger } from '../../../common/logger.js';
import { wirePipeline } from '../../support/in-process-pipeline.js';

export const FAKE_LABEL = 'fake pulsar-client, no real broker';
export const REAL_URL = process.env.PULSAR_URL;

export interface PulsarTarget {
  /** Goes into every test name. */
  readonly label: string;
  readonly serviceUrl: string;
  /** The smallest ack timeout the client accepts (10 s for the real one). */
  readonly minAckTimeoutMs: number;
  /** The fake broker, for inspection (undefined against a real broker). */
  readonly broker: FakePulsarBroker | undefined;
  /** The module handed to the adapter; records every client it creates. */
  load(): Promise<PulsarModule>;
  /** Clients created through {@link load}, e.g. to close one abruptly (a crashed process). */
  readonly clients: PulsarClient[];
}

/** The fake target; `minAckTimeoutMs` can be lowered so ack-timeout tests stay fast. */
export function fakeTarget(minAckTimeoutMs = 10_000): PulsarTarget {
  const broker = new FakePulsarBroker({ minAckTimeoutMs });
  return recording({ label: FAKE_LABEL, serviceUrl: 'pulsar://127.0.0.1:6650', minAckTimeoutMs, broker }, () =>
    Promise.resolve(broker.module as unknown as PulsarModule),
  );
}

/** The real broker at PULSAR_URL through the real pulsar-client. */
export function realTarget(url: string): PulsarTarget {
  return recording({ label: `real Pulsar broker at ${url}`, serviceUrl: url, minAckTimeoutMs: 10_000, broker: undefined }, loadPulsarClient);
}

function recording(base: Omit<PulsarTarget, 'load' | 'clients'>, load: () => Promise<PulsarModule>): PulsarTarget {
  const clients: PulsarClient[] = [];
  return {
    ...base,
    clients,
    load: async () => {
      const module = await load();
      const Recorded = new Proxy(module.Client, {
        construct(Client, args: [PulsarClientConfig]) {
          const client = new Client(...args);
          clients.push(client);
          return client;
        },
      });
      return { ...module, Client: Recorded };
    },
  };
}

export function uniqueTopic(prefix: string): string {
  return `persistent://public/default/${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function pulsarEnv(target: PulsarTarget, topic: string, functionUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TRIGGER_KIND: 'PulsarTrigger',
    TRIGGER_NAME: 'orders',
    TRIGGER_NAMESPACE: 'shop',
    FUNCTION_URL: functionUrl,
    PULSAR_BROKER: target.serviceUrl,
    PULSAR_TOPIC: topic,
    PULSAR_INITIAL_POSITION: 'Earliest',
    PULSAR_NACK_REDELIVERY_DELAY: '100ms',
    DELIVERY_RETRY_INITIAL_DELAY: '20ms',
    DELIVERY_RETRY_MAX_DELAY: '200ms',
    DELIVERY_TIMEOUT: '5s',
    ...extra,
  };
}

export interface PulsarDispatcher {
  readonly adapter: PulsarAdapter;
  readonly pipeline: DispatchPipeline;
  readonly config: PulsarConfig;
  /** Messages this replica delivered (kurier_dispatcher_deliveries_total{outcome="delivered"}). */
  delivered(): Promise<number>;
  /** The SIGTERM path: drain (release what is left), stop receiving, close (acks, nacks, consumer). */
  stop(graceMs?: number): Promise<void>;
  /** A crash: the client disconnects without acknowledging anything more; deliveries stop. */
  crash(): Promise<void>;
}

const module: SourceModule<unknown> = {
  source: 'pulsar',
  parseConfig: parsePulsarConfig,
  createAdapter: () => {
    throw new Error('not used');
  },
};

export async function startDispatcher(target: PulsarTarget, env: Record<string, string>): Promise<PulsarDispatcher> {
  const { config: common, sourceConfig } = readConfiguration('pulsar', module, env);
  const config = sourceConfig as PulsarConfig;
  const metrics = createMetrics();
  const adapter = new PulsarAdapter(config, { trigger: common.trigger, logger: silentLogger, registry: metrics.registry, delivery: common.delivery }, { load: () => target.load() });
  const { pipeline, client, stop } = wirePipeline('pulsar', common, adapter, metrics);
  const clientsBefore = target.clients.length;
  await adapter.start(pipeline);
  const own = target.clients.slice(clientsBefore);
  let stopped = false;
  return {
    adapter,
    pipeline,
    config,
    delivered: async () =>
      (await metrics.registry.getSingleMetric('kurier_dispatcher_deliveries_total')?.get())?.values.find((value) => value.labels.outcome === 'delivered')?.value ?? 0,
    stop: async (graceMs = 5_000) => {
      if (stopped) return;
      stopped = true;
      await stop(graceMs);
    },
    crash: async () => {
      if (stopped) return;
      stopped = true;
      for (const pulsarClient of own) await pulsarClient.close();
      // The process is gone: nothing more reaches the function.
      await pipeline.drain(0);
      await adapter.close().catch(() => undefined);
      client.close();
    },
  };
}

/** Publishes through the client API (works the same on the fake and on a real broker). */
export async function publish(target: PulsarTarget, topic: string, messages: PulsarProducerMessage[]): Promise<void> {
  const pulsar = await target.load();
  const client = new pulsar.Client({ serviceUrl: target.serviceUrl });
  try {
    const producer = await client.createProducer({ topic, batchingEnabled: false });
    for (const message of messages) await producer.send(message);
    await producer.close();
  } finally {
    await client.close();
  }
}
