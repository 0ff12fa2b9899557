/**
 * The baseline: what a person would hand-write instead of a dispatcher — consume, POST the body
 * to the function over a keep-alive agent with at most CONCURRENCY in flight, ack on 2xx, nak /
 * requeue otherwise. No retries with backoff, no headers beyond the content type, no metrics, no
 * logs. Run as its own process by run.ts, like the dispatcher, so both get the same CPU share.
 *
 * Env: BENCH_BROKER (nats|rabbitmq|kafka), BENCH_URL (Kafka: the bootstrap list), BENCH_FUNCTION_URL,
 * BENCH_CONCURRENCY; NATS: BENCH_STREAM, BENCH_SUBJECT, BENCH_CONSUMER, BENCH_MAX_ACK_PENDING (default
 * CONCURRENCY); RabbitMQ: BENCH_QUEUE; Kafka: BENCH_TOPIC, BENCH_GROUP, BENCH_PARTITIONS.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { AckPolicy, connect } from 'nats';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`baseline: ${name} is required\n`);
    process.exit(2);
  }
  return value;
}

const broker = required('BENCH_BROKER');
const url = required('BENCH_URL');
const target = new URL(required('BENCH_FUNCTION_URL'));
const concurrency = Number(required('BENCH_CONCURRENCY'));
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

/**
 * With BENCH_FULL_HEADERS=1: the request shape the dispatcher sends (a fresh event id and time per
 * message, the kubeless and CloudEvents headers), to show what those headers cost a plain loop.
 */
function fullHeaders(length: number): Record<string, string | number> {
  const id = randomUUID();
  const time = new Date().toISOString();
  const source = process.env.BENCH_BROKER ?? 'nats';
  return {
    'content-type': 'text/plain', 'event-id': id, 'event-type': 'text/plain', 'event-time': time,
    'event-namespace': `${source}triggers.kubeless.io`, 'event-topic': 'bench', 'event-name': 'bench',
    'ce-specversion': '1.0', 'ce-id': id, 'ce-source': `/apis/kurier.dev/v1alpha1/namespaces/default/${source}triggers/bench`,
    'ce-type': `dev.kurier.${source}.message`, 'ce-time': time, 'ce-subject': 'bench', 'content-length': length,
  };
}

function post(payload: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(target, {
      method: 'POST',
      agent,
      headers: process.env.BENCH_FULL_HEADERS === '1' ? fullHeaders(payload.length) : { 'content-type': 'application/json', 'content-length': payload.length },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => { resolve(res.statusCode ?? 0); });
      res.on('error', reject);
    });
    req.end(payload);
  });
}

const ok = (status: number): boolean => status >= 200 && status < 300;

async function runNats(): Promise<() => Promise<void>> {
  const stream = required('BENCH_STREAM');
  const durable = required('BENCH_CONSUMER');
  const nc = await connect({ servers: url, name: 'kurier-bench-baseline' });
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    filter_subject: required('BENCH_SUBJECT'),
    max_ack_pending: Number(process.env.BENCH_MAX_ACK_PENDING ?? concurrency),
  });
  const consumer = await nc.jetstream().consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: concurrency });
  let inFlight = 0;
  let wake: (() => void) | undefined;
  void (async () => {
    for await (const msg of messages) {
      while (inFlight >= concurrency) await new Promise<void>((resolve) => (wake = resolve));
      inFlight += 1;
      post(msg.data).then(
        (status) => { if (ok(status)) msg.ack(); else msg.nak(); },
        () => { msg.nak(); },
      ).finally(() => {
        inFlight -= 1;
        const waiting = wake;
        wake = undefined;
        waiting?.();
      });
    }
  })();
  return async () => {
    await messages.close();
    await nc.drain();
  };
}

async function runRabbit(): Promise<() => Promise<void>> {
  const queue = required('BENCH_QUEUE');
  const connection = await amqp.connect(url, { clientProperties: { connection_name: 'kurier-bench-baseline' } });
  const channel = await connection.createChannel();
  await channel.prefetch(concurrency);
  await channel.consume(queue, (msg) => {
    if (msg === null) return;
    post(msg.content).then(
      (status) => { if (ok(status)) channel.ack(msg); else channel.nack(msg, false, true); },
      () => { channel.nack(msg, false, true); },
    );
  });
  return async () => {
    await channel.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
  };
}

/**
 * Kafka: a fresh consumer group reading the topic from the beginning, kafkajs' default timeouts.
 * At 1 in flight, `eachMessage`: kafkajs resolves a record's offset once eachMessage returned (after
 * the 2xx) and commits the resolved offsets after each batch. Above 1, `eachBatch` with every
 * partition consumed concurrently and one limit of n POSTs in flight shared by all of them: a
 * batch's records are POSTed as slots free (within a partition too, so n in flight does not depend
 * on the partition count), and the batch's last offset is resolved — committed by kafkajs after the
 * batch — only once every record of it was answered 2xx. Kafka has no nak: a failed POST is sent
 * again at once.
 */
async function runKafka(): Promise<() => Promise<void>> {
  const kafka = new Kafka({ clientId: 'kurier-bench-baseline', brokers: url.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: required('BENCH_GROUP') });
  await consumer.connect();
  await consumer.subscribe({ topics: [required('BENCH_TOPIC')], fromBeginning: true });
  const deliver = async (value: Buffer | null): Promise<void> => {
    const payload = value ?? Buffer.alloc(0);
    while (!ok(await post(payload).catch(() => 0))) { /* again, at once */ }
  };
  if (concurrency === 1) {
    await consumer.run({ eachMessage: ({ message }) => deliver(message.value) });
  } else {
    let free = concurrency;
    const waiting: (() => void)[] = [];
    const acquire = (): Promise<void> | undefined => {
      if (free > 0) {
        free -= 1;
        return undefined;
      }
      return new Promise((resolve) => waiting.push(resolve));
    };
    const release = (): void => {
      const next = waiting.shift();
      if (next === undefined) free += 1;
      else next();
    };
    await consumer.run({
      partitionsConsumedConcurrently: Number(required('BENCH_PARTITIONS')),
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const posts: Promise<void>[] = [];
        let last: string | undefined;
        for (const message of payload.batch.messages) {
          if (!payload.isRunning() || payload.isStale()) break;
          await acquire();
          posts.push(deliver(message.value).finally(release));
          last = message.offset;
          await payload.heartbeat();
        }
        await Promise.all(posts);
        if (last !== undefined) payload.resolveOffset(last);
      },
    });
  }
  return () => consumer.disconnect();
}

const stop = broker === 'nats' ? await runNats() : broker === 'kafka' ? await runKafka() : await runRabbit();
process.stdout.write('baseline consuming\n');
process.once('SIGTERM', () => {
  void stop().finally(() => process.exit(0));
});
