import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ControllerConfigError, parseControllerConfig } from '../../controller/config.js';
import { loadKubeConfig } from '../../controller/kube.js';

const defaults = { templatesDir: '/repo/templates', crdPath: '/repo/crd.yaml', identity: 'host-1' };

function problems(args: string[], env: Record<string, string> = {}): readonly string[] {
  try {
    parseControllerConfig(args, env, defaults);
  } catch (err) {
    if (err instanceof ControllerConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('controller configuration', () => {
  it('applies the documented defaults', () => {
    const c = parseControllerConfig([], {}, defaults);
    expect(c).toMatchObject({
      namespaces: undefined,
      templatesDir: '/repo/templates',
      crdPath: '/repo/crd.yaml',
      allowCrossNamespace: false,
      leaderElect: false,
      leaderElectionNamespace: 'default',
      leaderElectionId: 'kurier-controller',
      identity: 'host-1',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2000,
      workers: 2,
      metricsPort: 9090,
      resyncPeriodMs: 600_000,
      logLevel: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads flags in both --flag=value and --flag value forms, flags winning over env', () => {
    const c = parseControllerConfig(
      ['--namespaces', 'a, b,a', '--workers=8', '--leader-elect', '--allow-cross-namespace=true', '--resync-period', '0'],
      { KURIER_WORKERS: '3', POD_NAME: 'pod-7', POD_NAMESPACE: 'kurier-system', LOG_LEVEL: 'debug' },
      defaults,
    );
    expect(c).toMatchObject({
      namespaces: ['a', 'b'],
      workers: 8,
      leaderElect: true,
      allowCrossNamespace: true,
      resyncPeriodMs: 0,
      identity: 'pod-7',
      leaderElectionNamespace: 'kurier-system',
      logLevel: 'debug',
    });
  });

  it('names every bad flag and variable at once', () => {
    const found = problems(['--workers=0', '--metrics-port=http', '--bogus', '--lease-duration=soon', '--namespaces=Bad_NS', 'stray'], {
      KURIER_LEADER_ELECT: 'yes',
      LOG_LEVEL: 'loud',
      KURIER_RESYNC_PERIOD: '10',
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('--workers'),
        expect.stringContaining('--metrics-port'),
        expect.stringContaining('unknown flag --bogus'),
        expect.stringContaining('--lease-duration'),
        expect.stringContaining('--namespaces'),
        expect.stringContaining('"stray"'),
        expect.stringContaining('KURIER_LEADER_ELECT'),
        expect.stringContaining('LOG_LEVEL'),
        expect.stringContaining('KURIER_RESYNC_PERIOD'),
      ]),
    );
    expect(found).toHaveLength(9);
  });

  it('rejects leader election timings client-go would reject', () => {
    expect(problems(['--leader-elect', '--lease-duration=5s', '--renew-deadline=10s', '--retry-period=12s'])).toEqual([
      '--renew-deadline must be longer than --retry-period',
      '--lease-duration must be longer than --renew-deadline',
    ]);
  });

  it('says a value is missing for a flag given last without one', () => {
    expect(problems(['--templates'])).toEqual(['--templates needs a value']);
  });
});

describe('kubeconfig loading', () => {
  it('refuses at start a plain-http cluster that client-node would refuse on every request', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kurier-kc-'));
    const file = join(dir, 'config');
    const yaml = (extra: string): string =>
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:1\n${extra}users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`;
    writeFileSync(file, yaml(''));
    expect(() => loadKubeConfig({ kubeconfig: file, env: {} })).toThrow(/cluster "c" is plain http.*insecure-skip-tls-verify/);
    writeFileSync(file, yaml('    insecure-skip-tls-verify: true\n'));
    expect(loadKubeConfig({ kubeconfig: file, env: {} }).source).toBe('flag');
    expect(loadKubeConfig({ env: { KUBECONFIG: file } }).source).toBe('KUBECONFIG');
    expect(() => loadKubeConfig({ env: { HOME: dir } })).toThrow(/no Kubernetes credentials/);
  });
});
