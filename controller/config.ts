/** `kurier controller` settings from flags and environment, validated once, every problem named. */
import { durationTooLong, parseDuration } from '../common/duration.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';

export interface ControllerConfig {
  readonly kubeconfig: string | undefined;
  /** `undefined` = every namespace. */
  readonly namespaces: readonly string[] | undefined;
  readonly templatesDir: string;
  readonly crdPath: string;
  readonly allowCrossNamespace: boolean;
  readonly leaderElect: boolean;
  readonly leaderElectionNamespace: string;
  readonly leaderElectionId: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly workers: number;
  readonly metricsPort: number;
  readonly resyncPeriodMs: number;
  readonly logLevel: LogLevel;
}

/** Bad flags or variables; `problems` holds one line per bad setting. */
export class ControllerConfigError extends Error {
  override readonly name = 'ControllerConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

interface Setting {
  flag: string;
  env: readonly string[];
  boolean?: boolean;
}

const SETTINGS = {
  kubeconfig: { flag: 'kubeconfig', env: [] },
  namespaces: { flag: 'namespaces', env: ['KURIER_NAMESPACES'] },
  templates: { flag: 'templates', env: ['KURIER_TEMPLATES'] },
  crd: { flag: 'crd', env: ['KURIER_CRD'] },
  allowCrossNamespace: { flag: 'allow-cross-namespace', env: ['KURIER_ALLOW_CROSS_NAMESPACE'], boolean: true },
  leaderElect: { flag: 'leader-elect', env: ['KURIER_LEADER_ELECT'], boolean: true },
  leaderElectionNamespace: { flag: 'leader-election-namespace', env: ['KURIER_LEADER_ELECTION_NAMESPACE', 'POD_NAMESPACE'] },
  leaderElectionId: { flag: 'leader-election-id', env: ['KURIER_LEADER_ELECTION_ID'] },
  identity: { flag: 'identity', env: ['POD_NAME'] },
  leaseDuration: { flag: 'lease-duration', env: ['KURIER_LEASE_DURATION'] },
  renewDeadline: { flag: 'renew-deadline', env: ['KURIER_RENEW_DEADLINE'] },
  retryPeriod: { flag: 'retry-period', env: ['KURIER_RETRY_PERIOD'] },
  workers: { flag: 'workers', env: ['KURIER_WORKERS'] },
  metricsPort: { flag: 'metrics-port', env: ['KURIER_METRICS_PORT'] },
  resyncPeriod: { flag: 'resync-period', env: ['KURIER_RESYNC_PERIOD'] },
  logLevel: { flag: 'log-level', env: ['LOG_LEVEL'] },
} as const satisfies Record<string, Setting>;

type SettingName = keyof typeof SETTINGS;

/** The usage text, listing every flag and its variable. */
export const CONTROLLER_USAGE = `usage: kurier controller [flags]

  --kubeconfig FILE               credentials (else $KUBECONFIG, ~/.kube/config, in-cluster)
  --namespaces a,b                namespaces to watch (KURIER_NAMESPACES; default: all)
  --templates DIR                 templates directory (KURIER_TEMPLATES; default: the bundled templates/)
  --crd FILE                      CRD file whose schemas validate triggers (KURIER_CRD; default: the bundled crd.yaml)
  --allow-cross-namespace         let spec.deployment.metadata.namespace move a Deployment (KURIER_ALLOW_CROSS_NAMESPACE)
  --leader-elect                  elect one active replica on a Lease (KURIER_LEADER_ELECT)
  --leader-election-namespace NS  the Lease's namespace (KURIER_LEADER_ELECTION_NAMESPACE, POD_NAMESPACE; default: default)
  --leader-election-id NAME       the Lease's name (KURIER_LEADER_ELECTION_ID; default: kurier-controller)
  --identity ID                   this replica's name on the Lease (POD_NAME; default: hostname-pid)
  --lease-duration D              (KURIER_LEASE_DURATION; default 15s)
  --renew-deadline D              (KURIER_RENEW_DEADLINE; default 10s)
  --retry-period D                (KURIER_RETRY_PERIOD; default 2s)
  --workers N                     parallel reconciles (KURIER_WORKERS; default 2)
  --metrics-port PORT             /healthz, /readyz, /metrics (KURIER_METRICS_PORT; default 9090; 0 = any free port)
  --resync-period D               requeue every trigger this often (KURIER_RESYNC_PERIOD; default 10m; 0 = never)
  --log-level LEVEL               debug|info|warn|error|silent (LOG_LEVEL; default info)
`;

/** Where a value came from, to name it in a problem. */
interface Raw {
  value: string;
  source: string;
}

function parseArgs(args: readonly string[], problems: string[]): Map<SettingName, Raw> {
  const byFlag = new Map<string, SettingName>(Object.entries(SETTINGS).map(([name, s]) => [s.flag, name as SettingName]));
  const values = new Map<SettingName, Raw>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument "${arg}"`);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq === -1 ? undefined : eq);
    const name = byFlag.get(flag);
    if (name === undefined) {
      problems.push(`unknown flag --${flag}`);
      continue;
    }
    const setting: Setting = SETTINGS[name];
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      if (setting.boolean === true) value = 'true';
      else if (i + 1 < args.length && !(args[i + 1] ?? '').startsWith('--')) value = args[++i];
      else {
        problems.push(`--${flag} needs a value`);
        continue;
      }
    }
    values.set(name, { value: value ?? '', source: `--${flag}` });
  }
  return values;
}

/**
 * Parses flags over environment variables (a flag wins). Pure: `env` and `defaults` are passed in.
 * Throws {@link ControllerConfigError} listing every bad setting.
 */
export function parseControllerConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  defaults: { templatesDir: string; crdPath: string; identity: string },
): ControllerConfig {
  const problems: string[] = [];
  const flags = parseArgs(args, problems);
  const raw = (name: SettingName): Raw | undefined => {
    const fromFlag = flags.get(name);
    if (fromFlag !== undefined) return fromFlag;
    for (const variable of SETTINGS[name].env) {
      const value = env[variable];
      if (value !== undefined && value !== '') return { value, source: variable };
    }
    return undefined;
  };
  const text = (name: SettingName, fallback: string): string => raw(name)?.value ?? fallback;
  const bool = (name: SettingName): boolean => {
    const r = raw(name);
    if (r === undefined) return false;
    if (r.value === 'true' || r.value === '1') return true;
    if (r.value === 'false' || r.value === '0') return false;
    problems.push(`${r.source}: expected true or false, got "${r.value}"`);
    return false;
  };
  const int = (name: SettingName, fallback: number, min: number, max: number): number => {
    const r = raw(name);
    if (r === undefined) return fallback;
    const n = Number(r.value);
    if (!/^\d+$/.test(r.value) || n < min || n > max) {
      problems.push(`${r.source}: expected a whole number from ${String(min)} to ${String(max)}, got "${r.value}"`);
      return fallback;
    }
    return n;
  };
  const duration = (name: SettingName, fallback: string, allowZero: boolean): number => {
    const r = raw(name) ?? { value: fallback, source: `--${SETTINGS[name].flag}` };
    const ms = parseDuration(r.value);
    if (ms === undefined || (!allowZero && ms <= 0) || durationTooLong(ms) !== undefined) {
      problems.push(`${r.source}: expected a duration such as 500ms, 15s or 10m${allowZero ? ' (0 disables)' : ''}, at most 576h, got "${r.value}"`);
      return parseDuration(fallback) ?? 0;
    }
    return ms;
  };

  let namespaces: string[] | undefined;
  const nsRaw = raw('namespaces');
  if (nsRaw !== undefined) {
    namespaces = [...new Set(nsRaw.value.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
    const bad = namespaces.filter((n) => !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n));
    if (bad.length > 0) problems.push(`${nsRaw.source}: not a namespace name: ${bad.map((b) => `"${b}"`).join(', ')}`);
    if (namespaces.length === 0) namespaces = undefined;
  }
  const logRaw = raw('logLevel');
  let logLevel: LogLevel = 'info';
  if (logRaw !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(logRaw.value)) logLevel = logRaw.value as LogLevel;
    else problems.push(`${logRaw.source}: expected one of ${LOG_LEVELS.join(', ')}, got "${logRaw.value}"`);
  }
  const leaseDurationMs = duration('leaseDuration', '15s', false);
  const renewDeadlineMs = duration('renewDeadline', '10s', false);
  const retryPeriodMs = duration('retryPeriod', '2s', false);
  const leaderElect = bool('leaderElect');
  if (leaderElect) {
    if (!(renewDeadlineMs > retryPeriodMs)) problems.push('--renew-deadline must be longer than --retry-period');
    if (!(leaseDurationMs > renewDeadlineMs)) problems.push('--lease-duration must be longer than --renew-deadline');
  }
  const config: ControllerConfig = {
    kubeconfig: raw('kubeconfig')?.value,
    namespaces,
    templatesDir: text('templates', defaults.templatesDir),
    crdPath: text('crd', defaults.crdPath),
    allowCrossNamespace: bool('allowCrossNamespace'),
    leaderElect,
    leaderElectionNamespace: text('leaderElectionNamespace', 'default'),
    leaderElectionId: text('leaderElectionId', 'kurier-controller'),
    identity: text('identity', defaults.identity),
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    workers: int('workers', 2, 1, 64),
    metricsPort: int('metricsPort', 9090, 0, 65535),
    resyncPeriodMs: duration('resyncPeriod', '10m', true),
    logLevel,
  };
  if (problems.length > 0) throw new ControllerConfigError(problems);
  return Object.freeze(config);
}
