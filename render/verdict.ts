/**
 * One verdict on a trigger for `kurier render`, `kurier validate` and the controller alike: the CRD
 * schema and semantic checks, the inline-secret rules, `spec.deployment` as a Deployment (size,
 * prototype keys, known fields, types, ranges), then the render itself with the override policy on
 * the result. A trigger is rendered only when nothing before found an error.
 */
import { dispatcherEnv, renderKedaObjects, type KedaObjects } from './autoscaling.js';
import { checkDeploymentOverride } from './deployment-schema.js';
import { isObject, own } from './merge.js';
import { checkOverrideInput } from './override-input.js';
import type { OverridePolicy } from './policy-settings.js';
import { effectivePolicy, render, RenderError, type Deployment } from './render.js';
import { schemaFor, type Problem, type TriggerSchemas } from './schema.js';
import { inlineSecretEnv } from './secrets.js';
import type { Templates } from './templates.js';
import type { Trigger } from './trigger.js';
import { isValid, validateTrigger } from './validate.js';

/** Everything a verdict depends on besides the trigger: the same in all three callers. */
export interface VerdictSettings {
  readonly schemas: TriggerSchemas;
  readonly templates: Templates;
  /** Replaces `templates.policy` (`kurier validate --policy FILE`). */
  readonly policy?: OverridePolicy;
  /** `--allow-cross-namespace`. */
  readonly allowCrossNamespace?: boolean;
}

export interface Verdict {
  /** Errors and warnings, each with its field path. */
  readonly problems: readonly Problem[];
  /** The dispatcher Deployment, when there is no error. */
  readonly deployment?: Deployment;
  /** The KEDA ScaledObject (and TriggerAuthentication) of a trigger with spec.autoscaling, when there is no error. */
  readonly autoscaling?: KedaObjects;
}

const asError = (problem: { path: string; message: string }): Problem => ({ path: problem.path, message: problem.message, severity: 'error' });

function overrideProblems(doc: Record<string, unknown>, settings: VerdictSettings, policy: OverridePolicy): Problem[] {
  const spec = doc['spec'];
  const override = isObject(spec) ? own(spec, 'deployment') : undefined;
  if (override === undefined || override === null) return [];
  try {
    checkOverrideInput(override, policy);
  } catch (err) {
    if (err instanceof RenderError) return err.problems.map(asError);
    throw err;
  }
  const kind = typeof doc['apiVersion'] === 'string' && typeof doc['kind'] === 'string' ? schemaFor(settings.schemas, doc['apiVersion'], doc['kind']) : undefined;
  return [...checkDeploymentOverride(override), ...(kind === undefined ? [] : inlineSecretEnv(override, kind))];
}

/** The KEDA objects of a trigger with spec.autoscaling, for its rendered Deployment. */
function kedaObjectsFor(trigger: Trigger, templates: Templates, deployment: Deployment): KedaObjects | undefined {
  const source = templates.kinds.get(trigger.kind)?.source ?? '';
  return renderKedaObjects(trigger, source, { name: deployment.metadata.name, namespace: deployment.metadata.namespace, env: dispatcherEnv(deployment) });
}

/** The one judgement of `doc` as a trigger; see the module comment for the order of checks. */
export function judgeTrigger(doc: unknown, settings: VerdictSettings): Verdict {
  const templates: Templates = settings.policy === undefined ? settings.templates : { ...settings.templates, policy: settings.policy };
  const options = { allowCrossNamespace: settings.allowCrossNamespace === true };
  const policy = effectivePolicy(templates, options);
  const overrideChecks = isObject(doc) ? overrideProblems(doc, settings, policy) : [];
  const problems = [...validateTrigger(doc, settings.schemas), ...overrideChecks];
  if (!isValid(problems)) return { problems };
  try {
    const deployment = render(doc as Trigger, templates, options);
    const autoscaling = kedaObjectsFor(doc as Trigger, templates, deployment);
    return { problems, deployment, ...(autoscaling === undefined ? {} : { autoscaling }) };
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    return { problems: [...problems, ...err.problems.map(asError)] };
  }
}

/**
 * The verdict in the shape the controller's reconciler asks for it — `validate` (problems), then
 * `render` (the Deployment, or a {@link RenderError}) — computed once per trigger object.
 */
export function verdictForController(settings: VerdictSettings): {
  validate: (trigger: Trigger) => readonly Problem[];
  render: (trigger: Trigger) => Deployment;
  /** The KEDA objects of a trigger that `render` accepted; undefined without spec.autoscaling. */
  autoscaling: (trigger: Trigger) => KedaObjects | undefined;
  isRenderError: (err: unknown) => err is Error;
} {
  const verdicts = new WeakMap<Trigger, Verdict>();
  const verdictOf = (trigger: Trigger): Verdict => {
    let verdict = verdicts.get(trigger);
    if (verdict === undefined) {
      verdict = judgeTrigger(trigger, settings);
      verdicts.set(trigger, verdict);
    }
    return verdict;
  };
  return {
    validate: (trigger) => verdictOf(trigger).problems,
    render: (trigger) => {
      const { deployment, problems } = verdictOf(trigger);
      if (deployment === undefined) throw new RenderError(problems.filter((problem) => problem.severity === 'error'));
      return deployment;
    },
    autoscaling: (trigger) => verdictOf(trigger).autoscaling,
    isRenderError: (err): err is Error => err instanceof RenderError,
  };
}
