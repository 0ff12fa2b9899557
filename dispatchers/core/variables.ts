/** One environment variable a dispatcher reads: its name, its default in words, what it means. */
export interface VariableDoc {
  readonly name: string;
  /** `required`, `none`, or the default value as written in the environment. */
  readonly default: string;
  readonly meaning: string;
}

/** The variables every dispatcher reads, whatever its source (docs/dispatchers.md). */
export const COMMON_VARIABLES: readonly VariableDoc[] = [
  { name: 'FUNCTION_URL', default: 'required', meaning: 'http:// or https:// URL the messages are POSTed to (or set FUNCTION_TARGETS_FILE instead)' },
  { name: 'FUNCTION_TARGETS_FILE', default: 'none', meaning: 'fan-out: JSON file {"targets":[{"name","url"}]}; every message goes to each target (exclusive with FUNCTION_URL)' },
  { name: 'FUNCTION_TARGETS_POLL_INTERVAL', default: '5s', meaning: 'how often FUNCTION_TARGETS_FILE is re-read' },
  { name: 'KUBELESS_FUNCTION', default: 'none', meaning: 'read when FUNCTION_URL is absent (kubeless-pulsar-trigger images)' },
  { name: 'TRIGGER_KIND', default: 'the source\'s kind', meaning: 'identity of the trigger (logs, ce-source, dead-letter envelopes)' },
  { name: 'TRIGGER_NAME', default: '<source>-dispatcher', meaning: 'identity of the trigger; default group and consumer names' },
  { name: 'TRIGGER_NAMESPACE', default: 'default', meaning: 'identity of the trigger; default group and consumer names' },
  { name: 'TRIGGER_UID', default: 'empty', meaning: 'identity of the trigger' },
  { name: 'DELIVERY_ORDERING', default: 'ordered', meaning: 'ordered, key or unordered' },
  { name: 'DELIVERY_MAX_IN_FLIGHT', default: '1', meaning: 'messages taken and not yet settled, per replica (1-10000)' },
  { name: 'DELIVERY_TIMEOUT', default: '30s', meaning: 'per attempt' },
  { name: 'DELIVERY_RETRY_MAX_ATTEMPTS', default: '0', meaning: 'attempts per message; 0 = until delivered' },
  { name: 'DELIVERY_RETRY_INITIAL_DELAY', default: '500ms', meaning: 'first backoff delay' },
  { name: 'DELIVERY_RETRY_MAX_DELAY', default: '90s', meaning: 'cap on one backoff delay' },
  { name: 'DELIVERY_RETRY_MAX_ELAPSED', default: 'none', meaning: 'cap on the total retry time of one message' },
  { name: 'DELIVERY_RETRY_WHEN', default: 'network,timeout,408,429,5xx', meaning: 'retryable outcomes: network, timeout, 4xx, 5xx or a status code' },
  { name: 'DELIVERY_DEAD_LETTER_TOPIC', default: 'none', meaning: 'where failed messages go, on the same broker' },
  { name: 'DELIVERY_REPLY_TOPIC', default: 'none', meaning: 'where the function\'s 2xx response bodies go' },
  { name: 'METRICS_PORT', default: '9090', meaning: 'port of /healthz, /readyz and /metrics (0 = any free port)' },
  { name: 'SHUTDOWN_GRACE_PERIOD', default: '25s', meaning: 'how long SIGTERM may take' },
];

/** The variable prefixes a dispatcher of `source` owns: an unknown name with one of them is reported. */
export function ownedPrefixes(source: string): string[] {
  return [`${source.toUpperCase()}_`, 'DELIVERY_'];
}

/** `kurier dispatch <source> --help`: every variable, its default and meaning, aligned. */
export function formatVariables(title: string, variables: readonly VariableDoc[]): string {
  const width = Math.max(...variables.map((variable) => variable.name.length));
  const rows = variables.map((variable) => `  ${variable.name.padEnd(width)}  ${variable.default === 'required' ? 'required' : `default: ${variable.default}`} — ${variable.meaning}`);
  return `${title}\n${rows.join('\n')}\n`;
}
