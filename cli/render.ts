import { stderr, stdout } from 'node:process';
import { stringify } from 'yaml';
import { render, RenderError } from '../render/render.js';
import { SHIPPED_TEMPLATES } from '../render/shipped-files.js';
import { loadTemplates } from '../render/templates.js';
import type { Trigger } from '../render/trigger.js';
import { describeDocument, FILE_FLAG_ALIASES, parseArgs, readDocuments, UsageError, type InputDocument } from './input.js';

const USAGE = 'usage: kurier render -f FILE|DIR|- [--templates DIR] [--allow-cross-namespace]\n';


function asTrigger(value: unknown): Trigger | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a YAML mapping';
  const doc = value as Partial<Trigger>;
  if (typeof doc.kind !== 'string') return 'kind: is required';
  if (typeof doc.metadata !== 'object') return 'metadata: is required';
  if (typeof doc.spec !== 'object') return 'spec: is required';
  return doc as Trigger;
}

/** `kurier render`: prints the dispatcher Deployment of every trigger; exit 0 ok, 1 invalid, 2 usage. */
export async function runRender(args: readonly string[]): Promise<number> {
  let target: string;
  let templatesDir: string;
  let allowCrossNamespace: boolean;
  try {
    const parsed = parseArgs(args, ['-f', '--templates'], ['--allow-cross-namespace'], FILE_FLAG_ALIASES);
    if (parsed.positional.length > 0) throw new UsageError(`unexpected argument ${parsed.positional[0] ?? ''}`);
    const file = parsed.values.get('-f');
    if (file === undefined) throw new UsageError('-f FILE is required');
    target = file;
    templatesDir = parsed.values.get('--templates') ?? SHIPPED_TEMPLATES;
    allowCrossNamespace = parsed.switches.has('--allow-cross-namespace');
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr.write(`kurier render: ${err.message}\n${USAGE}`);
    return 2;
  }

  let documents: InputDocument[];
  let templates;
  try {
    templates = await loadTemplates(templatesDir);
    documents = await readDocuments(target);
  } catch (err) {
    stderr.write(`kurier render: ${(err as Error).message}\n`);
    return err instanceof Error && 'code' in err ? 2 : 1;
  }

  let failed = false;
  const rendered: string[] = [];
  for (const document of documents) {
    const trigger = document.error ?? asTrigger(document.value);
    if (typeof trigger === 'string') {
      stderr.write(`${describeDocument(document)}: ${trigger}\n`);
      failed = true;
      continue;
    }
    try {
      rendered.push(stringify(render(trigger, templates, { allowCrossNamespace }), { lineWidth: 0 }));
    } catch (err) {
      if (!(err instanceof RenderError)) throw err;
      for (const problem of err.problems) stderr.write(`${describeDocument(document)}: ${problem.path}: ${problem.message}\n`);
      failed = true;
    }
  }
  stdout.write(rendered.join('---\n'));
  return failed ? 1 : 0;
}
