import type { SourceModule } from '../core/types.js';
import { Source } from '../core/types.js';
import { PulsarAdapter } from './adapter.js';
import { parsePulsarConfig } from './config.js';
import type { PulsarConfig } from './config.js';
import { MISSING_CLIENT, pulsarClientInstalled } from './load.js';

/** `kurier dispatch pulsar`: one consumer on the trigger's subscription (see docs/pulsar.md). */
export const sourceModule: SourceModule<PulsarConfig> = {
  source: Source.Pulsar,
  parseConfig: (reader, trigger) => {
    const config = parsePulsarConfig(reader, trigger);
    // Reported with the configuration problems: one line, non-zero exit, before connecting.
    if (!pulsarClientInstalled()) reader.problems.push(MISSING_CLIENT);
    return config;
  },
  createAdapter: (config, context) => new PulsarAdapter(config, context),
};
