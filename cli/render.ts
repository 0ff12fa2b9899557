import { stderr, stdout } from 'node:process';
import { stringify } from 'yaml';
import { targetsConfigMap, usesFunctionSelector } from '../render/function-targets.js';
import type { Deployment } from '../render/render.js';
import type { Trigger } from '../render/trigger.js';
import { judgeTrigger } from '../render/verdict.js';
import { ambiguityWarnings, describeSyntaxError } from './input.js';
import { problemLine, readJudgeInput } from './judge-input.js';
import { VERDICT_FLAG_HELP, VERDICT_USAGE } from './verdict-settings.js';

const USAGE = `usage: kurier render -f FILE|DIR|- [-f …] ${VERDICT_USAGE}

Prints every object the controller would write for each trigger in the files (multi-document
YAML, read as kubectl reads it), separated by ---, ready for kubectl apply -f -: the dispatcher
Deployment and, with spec.autoscaling, the KEDA ScaledObject and its TriggerAuthentication. Each trigger is judged exactly
as kurier validate and the controller judge it; every problem goes to stderr on one line.
A trigger with spec.functionSelector also gets its targets ConfigMap, printed empty: which Services
match is known only in the cluster, where the controller fills it in.

${VERDICT_FLAG_HELP}

Exit codes: 0 every trigger rendered (warnings allowed), 1 a trigger is refused, 2 usage or unreadable input.
`;



const OFFLINE_TARGETS = `# The targets of spec.functionSelector. Offline there are no Services to match, so the list is
# empty here; in the cluster the controller writes the matching Services into this ConfigMap and
# keeps it current (docs/controller.md, "Fan-out").
`;

/** The targets ConfigMap of a fan-out trigger as `kurier render` prints it: empty, saying why. */
function offlineTargets(trigger: Trigger, deployment: Deployment): string {
  return OFFLINE_TARGETS + stringify(targetsConfigMap(trigger, deployment.metadata, []), { lineWidth: 0 });
}

/**
 * `kurier render`: prints the dispatcher Deployment (and the KEDA objects) of every trigger, judged exactly as
 * `kurier validate` and the controller judge it; each problem goes to stderr on one line.
 * Exit 0 ok (warnings allowed), 1 invalid, 2 usage.
 */
export async function runRender(args: readonly string[]): Promise<number> {
  const input = await readJudgeInput('render', args, USAGE);
  if (typeof input === 'number') return input;
  const { settings, documents } = input;

  let failed = false;
  const rendered: string[] = [];
  for (const document of documents) {
    if (document.error !== undefined) {
      stderr.write(`${describeSyntaxError(document)}\n`);
      failed = true;
      continue;
    }
    for (const warning of ambiguityWarnings(document)) stderr.write(`${warning}\n`);
    const verdict = judgeTrigger(document.value, settings);
    for (const problem of verdict.problems) stderr.write(problemLine(document, problem));
    if (verdict.deployment === undefined) {
      failed = true;
      continue;
    }
    // every object the controller writes for this trigger, in the order it writes them
    const objects = [verdict.deployment, verdict.autoscaling?.scaledObject, verdict.autoscaling?.triggerAuthentication];
    for (const object of objects) if (object !== undefined) rendered.push(stringify(object, { lineWidth: 0 }));
    const trigger = document.value as Trigger;
    if (usesFunctionSelector(trigger.spec)) rendered.push(offlineTargets(trigger, verdict.deployment));
  }
  stdout.write(rendered.join('---\n'));
  return failed ? 1 : 0;
}
