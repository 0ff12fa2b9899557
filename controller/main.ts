/** `kurier controller`: the composition root of the controller (the only place reading process.env). */
import { hostname } from 'node:os';
import { env, pid, stderr } from 'node:process';
import { ControllerConfigError, CONTROLLER_USAGE, parseControllerConfig, type ControllerConfig } from './config.js';
import { Controller, type StopReason } from './controller.js';
import { startHealthServer } from '../common/server.js';
import { loadKubeConfig } from './kube.js';
import { createLogger, type Logger } from './logger.js';
import { SHIPPED_CRD, SHIPPED_TEMPLATES } from '../render/shipped-files.js';
import { loadTemplates, type Templates } from '../render/templates.js';
import { reloadTemplatesOnChange } from './templates-reload.js';
import { loadSchemas, type TriggerSchemas } from '../render/validate.js';
import { verdictForController } from '../render/verdict.js';


function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function load(config: ControllerConfig, log: Logger): Promise<{ templates: Templates; schemas: TriggerSchemas } | undefined> {
  try {
    const templates = await loadTemplates(config.templatesDir);
    const schemas = loadSchemas(config.crdPath);
    return { templates, schemas };
  } catch (err) {
    log.error({ err, templates: config.templatesDir, crd: config.crdPath }, `cannot start: ${describe(err)}`);
    return undefined;
  }
}

/** `kurier controller`: exit code 0 ok, 1 failure, 2 usage. */
export async function runController(args: readonly string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    stderr.write(CONTROLLER_USAGE);
    return 0;
  }
  let config: ControllerConfig;
  try {
    config = parseControllerConfig(args, env, {
      templatesDir: SHIPPED_TEMPLATES,
      crdPath: SHIPPED_CRD,
      identity: `${hostname()}-${String(pid)}`,
    });
  } catch (err) {
    if (!(err instanceof ControllerConfigError)) throw err;
    for (const problem of err.problems) stderr.write(`kurier controller: ${problem}\n`);
    stderr.write('run "kurier controller --help" for the flags\n');
    return 2;
  }
  const log = createLogger(config.logLevel);
  const loaded = await load(config, log);
  if (loaded === undefined) return 1;
  const { schemas } = loaded;
  let { templates } = loaded;

  let kube;
  try {
    kube = loadKubeConfig({ kubeconfig: config.kubeconfig, env });
  } catch (err) {
    log.error({ err }, `cannot start: ${describe(err)}`);
    return 1;
  }

  let verdict = verdictForController({ templates, schemas, allowCrossNamespace: config.allowCrossNamespace });
  const controller = new Controller({
    kubeConfig: kube.kubeConfig,
    kinds: [...templates.kinds.values()].map((k) => ({ kind: k.kind, plural: k.plural })),
    // One verdict with `kurier render` and `kurier validate`: schema, semantics, secrets, override policy;
    // rebuilt when the templates are reloaded.
    validate: (trigger) => verdict.validate(trigger),
    render: (trigger) => verdict.render(trigger),
    renderAutoscaling: (trigger) => verdict.autoscaling(trigger),
    isRenderError: (err): err is Error => verdict.isRenderError(err),
    namespaces: config.namespaces,
    workers: config.workers,
    resyncPeriodMs: config.resyncPeriodMs,
    leaderElection: config.leaderElect
      ? {
          namespace: config.leaderElectionNamespace,
          name: config.leaderElectionId,
          identity: config.identity,
          leaseDurationMs: config.leaseDurationMs,
          renewDeadlineMs: config.renewDeadlineMs,
          retryPeriodMs: config.retryPeriodMs,
        }
      : undefined,
    identity: config.identity,
    log,
    defaultMetrics: true,
  });

  const restart = { forNewKinds: false };
  const reload = reloadTemplatesOnChange({
    dir: config.templatesDir,
    initial: templates,
    log,
    onChange: (next) => {
      templates = next;
      verdict = verdictForController({ templates, schemas, allowCrossNamespace: config.allowCrossNamespace });
      controller.rerenderAll();
    },
    onKindsChanged: (before, after) => {
      // Informers are per kind: restart (the pod's restartPolicy brings it back) to watch the new set.
      log.warn({ before, after }, 'the template kinds changed: restarting to watch the new kinds');
      restart.forNewKinds = true;
      void controller.stop();
    },
  });

  const health = await startHealthServer(config.metricsPort, () => controller.synced, controller.metrics.registry, 'caches not synced', {
    check: () => controller.live,
    failure: 'leading without a lease renewal within the renew deadline',
  });
  log.info(
    {
      kubeconfig: kube.source,
      namespaces: config.namespaces ?? 'all',
      kinds: [...templates.kinds.keys()],
      workers: config.workers,
      leaderElect: config.leaderElect,
      identity: config.identity,
      metricsPort: health.port,
    },
    'controller starting',
  );

  const onSignal = (): void => {
    log.info({}, 'shutting down');
    void controller.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await controller.start();
  const reason: StopReason = await controller.done;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  reload.close();
  await health.close();
  // a replica that lost its lease exits non-zero so Kubernetes restarts it as a fresh candidate;
  // so does one whose kinds changed, to come back watching the new ones
  return reason === 'lost-leadership' || restart.forNewKinds ? 1 : 0;
}
