/**
 * Every command block of README.md and docs/*.md, as written on a fresh clone: commands that need
 * no cluster run for real (NATS and RabbitMQ on 127.0.0.1); kubectl commands run against the API
 * server double through the real kubectl (KUBECTL points elsewhere); what would recurse into the
 * test suite or take minutes (npm test, benchmarks) is checked to exist.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { startApiServer, type ApiServerDouble } from '../support/apiserver/index.js';
import { repoRoot } from '../support/run-kurier.js';

// docs/install.md (image builds, registries, helm and kustomize installs) needs Docker, helm and a
// real cluster; test/image and the chart/kustomize tests cover it.
const DOCS = ['README.md', ...readdirSync(`${repoRoot}docs`).filter((file) => file.endsWith('.md') && file !== 'install.md').sort().map((file) => `docs/${file}`)];

interface Command {
  readonly doc: string;
  readonly line: number;
  readonly text: string;
  /** Output the doc shows under a `$ command` line, if any. */
  readonly shown?: readonly string[];
}

/** Commands of ```sh blocks (continuations joined, comments dropped) and `$ ` lines of plain blocks. */
function commandsOf(doc: string): Command[] {
  const text = readFileSync(`${repoRoot}${doc}`, 'utf8');
  const out: Command[] = [];
  for (const block of text.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)) {
    const firstLine = text.slice(0, block.index).split('\n').length + 1;
    const lines = (block[2] ?? '').split('\n');
    if (block[1] === 'sh') {
      for (let i = 0; i < lines.length; i++) {
        let command = lines[i] ?? '';
        const start = i;
        while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1)} ${(lines[++i] ?? '').trim()}`;
        command = command.replace(/\s+#.*$/, '').trim();
        if (command !== '') out.push({ doc, line: firstLine + start, text: command });
      }
    } else if (block[1] === '') {
      lines.forEach((line, index) => {
        if (!line.startsWith('$ ')) return;
        const shown = [];
        for (const next of lines.slice(index + 1)) {
          if (next.startsWith('$ ') || next === '') break;
          shown.push(next);
        }
        out.push({ doc, line: firstLine + index, text: line.slice(2).trim(), shown });
      });
    }
  }
  return out;
}

const ALL = DOCS.flatMap(commandsOf);

const run = promisify(execFile);
const kubectl = process.env['KUBECTL'] ?? 'kubectl';
const hasKubectl = await run(kubectl, ['version', '--client']).then(() => true, () => false);

interface Outcome { code: number | null; output: string }

/**
 * Runs `command` with bash in the repository. A long-running one is sent SIGTERM, as its whole
 * process group (npx does not pass signals on), once `started` shows up; the outcome waits until
 * every process holding its output is gone.
 */
function bash(command: string, env: NodeJS.ProcessEnv, started?: RegExp, timeoutMs = 90_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const group = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-(child.pid ?? 0), signal);
      } catch {
        // already gone
      }
    };
    let output = '';
    let stopping = false;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (started !== undefined && !stopping && started.test(output)) {
        stopping = true;
        group('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => { group('SIGKILL'); }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: started !== undefined && !stopping ? -1 : code, output });
    });
  });
}

/** What running a command means here; `undefined` = run it for real. */
function staticCheck(command: string): (() => void) | undefined {
  const words = command.replace(/^(\w+=\S+\s+)+/, '').split(/\s+/);
  const [tool, sub, third] = words;
  if (command === 'npm ci && npm test') return () => { expect(packageJson.scripts.test).toContain('vitest run'); };
  if (tool === 'npm' && sub === 'run') return () => { expect(Object.keys(packageJson.scripts)).toContain(third); };
  if (tool === 'npm' && sub === 'install') return () => { expect(command).toMatch(/pulsar-client/); };
  if (tool === 'npx' && sub === 'vitest') return () => { for (const path of words.slice(3).filter((word) => !word.startsWith('-'))) expect(existsSync(`${repoRoot}${path}`), path).toBe(true); };
  if (tool === 'make' && sub !== 'install') {
    // Building and pushing images needs a Docker engine and a registry (test/image covers them).
    return () => { for (const target of command.split('&&').map((part) => part.trim().split(/\s+/)[1])) expect(readFileSync(`${repoRoot}Makefile`, 'utf8')).toMatch(new RegExp(`^${target ?? ''}:`, 'm')); };
  }
  if (tool === 'npx' && sub === 'tsx') return () => { expect(existsSync(`${repoRoot}${third ?? ''}`), third).toBe(true); };
  return undefined;
}

const needsCluster = (command: string): boolean => /\bkubectl\b|^make install\b/.test(command);
const withoutNpmCi = (command: string): string => command.replace(/^npm ci && /, '');
// Commands that run until stopped, and the log line that says they are up.
const longRunning = (command: string): RegExp | undefined =>
  /npx kurier (run|dispatch (kafka|pulsar|nats|rabbitmq|cron))\b/.test(command) && !/--help/.test(command) ? /"msg":"dispatcher started"/ : undefined;

describe('command blocks of README.md and docs/ that need no cluster, run as written', () => {
  it('found the command blocks', () => {
    expect(ALL.length).toBeGreaterThan(15);
    expect(ALL.map((command) => command.text)).toContain('npm ci && npx kurier demo');
  });

  it('never call a bare kurier: a checkout runs npx kurier', () => {
    expect(ALL.filter((command) => /(^|[\s;&|])kurier\s/.test(command.text.replace(/npx kurier/g, ''))).map((command) => `${command.doc}:${command.line}`)).toEqual([]);
  });

  const local = ALL.filter((command) => !needsCluster(command.text));
  it.each(local.map((command) => [`${command.doc}:${command.line} ${command.text}`, command] as const))('%s', async (_name, command) => {
    const check = staticCheck(command.text);
    if (check !== undefined) {
      check();
      return;
    }
    const text = withoutNpmCi(command.text);
    const shown = command.shown !== undefined && command.shown.length > 0;
    const result = await bash(text, { ...process.env, PATH: `${repoRoot}node_modules/.bin:${process.env['PATH'] ?? ''}` }, shown ? undefined : longRunning(text));
    if (longRunning(text) !== undefined && !shown) {
      // Stopped by SIGTERM once started: it must have drained and stopped cleanly.
      expect(result.output).toContain('"msg":"dispatcher stopped"');
      return;
    }
    if (shown) {
      // The output the doc shows, line for line (… ends a shortened line).
      const lines = result.output.trim().split('\n');
      command.shown.forEach((shown, index) => {
        expect(lines[index], result.output).toBe(shown);
      });
      return;
    }
    expect(result.code, result.output).toBe(0);
  }, 120_000);
});

describe.skipIf(!hasKubectl)('command blocks that need a cluster, against the API server double (set KUBECTL to point at kubectl)', () => {
  let server: ApiServerDouble;
  beforeAll(async () => {
    server = await startApiServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const cluster = ALL.filter((command) => needsCluster(command.text));
  it('found the cluster commands', () => {
    expect(cluster.map((command) => command.text)).toContain('make install');
    expect(cluster.length).toBeGreaterThanOrEqual(6);
  });

  it.each(cluster.map((command) => [`${command.doc}:${command.line} ${command.text}`, command] as const))('%s', async (_name, command) => {
    // make install: its CRD step. Without helm it applies deploy/kustomize, whose client-side
    // validation needs /openapi/v2, which the double does not serve (a real cluster does).
    const text = command.text === 'make install' ? 'kubectl apply --server-side -f crd.yaml' : command.text;
    const result = await bash(text, { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', KUBECONFIG: server.kubeconfigPath });
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toMatch(/error|no resources found/i);
  }, 60_000);
});
