/**
 * Summarises a V8 .cpuprofile (from `run.ts --cpu-prof DIR`): self time by function and by
 * file/package, so the report can say where the dispatcher's time goes.
 *
 *   npx tsx bench/dispatcher/profile-summary.ts DIR/CPU.*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { argv } from 'node:process';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const file = argv[2];
if (file === undefined) {
  process.stderr.write('usage: profile-summary.ts <file.cpuprofile> [--top N]\n');
  process.exit(2);
}
const topIndex = argv.indexOf('--top');
const top = topIndex === -1 ? 25 : Number(argv[topIndex + 1]);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

/** node_modules/<pkg>, a repository directory, or a V8/Node category. */
function area(url: string, name: string): string {
  if (url === '') return `(${name || 'native'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1] ?? url;
  if (url.startsWith('node:')) return url;
  const repo = /\/(dispatchers\/[^?]+|bench\/[^?]+|test\/[^?]+|cli\/[^?]+)/.exec(url);
  return repo?.[1] ?? url;
}

const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (node === undefined) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = area(url, functionName);
  const key = `${functionName || '(anonymous)'}  ${where}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byArea.set(where, (byArea.get(where) ?? 0) + us);
}

const print = (title: string, map: Map<string, number>): void => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
};
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
print('self time by file / package', byArea);
print('self time by function', byFunction);
