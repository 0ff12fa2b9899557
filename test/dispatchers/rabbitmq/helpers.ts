/** The shared RabbitMQ of the RabbitMQ suites: one connection and channel per file, numbered publishes. */
import amqp from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import { useSuiteFixture } from '../../support/suite-fixture.js';

/** The shared broker; RABBITMQ_TEST_URL points the suites elsewhere. */
export const RABBITMQ = process.env.RABBITMQ_TEST_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface RabbitMQFixture {
  readonly connection: ChannelModel;
  readonly channel: Channel;
}

/** One connection and channel for the calling file: opened in `beforeAll`, closed in `afterAll`. */
export function useRabbitMQ(): RabbitMQFixture {
  return useSuiteFixture(
    'the RabbitMQ connection',
    async () => {
      const connection = await amqp.connect(RABBITMQ);
      return { connection, channel: await connection.createChannel() };
    },
    ({ connection }) => connection.close(),
  );
}

/** Publishes `{"n":i}` for i in [from, to) to `queue`, persistent, and waits for the broker's confirms. */
export async function publishNumbered(connection: ChannelModel, queue: string, from: number, to: number): Promise<void> {
  const confirm = await connection.createConfirmChannel();
  for (let i = from; i < to; i += 1) {
    confirm.sendToQueue(queue, Buffer.from(JSON.stringify({ n: i })), { persistent: true, messageId: `m-${String(i)}`, contentType: 'application/json' });
  }
  await confirm.waitForConfirms();
  await confirm.close();
}
