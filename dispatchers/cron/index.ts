import cron from 'node-cron';
import type { ScheduledTask, TaskContext } from 'node-cron';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { isTimeZone } from '../../common/time-zone.js';
import type { EnvReader } from '../core/env-reader.js';
import { ReleasedError } from '../core/types.js';
import type { AdapterContext, Message, Pipeline, SourceAdapter, SourceModule, TriggerIdentity } from '../core/types.js';

export interface CronConfig {
  readonly schedule: string;
  readonly timezone: string;
  readonly payload: Buffer;
  readonly contentType: string;
  readonly trigger: TriggerIdentity;
}


/** Reads CRON_*; dead-letter and reply topics are refused because a schedule has no broker to publish to. */
export function parseCronConfig(reader: EnvReader, trigger: TriggerIdentity): CronConfig {
  const schedule = reader.required('CRON_SCHEDULE', 'a 5- or 6-field cron expression');
  if (schedule !== '' && !cron.validate(schedule)) {
    reader.problems.push(`CRON_SCHEDULE=${JSON.stringify(schedule)} is not a valid 5- or 6-field cron expression`);
  }
  const timezone = reader.string('CRON_TIMEZONE', 'UTC');
  if (!isTimeZone(timezone)) reader.problems.push(`CRON_TIMEZONE=${JSON.stringify(timezone)} is not an IANA time zone`);
  for (const name of ['DELIVERY_DEAD_LETTER_TOPIC', 'DELIVERY_REPLY_TOPIC']) {
    if (reader.string(name) !== undefined) reader.problems.push(`${name} is not supported by the cron dispatcher (there is no broker to publish to)`);
  }
  return {
    schedule,
    timezone,
    // Not read through the reader: a payload may legitimately be whitespace.
    payload: Buffer.from(reader.string('CRON_PAYLOAD', '')),
    contentType: reader.string('CRON_CONTENT_TYPE', 'application/json'),
    trigger,
  };
}

/** The message for the tick scheduled at `scheduled`: its id depends only on the trigger and that time. */
export function tickMessage(config: CronConfig, scheduled: Date): Message {
  const at = scheduled.toISOString();
  return {
    id: `${config.trigger.namespace}/${config.trigger.name}@${at}`,
    body: config.payload,
    headers: {},
    contentType: config.contentType,
    topic: config.schedule,
    lane: 'cron',
    time: scheduled,
    coordinates: { schedule: config.schedule, timezone: config.timezone, scheduled: at },
  };
}

/** One per adapter, on the dispatcher's registry (one adapter per process). */
function skippedTicksCounter(registry: Registry): Counter<'reason'> {
  return new Counter({
    name: 'kurier_dispatcher_cron_ticks_skipped_total',
    help: 'Scheduled ticks that did not fire: missed (the process could not run at that time and the next tick was already due) or overlap (the previous tick was still being delivered).',
    labelNames: ['reason'],
    registers: [registry],
  });
}

/**
 * Fires one message per tick, identified by its scheduled time. A tick that comes while the
 * previous one is still being delivered is skipped; a tick that could not run before the next one
 * was due is missed. Both are logged and counted.
 */
export class CronAdapter implements SourceAdapter {
  readonly source = 'cron' as const;
  private readonly config: CronConfig;
  private readonly context: AdapterContext;
  private task: ScheduledTask | undefined;
  private busy = false;
  private stopped = false;
  private readonly skipped: Counter<'reason'>;

  constructor(config: CronConfig, context: AdapterContext) {
    this.config = config;
    this.context = context;
    this.skipped = skippedTicksCounter(context.registry);
    this.skipped.inc({ reason: 'missed' }, 0);
    this.skipped.inc({ reason: 'overlap' }, 0);
  }

  start(pipeline: Pipeline): Promise<void> {
    // node-cron hands each run the time it was scheduled for, however late it runs.
    this.task = cron.schedule(this.config.schedule, (run: TaskContext) => this.tick(pipeline, run.date), {
      timezone: this.config.timezone,
      name: `${this.config.trigger.namespace}/${this.config.trigger.name}`,
      // A late tick still runs as long as the next one is not due yet; only then is it missed.
      missedExecutionTolerance: Number.MAX_SAFE_INTEGER,
      suppressMissedWarning: true,
    });
    this.task.on('execution:missed', (run) => {
      this.skipped.inc({ reason: 'missed' });
      this.context.logger.warn({ scheduled: run.date.toISOString() }, 'tick missed: the dispatcher could not run before the next tick was due');
    });
    this.context.logger.info({ schedule: this.config.schedule, timezone: this.config.timezone, next: this.task.getNextRun()?.toISOString() }, 'cron scheduled');
    return Promise.resolve();
  }

  /** Runs the tick scheduled for `scheduled` (its identity, whenever it actually runs). */
  async tick(pipeline: Pipeline, scheduled: Date): Promise<void> {
    if (this.stopped || pipeline.draining) return;
    if (this.busy) {
      this.skipped.inc({ reason: 'overlap' });
      this.context.logger.warn({ scheduled: scheduled.toISOString() }, 'previous tick still being delivered: tick skipped');
      return;
    }
    this.busy = true;
    try {
      const admission = await pipeline.admit(tickMessage(this.config, scheduled));
      const settlement = await admission.settled;
      this.context.logger.info({ scheduled: scheduled.toISOString(), outcome: settlement.outcome, attempts: settlement.attempts }, 'tick settled');
    } catch (error) {
      if (!(error instanceof ReleasedError)) throw error;
      this.context.logger.warn({ scheduled: scheduled.toISOString() }, 'tick released on shutdown: not delivered');
    } finally {
      this.busy = false;
    }
  }

  async pause(): Promise<void> {
    this.stopped = true;
    await this.task?.stop();
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.task?.destroy();
  }

  connected(): boolean {
    return this.task !== undefined && !this.stopped;
  }

  publish(destination: string): Promise<void> {
    return Promise.reject(new Error(`the cron dispatcher cannot publish (to ${destination}): it has no broker`));
  }
}

export const sourceModule: SourceModule<CronConfig> = {
  source: 'cron',
  parseConfig: parseCronConfig,
  createAdapter: (config, context) => new CronAdapter(config, context),
};
