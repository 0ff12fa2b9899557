import { stderr, stdout } from 'node:process';
import { stringify } from 'yaml';
import { render, RenderError } from '../render/render.js';
import { SHIPPED_TEMPLATES } from '../render/shipped-files.js';
import { loadTemplates, type Templates } from '../render/templates.js';
import type { JsonObject, Trigger } from '../render/trigger.js';
import {
  ambiguityWarnings, describeDocument, describeSyntaxError, FILE_FLAG_ALIASES, InputError, parseArgs, readDocuments, UsageError, type InputDocument,
} from './input.js';

const USAGE = `usage: kurier render -f FILE|DIR|- [-f …] [--templates DIR] [--allow-cross-namespace]

Prints the dispatcher Deployment of every trigger in the files (multi-document YAML, read as
kubectl reads it), separated by ---, ready for kubectl apply -f -.

  -f, --filename FILE|DIR|-   a file, a directory (its *.yaml and *.yml files) or - for standard input; repeatable
  --templates DIR             the dispatcher templates (default: the shipped templates/)
  --allow-cross-namespace     allow spec.deployment.metadata.namespace to move a Deployment elsewhere
  -h, --help                  this help

Exit codes: 0 every trigger rendered, 1 a trigger is refused (one line per problem), 2 usage or unreadable input.
`;

interface RenderOptions {
  readonly targets: readonly string[];
  readonly templatesDir: string;
  readonly allowCrossNamespace: boolean;
}

/** What rendering one document gave: a Deployment, or the problems that refused it. */
export interface RenderVerdict {
  readonly deployment?: JsonObject;
  readonly problems: readonly { readonly path: string; readonly message: string }[];
}

function asTrigger(value: unknown): Trigger | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a YAML mapping';
  const doc = value as Partial<Trigger>;
  if (typeof doc.kind !== 'string') return 'kind: is required';
  if (typeof doc.metadata !== 'object') return 'metadata: is required';
  if (typeof doc.spec !== 'object') return 'spec: is required';
  return doc as Trigger;
}

/** Judges one parsed document and renders its Deployment when it passes. */
export function judgeForRender(value: unknown, templates: Templates, options: { allowCrossNamespace: boolean }): RenderVerdict {
  const trigger = asTrigger(value);
  if (typeof trigger === 'string') return { problems: [{ path: '', message: trigger }] };
  try {
    return { deployment: render(trigger, templates, options), problems: [] };
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    return { problems: err.problems };
  }
}

function parseOptions(args: readonly string[]): RenderOptions | 'help' {
  const parsed = parseArgs(args, ['-f', '--templates'], ['--allow-cross-namespace'], FILE_FLAG_ALIASES);
  if (parsed.help) return 'help';
  if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
  const targets = parsed.lists.get('-f') ?? [];
  if (targets.length === 0) throw new UsageError('-f FILE|DIR|- is required');
  return {
    targets,
    templatesDir: parsed.values.get('--templates') ?? SHIPPED_TEMPLATES,
    allowCrossNamespace: parsed.switches.has('--allow-cross-namespace'),
  };
}

/** `kurier render`: prints the dispatcher Deployment of every trigger; exit 0 ok, 1 invalid, 2 usage. */
export async function runRender(args: readonly string[]): Promise<number> {
  let options: RenderOptions | 'help';
  try {
    options = parseOptions(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr.write(`kurier render: ${err.message} (run "kurier render --help" for usage)\n`);
    return 2;
  }
  if (options === 'help') {
    stdout.write(USAGE);
    return 0;
  }

  let documents: InputDocument[];
  let templates: Templates;
  try {
    templates = await loadTemplates(options.templatesDir);
    documents = await readDocuments(options.targets);
  } catch (err) {
    stderr.write(`kurier render: ${(err as Error).message}\n`);
    return err instanceof InputError || (err instanceof Error && 'code' in err) ? 2 : 1;
  }

  let failed = false;
  const rendered: string[] = [];
  for (const document of documents) {
    if (document.error !== undefined) {
      stderr.write(`${describeSyntaxError(document)}\n`);
      failed = true;
      continue;
    }
    for (const warning of ambiguityWarnings(document)) stderr.write(`${warning}\n`);
    const verdict = judgeForRender(document.value, templates, { allowCrossNamespace: options.allowCrossNamespace });
    for (const problem of verdict.problems) {
      stderr.write(`${describeDocument(document)}: ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}\n`);
    }
    if (verdict.deployment === undefined) failed = true;
    else rendered.push(stringify(verdict.deployment, { lineWidth: 0 }));
  }
  stdout.write(rendered.join('---\n'));
  return failed ? 1 : 0;
}
