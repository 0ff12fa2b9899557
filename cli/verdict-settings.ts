import { loadPolicy, PolicyError } from '../render/policy-settings.js';
import { loadSchemas, SchemaError } from '../render/schema.js';
import { SHIPPED_CRD, SHIPPED_TEMPLATES } from '../render/shipped-files.js';
import { loadTemplates, TemplateError } from '../render/templates.js';
import type { VerdictSettings } from '../render/verdict.js';

/** The flags `kurier render` and `kurier validate` share: what a trigger is judged against. */
export const VERDICT_FLAGS = { withValue: ['--templates', '--policy', '--crd'], switches: ['--allow-cross-namespace'] } as const;

export const VERDICT_USAGE = '[--templates DIR] [--policy FILE] [--crd FILE] [--allow-cross-namespace]';

/** The --help lines of the flags `kurier render` and `kurier validate` share (without a trailing newline). */
export const VERDICT_FLAG_HELP = `  -f, --filename FILE|DIR|-   a file, a directory (its *.yaml and *.yml files) or - for standard input; repeatable
  --templates DIR             the dispatcher templates (default: the shipped templates/)
  --policy FILE               the override policy to judge by (default: the templates' policy.yaml)
  --crd FILE                  the CRDs to check against (default: the shipped crd.yaml)
  --allow-cross-namespace     allow spec.deployment.metadata.namespace to move a Deployment elsewhere
  -h, --help                  this help`;

/** Settings that cannot be read: exit 2, like a usage error. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/**
 * The templates (with their policy.yaml), the policy of `--policy FILE` if given, the CRD schemas
 * and `--allow-cross-namespace`, from parsed flags: the same settings the controller runs with.
 */
export async function loadVerdictSettings(values: ReadonlyMap<string, string>, switches: ReadonlySet<string>): Promise<VerdictSettings> {
  try {
    const templates = await loadTemplates(values.get('--templates') ?? SHIPPED_TEMPLATES);
    const policyFile = values.get('--policy');
    const policy = policyFile === undefined ? undefined : await loadPolicy(policyFile);
    const schemas = loadSchemas(values.get('--crd') ?? SHIPPED_CRD);
    return { templates, schemas, allowCrossNamespace: switches.has('--allow-cross-namespace'), ...(policy === undefined ? {} : { policy }) };
  } catch (err) {
    if (err instanceof TemplateError || err instanceof PolicyError || err instanceof SchemaError) throw new SettingsError(err.message, { cause: err });
    if (err instanceof Error && 'code' in err) throw new SettingsError(err.message, { cause: err });
    throw err;
  }
}
