import { describe, expect, it } from 'vitest';
import { AckPolicy } from 'nats';
import type { JsMsg, NatsConnection } from 'nats';
import { ConfirmedAcks } from '../../../dispatchers/nats/confirmed-acks.js';
import type { Logger } from '../../../dispatchers/core/types.js';
import { useCleanup } from '../../support/cleanup.js';
import { createStream, deleteStream, publishNumbered, uniqueName, useSharedNats } from './helpers.js';

const shared = useSharedNats();
const cleanup = useCleanup();
const ACK = new TextEncoder().encode('+ACK');

function recordingLogger(): { logger: Logger; warnings: { fields: object; message: string | undefined }[] } {
  const warnings: { fields: object; message: string | undefined }[] = [];
  const silent = (): void => undefined;
  const logger = { debug: silent, info: silent, error: silent, warn: (fields: object, message?: string) => { warnings.push({ fields, message }); } } as unknown as Logger;
  return { logger, warnings };
}

/** Counts the PUBs nats.js hands to the socket: one `send` per socket write. */
function countWrites(nc: NatsConnection): { readonly writes: number } {
  const transport = (nc as unknown as { protocol: { transport: { send(data: Uint8Array): void } } }).protocol.transport;
  const original = transport.send.bind(transport);
  const counted = { writes: 0 };
  transport.send = (data: Uint8Array): void => {
    counted.writes += 1;
    original(data);
  };
  return counted;
}

async function fetchAll(nc: NatsConnection, stream: string, consumer: string, count: number): Promise<JsMsg[]> {
  const messages = await (await nc.jetstream().consumers.get(stream, consumer)).fetch({ max_messages: count, expires: 5_000 });
  const out: JsMsg[] = [];
  for await (const msg of messages) out.push(msg);
  return out;
}

describe('ConfirmedAcks (JetStream acks coalesced per loop turn, confirmed by the server)', () => {
  it('publishes nothing until the end of the loop turn, then every ack of the turn in one socket write; all confirmed', async () => {
    const nc = shared.nc;
    const stream = uniqueName('KURIER_ACKS');
    const subject = `${stream.toLowerCase()}.x`;
    await createStream(nc, stream, [subject]);
    cleanup.push(() => deleteStream(nc, stream));
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add(stream, { durable_name: 'c', ack_policy: AckPolicy.Explicit, max_ack_pending: 100 });
    await publishNumbered(nc, subject, 0, 20);
    const messages = await fetchAll(nc, stream, 'c', 20);
    expect(messages).toHaveLength(20);
    const { logger, warnings } = recordingLogger();
    const acks = new ConfirmedAcks(nc, { attempts: 5, timeoutMs: 2_000, logger });
    cleanup.push(() => { acks.close(); return Promise.resolve(); });
    await nc.flush();
    const counted = countWrites(nc);
    for (const msg of messages) acks.send((msg as JsMsg & { reply: string }).reply, ACK, String(msg.seq));
    await Promise.resolve();
    expect(counted.writes).toBe(0);
    expect(acks.size).toBe(20);
    await acks.settled();
    expect(counted.writes).toBe(1);
    expect(acks.size).toBe(0);
    expect(warnings).toEqual([]);
    const info = await jsm.consumers.info(stream, 'c');
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(20);
  });

  it('resends an ack nobody confirms, with one timer for all, and gives up after the attempts with a warning', async () => {
    const nc = shared.nc;
    const subject = uniqueName('kurier_silent');
    const received: string[] = [];
    // Takes the "acks" and never answers.
    const silent = nc.subscribe(subject, { callback: (_error, msg) => { received.push(new TextDecoder().decode(msg.data)); } });
    cleanup.push(() => { silent.unsubscribe(); return Promise.resolve(); });
    await nc.flush();
    const { logger, warnings } = recordingLogger();
    const acks = new ConfirmedAcks(nc, { attempts: 3, timeoutMs: 200, logger });
    cleanup.push(() => { acks.close(); return Promise.resolve(); });
    acks.send(subject, ACK, 'S:1');
    acks.send(subject, ACK, 'S:2');
    const started = Date.now();
    await acks.settled();
    expect(received).toEqual(['+ACK', '+ACK', '+ACK', '+ACK', '+ACK', '+ACK']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 200);
    expect(warnings.map((w) => (w.fields as { id: string }).id).sort()).toEqual(['S:1', 'S:2']);
    expect(warnings[0]?.message).toMatch(/did not confirm the ack/);
  });

  it('counts a no-responders answer as unconfirmed and tries again', async () => {
    const nc = shared.nc;
    const { logger, warnings } = recordingLogger();
    const acks = new ConfirmedAcks(nc, { attempts: 2, timeoutMs: 5_000, logger });
    cleanup.push(() => { acks.close(); return Promise.resolve(); });
    acks.send(uniqueName('kurier_nobody'), ACK, 'N:1');
    const started = Date.now();
    await acks.settled();
    // Both attempts were answered at once by the server (503), long before the 5 s timeout.
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ id: 'N:1', err: 'no responders' });
  });
});
