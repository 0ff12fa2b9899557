import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DispatcherProcess } from '../../support/dispatcher-process.js';
import { FunctionServer } from '../../support/function-server.js';

let fn: FunctionServer;
let dispatcher: DispatcherProcess | undefined;

beforeEach(async () => {
  fn = await FunctionServer.start();
});
afterEach(async () => {
  await dispatcher?.stop();
  dispatcher = undefined;
  await fn.close();
});

/**
 * SIGSTOPs the dispatcher 300 ms before the next multiple of `periodMs` and SIGCONTs it `lateMs`
 * after it; resolves with that slot (epoch ms) once the process runs again.
 */
async function pauseAcrossNextSlot(target: DispatcherProcess, periodMs: number, lateMs: number): Promise<number> {
  let slot = Math.ceil(Date.now() / periodMs) * periodMs;
  if (slot - Date.now() < 500) slot += periodMs;
  await new Promise((resolve) => setTimeout(resolve, slot - 300 - Date.now()));
  target.signal('SIGSTOP');
  await new Promise((resolve) => setTimeout(resolve, slot + lateMs - Date.now()));
  target.signal('SIGCONT');
  return slot;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    FUNCTION_URL: fn.url,
    TRIGGER_KIND: 'CronTrigger',
    TRIGGER_NAME: 'heartbeat',
    TRIGGER_NAMESPACE: 'ops',
    CRON_SCHEDULE: '* * * * * *',
    CRON_PAYLOAD: '{"ping":true}',
    DELIVERY_RETRY_INITIAL_DELAY: '50ms',
    DELIVERY_RETRY_MAX_DELAY: '200ms',
    ...extra,
  };
}

describe('cron dispatcher (real process, real HTTP function)', () => {
  it('fires every tick with the payload and a ce-id derived from the scheduled time', async () => {
    dispatcher = await DispatcherProcess.start('cron', env());
    await fn.waitFor((s) => s.delivered.length >= 3, 10_000);
    const ids = fn.delivered.map((r) => String(r.headers['ce-id']));
    expect(new Set(ids).size).toBe(ids.length);
    for (const request of fn.delivered) {
      const id = String(request.headers['ce-id']);
      expect(id).toMatch(/^ops\/heartbeat@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      expect(request.headers['ce-time']).toBe(id.split('@')[1]);
      expect(request.headers['event-namespace']).toBe('cronjobtriggers.kubeless.io');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.text).toBe('{"ping":true}');
    }
    const seconds = ids.map((id) => Date.parse(id.split('@')[1]!) / 1000).sort((a, b) => a - b);
    // One tick per scheduled second (a tick node-cron misses under load is skipped, never doubled).
    for (let i = 1; i < seconds.length; i += 1) expect(seconds[i]! - seconds[i - 1]!).toBeGreaterThanOrEqual(1);
  });

  it('a tick that runs late keeps the ce-id of its scheduled second', async () => {
    dispatcher = await DispatcherProcess.start('cron', env({ CRON_SCHEDULE: '*/5 * * * * *' }));
    // Freeze the process across a scheduled second so the tick runs 2.5 s late.
    const slot = await pauseAcrossNextSlot(dispatcher, 5_000, 2_500);
    await fn.waitFor((s) => s.delivered.some((r) => r.receivedAt >= slot + 2_000), 10_000);
    const ids = fn.delivered.map((r) => String(r.headers['ce-id']).split('@')[1]!);
    expect(ids).toContain(new Date(slot).toISOString());
    for (const id of ids) expect(Date.parse(id) % 5_000, `${id} is not a scheduled second`).toBe(0);
    expect(await dispatcher.metric('kurier_dispatcher_cron_ticks_skipped_total', { reason: 'missed' })).toBe(0);
  });

  it('logs and counts every tick it missed because the next one was already due', async () => {
    dispatcher = await DispatcherProcess.start('cron', env({ CRON_SCHEDULE: '*/2 * * * * *' }));
    // Frozen from just before a slot until 5.5 s after it: that slot and the next are missed, the third runs late.
    const slot = await pauseAcrossNextSlot(dispatcher, 2_000, 5_500);
    const missed = [new Date(slot).toISOString(), new Date(slot + 2_000).toISOString()];
    await fn.waitFor((s) => s.delivered.some((r) => String(r.headers['ce-id']).endsWith(new Date(slot + 4_000).toISOString())), 10_000);
    await dispatcher.waitForLog((l) => l.msg === 'tick missed: the dispatcher could not run before the next tick was due' && l.scheduled === missed[1]);
    expect(dispatcher.logs.filter((l) => l.msg?.startsWith('tick missed') === true).map((l) => l.scheduled)).toEqual(missed);
    expect(await dispatcher.metric('kurier_dispatcher_cron_ticks_skipped_total', { reason: 'missed' })).toBe(2);
    const delivered = fn.delivered.map((r) => String(r.headers['ce-id']).split('@')[1]);
    for (const id of missed) expect(delivered).not.toContain(id);
  });

  it('never overlaps runs: a tick that comes while the previous is still delivering is skipped', async () => {
    fn.setDelay(2_200);
    dispatcher = await DispatcherProcess.start('cron', env());
    await fn.waitFor((s) => s.delivered.length >= 2, 12_000);
    expect(fn.maxConcurrency).toBe(1);
    expect(dispatcher.logs.some((l) => l.msg === 'previous tick still being delivered: tick skipped')).toBe(true);
  });

  it('retries a failing tick with backoff and stops cleanly with exit 0 on SIGTERM', async () => {
    fn.answer({ status: 503 }, { status: 503 });
    dispatcher = await DispatcherProcess.start('cron', env());
    await fn.waitFor((s) => s.delivered.length >= 1, 10_000);
    expect(await dispatcher.metric('kurier_dispatcher_retries_total')).toBeGreaterThanOrEqual(2);
    const exit = await dispatcher.terminate();
    expect(exit.code).toBe(0);
    expect(dispatcher.logs.some((l) => l.msg === 'dispatcher stopped')).toBe(true);
  });

  it('refuses a bad schedule, a bad time zone and a dead-letter topic, naming each', async () => {
    dispatcher = DispatcherProcess.spawn('cron', env({ CRON_SCHEDULE: 'every minute', CRON_TIMEZONE: 'Mars/Olympus', DELIVERY_DEAD_LETTER_TOPIC: 'dlq' }));
    const exit = await dispatcher.waitExit(20_000);
    expect(exit.code).toBe(1);
    expect(dispatcher.stderr.trim().split('\n')).toEqual([
      'kurier dispatch cron: CRON_SCHEDULE="every minute" is not a valid 5- or 6-field cron expression',
      'kurier dispatch cron: CRON_TIMEZONE="Mars/Olympus" is not an IANA time zone',
      'kurier dispatch cron: DELIVERY_DEAD_LETTER_TOPIC is not supported by the cron dispatcher (there is no broker to publish to)',
    ]);
  });
});
