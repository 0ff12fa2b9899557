import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ApiServerDouble } from './apiserver/index.js';

const run = promisify(execFile);

/** The kubectl to run: `$KUBECTL`, else `kubectl` on the PATH. */
export const kubectl = process.env['KUBECTL'] ?? 'kubectl';

/** Whether that kubectl runs here (tests that need it skip, saying so, when it does not). */
export const hasKubectl = await run(kubectl, ['version', '--client']).then(() => true, () => false);

/**
 * What `kubectl create --dry-run=client -o json -f -` makes of a YAML stream: one object per
 * document. kubectl needs a server for discovery even for a client dry run, so it asks `server`
 * (with a fresh discovery cache); --validate=false because the double serves no /openapi/v2.
 */
export async function kubectlReads(server: ApiServerDouble, stream: string): Promise<unknown[]> {
  const cache = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
  const child = run(kubectl, ['--kubeconfig', server.kubeconfigPath, '--cache-dir', cache, 'create', '--dry-run=client', '--validate=false', '-o', 'json', '-f', '-'], { maxBuffer: 64 * 1024 * 1024 });
  child.child.stdin?.end(stream);
  const { stdout } = await child;
  // One pretty-printed JSON object per document, one after the other.
  return stdout.trim().split(/\n(?=\{\n)/).map((text) => JSON.parse(text) as unknown);
}
