import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { repoRoot, runKurier } from '../support/run-kurier.js';

function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kurier-cli-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

const trigger = (name: string): string => `apiVersion: kurier.dev/v1alpha1
kind: NATSTrigger
metadata: { name: ${name}, namespace: team }
spec:
  nats: { url: "nats://nats:4222", subject: orders.created }
  function: { url: "http://fn.team:8080/" }
`;

/**
 * Runs kurier with stdout on a pipe nobody reads until the process exits (or `patienceMs` passed,
 * for a process that rightly waits for its reader): a process that exits with output still queued
 * loses everything beyond the pipe's 64 KiB.
 */
function runWithLazyReader(args: string[], patienceMs: number): Promise<{ code: number | null; bytes: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${repoRoot}bin/kurier.js`, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] });
    const stdout = child.stdout;
    stdout.pause();
    let bytes = 0;
    let code: number | null | undefined;
    let ended = false;
    const finish = (): void => { if (code !== undefined && ended) resolve({ code, bytes }); };
    const startReading = (): void => {
      stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
      stdout.on('end', () => { ended = true; finish(); });
      stdout.resume();
    };
    const patience = setTimeout(startReading, patienceMs);
    child.once('error', reject);
    child.once('exit', (exitCode) => {
      code = exitCode;
      if (!stdout.isPaused()) { finish(); return; }
      clearTimeout(patience);
      startReading();
    });
  });
}

describe('kurier output', () => {
  it('drains a piped stdout of more than 64 KiB before exiting (render of 300 triggers)', async () => {
    const dir = scratch({ 'all.yaml': Array.from({ length: 300 }, (_, index) => trigger(`t${index}`)).join('---\n') });
    const args = ['render', '-f', join(dir, 'all.yaml')];
    const complete = await runKurier(args, { timeoutMs: 60_000 });
    expect(complete.code).toBe(0);
    const expected = Buffer.byteLength(complete.stdout);
    expect(expected).toBeGreaterThan(4 * 65_536);
    const piped = await runWithLazyReader(args, 15_000);
    expect(piped).toEqual({ code: 0, bytes: expected });
  }, 90_000);
});

describe('kurier render input', () => {
  it('renders every file of several -f, in order', async () => {
    const dir = scratch({ 'a.yaml': trigger('a'), 'b.yaml': trigger('b') });
    const result = await runKurier(['render', '-f', join(dir, 'a.yaml'), '--filename', join(dir, 'b.yaml')]);
    expect(result.code).toBe(0);
    expect(parseAllDocuments(result.stdout).map((doc) => (doc.toJS() as { metadata: { name: string } }).metadata.name)).toEqual(['a-nats', 'b-nats']);
  });

  it.each(['render', 'validate'])('%s: an empty or comment-only file is one line, exit 2', async (command) => {
    const dir = scratch({ 'empty.yaml': '', 'comments.yaml': '# nothing here\n---\n# nor here\n' });
    for (const file of ['empty.yaml', 'comments.yaml']) {
      const result = await runKurier([command, '-f', join(dir, file)]);
      expect([result.code, result.stdout, result.stderr]).toEqual([2, '', `kurier ${command}: ${join(dir, file)}: no YAML documents (the file is empty or holds only comments)\n`]);
    }
  });

  it.each(['render', 'validate'])('%s: a missing file is one line, exit 2', async (command) => {
    const result = await runKurier([command, '-f', 'nope.yaml']);
    expect([result.code, result.stderr]).toEqual([2, `kurier ${command}: nope.yaml: no such file or directory\n`]);
  });

  it('render: a YAML syntax error is one line with file, line and column, exit 1; the good document is still rendered', async () => {
    const dir = scratch({ 'broken.yaml': `${trigger('good')}---\nmetadata:\n  name: x\n   kind: y\n` });
    const result = await runKurier(['render', '-f', join(dir, 'broken.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${join(dir, 'broken.yaml')}:9:9: not valid YAML: Nested mappings are not allowed in compact mappings\n`);
    expect(result.stdout).toContain('name: good-nats');
  });
});

const SUBCOMMANDS: readonly (readonly [string[], string])[] = [
  [['render'], 'usage: kurier render'],
  [['validate'], 'usage: kurier validate'],
  [['convert'], 'usage: kurier convert'],
  [['run'], 'usage: kurier run'],
  [['demo'], 'usage: kurier demo'],
  [['dispatch'], 'usage: kurier dispatch'],
  [['dispatch', 'nats'], 'NATS_JETSTREAM_STREAM'],
  [['version'], 'usage: kurier version'],
  [['controller'], '--kubeconfig'],
];

describe('help, version and usage errors', () => {
  it.each(SUBCOMMANDS)('%s -h and --help print usage and exit 0', async (command, expected) => {
    for (const flag of ['-h', '--help']) {
      const result = await runKurier([...command, flag]);
      expect(result.code).toBe(0);
      expect(result.stdout + result.stderr).toContain(expected);
    }
  });

  it('kurier --help lists every command', async () => {
    const result = await runKurier(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['render', 'validate', 'convert', 'run', 'dispatch', 'demo', 'controller', 'version']) expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it.each([['--version'], ['version']])('kurier %s prints the package version', async (flag) => {
    const result = await runKurier([flag]);
    expect([result.code, result.stdout]).toEqual([0, `kurier ${packageJson.version}\n`]);
  });

  it.each([
    [['frobnicate'], 'kurier: unknown command "frobnicate" (run "kurier --help" for the commands)'],
    [['--frobnicate'], 'kurier: unknown option "--frobnicate" (run "kurier --help" for the commands)'],
    [['render', '-f', 'examples', '--frobnicate'], 'kurier render: unknown option --frobnicate (run "kurier render --help" for usage)'],
    [['validate', '-f', 'examples', '--frobnicate'], 'kurier validate: unknown option --frobnicate (run "kurier validate --help" for usage)'],
    [['run', '-f', 'examples/nats.yaml', '--frobnicate'], 'kurier run: unknown option --frobnicate (run "kurier run --help" for usage)'],
    [['demo', '--frobnicate'], 'kurier demo: unknown option --frobnicate (run "kurier demo --help" for usage)'],
    [['dispatch', 'nats', '--frobnicate'], 'kurier dispatch: unexpected argument --frobnicate (run "kurier dispatch --help" for usage)'],
    [['dispatch', 'kafkaa'], 'kurier dispatch: unknown source "kafkaa" (run "kurier dispatch --help" for usage)'],
    [['version', 'extra'], 'kurier version: unexpected argument extra'],
  ])('%s exits 2 with one line', async (args, line) => {
    const result = await runKurier(args);
    expect([result.code, result.stderr]).toEqual([2, `${line}\n`]);
  });
});

describe('YAML 1.1 scalars, read as kubectl reads them', () => {
  const manifest = `apiVersion: kurier.dev/v1alpha1
kind: NATSTrigger
metadata: { name: yaml11, namespace: team }
spec:
  nats: { url: "nats://nats:4222", subject: orders }
  function: { url: "http://fn.team:8080/" }
  delivery:
    retry:
      on: [5xx]
`;

  it('validate: an unquoted retry.on is the key true to kubectl; the warning says so, where, and names the field when', async () => {
    const result = await runKurier(['validate', '-f', '-'], { input: manifest });
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toContain('-:9:7 spec.delivery.retry.true: warning: key on: kubectl (YAML 1.1) reads it as the boolean true, so the field is "true", not "on"; the field is named when');
    expect(result.stderr).toContain('spec.delivery.retry.true: unknown field "true"');
  });

  it('render: a value kubectl reads as a boolean where a string was meant is a warning with the quoted form', async () => {
    const result = await runKurier(['render', '-f', '-'], { input: manifest.replace('subject: orders', 'subject: "orders", queueGroup: no').replace('    retry:\n      on: [5xx]\n', '    timeout: 5s\n') });
    expect(result.stderr).toContain(':5:67 spec.nats.queueGroup: warning: value no: kubectl (YAML 1.1) reads it as the boolean false, YAML 1.2 as the string "no"; write "no" if you mean the string');
  });
});
