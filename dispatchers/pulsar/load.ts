import { createRequire } from 'node:module';
import type { PulsarModule } from './client-api.js';

const PACKAGE = 'pulsar-client';

/** The one line `kurier dispatch pulsar` prints when the optional native client is absent. */
export const MISSING_CLIENT =
  'the optional package pulsar-client (the native Pulsar client) is not installed; run the kurier Pulsar dispatcher image, or `npm install pulsar-client` next to kurier';

/** The optional `pulsar-client` package is not installed. */
export class PulsarClientMissingError extends Error {
  override readonly name = 'PulsarClientMissingError';
  constructor(options?: ErrorOptions) {
    super(MISSING_CLIENT, options);
  }
}

/** Whether `pulsar-client` can be resolved from here, without loading its native addon. */
export function pulsarClientInstalled(resolve: (id: string) => string = createRequire(import.meta.url).resolve): boolean {
  try {
    resolve(PACKAGE);
    return true;
  } catch {
    return false;
  }
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** Loads `pulsar-client` at run time (it is an optional peer dependency with a native addon). */
export async function loadPulsarClient(): Promise<PulsarModule> {
  const specifier: string = PACKAGE;
  let loaded: { default?: unknown };
  try {
    loaded = (await import(specifier)) as { default?: unknown };
  } catch (error) {
    if (isModuleNotFound(error)) throw new PulsarClientMissingError({ cause: error });
    throw new Error(`pulsar-client is installed but could not be loaded: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const module = (loaded.default ?? loaded) as Partial<PulsarModule>;
  if (typeof module.Client !== 'function' || typeof module.AuthenticationToken !== 'function') {
    throw new Error('pulsar-client does not export Client and AuthenticationToken: unsupported version');
  }
  return module as PulsarModule;
}
