import { describe, expect, it } from 'vitest';
import { corePendingLimits } from '../../../dispatchers/nats/index.js';
import { useCleanup } from '../../support/cleanup.js';
import { FunctionServer } from '../../support/function-server.js';
import { tally } from '../../support/stream-tally.js';
import { SHARED_NATS, uniqueName, useSharedNats } from './helpers.js';

const shared = useSharedNats();
const cleanup = useCleanup();

describe('core NATS under load (real nats-server)', () => {
  it('bounds what a slow replica buffers: the overflow is dropped, counted and logged, and every message is either delivered once or counted', async () => {
    const total = 5_000;
    const fn = await FunctionServer.start();
    cleanup.push(() => fn.close());
    fn.setDelay(5);
    const subject = uniqueName('kurier.corefaults').replace(/_/g, '.');
    const dispatcher = await cleanup.dispatcher('nats', {
      FUNCTION_URL: fn.url,
      TRIGGER_NAME: 'events',
      TRIGGER_NAMESPACE: 'shop',
      NATS_URL: SHARED_NATS,
      NATS_SUBJECT: subject,
      NATS_QUEUE_GROUP: `${subject}.group`,
      DELIVERY_MAX_IN_FLIGHT: '1',
    });
    const padding = 'x'.repeat(2_000);
    for (let i = 0; i < total; i += 1) shared.nc.publish(subject, JSON.stringify({ n: i, padding }));
    await shared.nc.flush();
    const deadline = Date.now() + 30_000;
    const droppedSoFar = (): Promise<number> => dispatcher.metric('kurier_dispatcher_nats_slow_consumer_dropped_total');
    while ((await droppedSoFar()) + fn.delivered.length < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    const dropped = await droppedSoFar();
    const result = tally(fn.delivered, total);
    console.log(`[core NATS slow consumer] ${total} published, ${result.distinct} delivered, ${dropped} dropped, ${result.duplicates} duplicates`);
    expect(dropped).toBeGreaterThan(0);
    expect(result.distinct + dropped).toBe(total);
    expect(result.duplicates).toBe(0);
    // Held at most: the buffer plus the one in flight, plus what was delivered while publishing.
    expect(await dispatcher.metric('kurier_dispatcher_messages_received_total')).toBe(result.distinct);
    expect(result.distinct).toBeLessThan(total);
    expect(corePendingLimits(1).messages).toBeLessThan(total);
    expect(dispatcher.logs.some((l) => l.msg === 'core NATS slow consumer: buffer full, messages dropped')).toBe(true);
  }, 60_000);
});
