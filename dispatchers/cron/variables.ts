import type { VariableDoc } from '../core/variables.js';

/** Every CRON_* variable the cron dispatcher reads (docs/dispatchers.md). */
export const CRON_VARIABLES: readonly VariableDoc[] = [
  { name: 'CRON_SCHEDULE', default: 'required', meaning: '5-field (minutes) or 6-field (seconds first) cron expression' },
  { name: 'CRON_TIMEZONE', default: 'UTC', meaning: 'IANA time zone the schedule is read in' },
  { name: 'CRON_PAYLOAD', default: 'empty', meaning: 'the body of every tick' },
  { name: 'CRON_CONTENT_TYPE', default: 'application/json', meaning: 'its content type' },
];
