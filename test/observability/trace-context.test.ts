/**
 * W3C trace context on a message reaches the function unchanged, for every source: published
 * with `traceparent` and `tracestate` on the real broker (Pulsar: the fake client, or PULSAR_URL),
 * and compared with the headers the local function received. A dead-lettered message keeps them.
 */
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { headers as natsHeaders } from 'nats';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../support/cleanup.js';
import { FunctionServer } from '../support/function-server.js';
import type { RecordedRequest } from '../support/function-server.js';
import { createTopic, uniqueName as kafkaName, useKafkaCluster } from '../support/kafka-mock.js';
import { connectNats, createStream, deleteStream, uniqueName, useSharedNats } from '../dispatchers/nats/helpers.js';
import { kafkaEnv } from '../dispatchers/kafka/in-process.js';
import { fakeTarget, publish as publishPulsar, pulsarEnv, realTarget, REAL_URL, startDispatcher as startPulsar, uniqueTopic } from '../dispatchers/pulsar/harness.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const TRACESTATE = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
const RABBITMQ = process.env.RABBITMQ_TEST_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const shared = useSharedNats();
const kafka = useKafkaCluster();
const cleanup = useCleanup();

async function functionServer(): Promise<FunctionServer> {
  const fn = await FunctionServer.start();
  cleanup.push(() => fn.close());
  return fn;
}

async function firstDelivery(fn: FunctionServer): Promise<RecordedRequest> {
  await fn.waitFor((f) => f.delivered.length >= 1, 30_000);
  const [request] = fn.delivered;
  if (request === undefined) throw new Error('nothing delivered');
  return request;
}

function expectTraceContext(request: RecordedRequest): void {
  expect(request.headers['traceparent']).toBe(TRACEPARENT);
  expect(request.headers['tracestate']).toBe(TRACESTATE);
}

describe('W3C trace context reaches the function unchanged', () => {
  it('from JetStream headers (real nats-server), and a dead letter carries it in its headers and envelope', async () => {
    const stream = uniqueName('KURIER_TRACE');
    const prefix = stream.toLowerCase();
    await createStream(shared.nc, stream, [`${prefix}.>`]);
    cleanup.push(() => deleteStream(shared.nc, stream));
    const fn = await functionServer();
    fn.behave((request) => (request.text === 'poison' ? { status: 400 } : undefined));
    const deadLetters = shared.nc.subscribe(`${prefix}.dead`, { max: 1 });
    await cleanup.dispatcher('nats', {
      FUNCTION_URL: fn.url,
      TRIGGER_KIND: 'NATSTrigger',
      TRIGGER_NAME: 'orders',
      TRIGGER_NAMESPACE: 'shop',
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_SUBJECT: `${prefix}.orders`,
      NATS_JETSTREAM_STREAM: stream,
      NATS_JETSTREAM_CONSUMER: `${stream}-c`,
      DELIVERY_DEAD_LETTER_TOPIC: `${prefix}.dead`,
    });
    const headers = natsHeaders();
    headers.set('traceparent', TRACEPARENT);
    headers.set('tracestate', TRACESTATE);
    const js = shared.nc.jetstream();
    await js.publish(`${prefix}.orders`, 'fine', { headers });
    expectTraceContext(await firstDelivery(fn));

    await js.publish(`${prefix}.orders`, 'poison', { headers });
    for await (const deadLetter of deadLetters) {
      expect(deadLetter.headers?.get('traceparent')).toBe(TRACEPARENT);
      expect(deadLetter.headers?.get('tracestate')).toBe(TRACESTATE);
      const envelope = JSON.parse(deadLetter.string()) as { message: { headers: Record<string, string> } };
      expect(envelope.message.headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
    }
  });

  it('from core NATS headers (real nats-server)', async () => {
    const subject = `kurier.trace.${randomBytes(4).toString('hex')}`;
    const fn = await functionServer();
    await cleanup.dispatcher('nats', {
      FUNCTION_URL: fn.url,
      TRIGGER_KIND: 'NATSTrigger',
      TRIGGER_NAME: 'orders',
      TRIGGER_NAMESPACE: 'shop',
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_SUBJECT: subject,
    });
    const nc = await connectNats();
    cleanup.push(() => nc.close());
    const headers = natsHeaders();
    headers.set('traceparent', TRACEPARENT);
    headers.set('tracestate', TRACESTATE);
    // Core NATS is at-most-once: publish until the (already subscribed) dispatcher got one.
    const publishing = setInterval(() => { nc.publish(subject, 'hello', { headers }); }, 200);
    cleanup.push(() => { clearInterval(publishing); return Promise.resolve(); });
    expectTraceContext(await firstDelivery(fn));
  });

  it('from Kafka record headers (librdkafka mock cluster, not Apache Kafka)', async () => {
    const topic = kafkaName('trace');
    await createTopic(kafka.cluster, topic);
    const fn = await functionServer();
    await cleanup.dispatcher('kafka', kafkaEnv(kafka.cluster, topic, kafkaName('group'), fn.url));
    const producer = kafka.kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ value: 'hello', headers: { traceparent: TRACEPARENT, tracestate: TRACESTATE } }] });
    } finally {
      await producer.disconnect();
    }
    expectTraceContext(await firstDelivery(fn));
  });

  it('from AMQP message headers (real RabbitMQ)', async () => {
    const connection = await amqp.connect(RABBITMQ, { clientProperties: { connection_name: 'kurier-trace-context-test' } });
    cleanup.push(() => connection.close());
    const channel = await connection.createConfirmChannel();
    const queue = `kurier.trace.${randomBytes(4).toString('hex')}`;
    await channel.assertQueue(queue, { durable: true });
    cleanup.push(() => channel.deleteQueue(queue));
    const fn = await functionServer();
    await cleanup.dispatcher('rabbitmq', {
      FUNCTION_URL: fn.url,
      TRIGGER_KIND: 'RabbitMQTrigger',
      TRIGGER_NAME: 'orders',
      TRIGGER_NAMESPACE: 'shop',
      RABBITMQ_URL: RABBITMQ,
      RABBITMQ_QUEUE: queue,
    });
    channel.sendToQueue(queue, Buffer.from('hello'), { persistent: true, headers: { traceparent: TRACEPARENT, tracestate: TRACESTATE } });
    await channel.waitForConfirms();
    expectTraceContext(await firstDelivery(fn));
  });

  const pulsar = REAL_URL === undefined ? fakeTarget() : realTarget(REAL_URL);
  it(`from Pulsar message properties (${pulsar.label})`, async () => {
    const topic = uniqueTopic('trace');
    const fn = await functionServer();
    const dispatcher = await startPulsar(pulsar, pulsarEnv(pulsar, topic, fn.url));
    cleanup.push(() => dispatcher.stop());
    await publishPulsar(pulsar, topic, [{ data: Buffer.from('hello'), properties: { traceparent: TRACEPARENT, tracestate: TRACESTATE } }]);
    expectTraceContext(await firstDelivery(fn));
  });
});
