import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Target } from '../../../dispatchers/core/targets-file.js';
import { parseTargets, readTargetsFile, sameTargets, TargetsFileError, watchTargetsFile } from '../../../dispatchers/core/targets-file.js';
import { useCleanup } from '../../support/cleanup.js';
import { writeConfigMapMount } from '../../support/configmap-mount.js';
import { waitUntil as until } from '../../support/wait-until.js';

const cleanup = useCleanup();

async function mount(targets: unknown): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'kurier-targets-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  await writeConfigMapMount(dir, { 'targets.json': typeof targets === 'string' ? targets : JSON.stringify(targets) });
  return { dir, path: join(dir, 'targets.json') };
}

function problemOf(text: string): string {
  try {
    parseTargets(text);
  } catch (error) {
    if (error instanceof TargetsFileError) return error.problem;
    throw error;
  }
  return 'no problem';
}

describe('the targets file', () => {
  it('reads the list the controller writes, ignoring fields it does not know', () => {
    expect(parseTargets('{"targets":[{"name":"a","url":"http://a.shop.svc:8080/","port":"http"}],"selector":"app=x"}'))
      .toEqual([{ name: 'a', url: 'http://a.shop.svc:8080/' }]);
    expect(parseTargets('{"targets":[]}')).toEqual([]);
  });

  it('names the problem of a malformed file', () => {
    expect(problemOf('')).toBe('the file is empty');
    expect(problemOf('{"targets":[')).toMatch(/^not JSON: /);
    expect(problemOf('[]')).toBe('expected an object with a "targets" list ({"targets":[{"name":"…","url":"http://…"}]})');
    expect(problemOf('{"targets":[7]}')).toBe('targets[0] is not an object with name and url');
    expect(problemOf('{"targets":[{"url":"http://a/"}]}')).toBe('targets[0].name must be a non-empty string');
    expect(problemOf('{"targets":[{"name":"a","url":"http://a/"},{"name":"a","url":"http://b/"}]}')).toBe('targets[1].name "a" is listed twice');
    expect(problemOf('{"targets":[{"name":"a","url":"ftp://a/"}]}')).toBe('targets[0].url "ftp://a/" must use http or https');
    expect(problemOf('{"targets":[{"name":"a","url":"http://user:secret@"}]}')).toBe('targets[0].url "http://***@" is not a URL');
    expect(problemOf('{"targets":[{"name":"a"}]}')).toBe('targets[0].url must be a string');
  });

  it('says a missing file cannot be read', async () => {
    await expect(readTargetsFile('/nonexistent/kurier/targets.json')).rejects.toThrow('cannot be read (ENOENT)');
  });

  it('compares lists by name and URL, in any order', () => {
    const a: Target = { name: 'a', url: 'http://a/' };
    const b: Target = { name: 'b', url: 'http://b/' };
    expect(sameTargets([a, b], [b, a])).toBe(true);
    expect(sameTargets([a], [{ name: 'a', url: 'http://a:81/' }])).toBe(false);
    expect(sameTargets([a], [a, b])).toBe(false);
  });
});

describe('re-reading the targets file in the kubelet layout', () => {
  it('follows the ..data swap: reports the new list once, and nothing while it is unchanged', async () => {
    const first = [{ name: 'a', url: 'http://a/' }];
    const { dir, path } = await mount({ targets: first });
    const changes: Target[][] = [];
    const watch = watchTargetsFile({ path, intervalMs: 20, initial: await readTargetsFile(path), onChange: (targets) => changes.push(targets), onProblem: () => undefined });
    cleanup.push(() => { watch.stop(); return Promise.resolve(); });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(changes).toEqual([]);
    const second = [{ name: 'a', url: 'http://a/' }, { name: 'b', url: 'http://b/' }];
    await writeConfigMapMount(dir, { 'targets.json': JSON.stringify({ targets: second }) });
    await until(() => changes.length === 1, 2_000, 'the swapped list');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(changes).toEqual([second]);
  });

  it('keeps the last good list on a malformed file, reports each distinct problem once as new, and says when it recovered', async () => {
    const { dir, path } = await mount({ targets: [{ name: 'a', url: 'http://a/' }] });
    const problems: { problem: string; isNew: boolean }[] = [];
    const changes: Target[][] = [];
    let recovered = 0;
    const watch = watchTargetsFile({
      path,
      intervalMs: 20,
      initial: await readTargetsFile(path),
      onChange: (targets) => changes.push(targets),
      onProblem: (problem, isNew) => problems.push({ problem, isNew }),
      onRecovered: () => { recovered += 1; },
    });
    cleanup.push(() => { watch.stop(); return Promise.resolve(); });
    await writeConfigMapMount(dir, { 'targets.json': '{"targets":' });
    await until(() => problems.length >= 3, 2_000, 'three failed reads');
    await writeConfigMapMount(dir, { 'targets.json': '{"targets":[{"name":"a"}]}' });
    await until(() => problems.some((entry) => entry.problem.includes('url must be a string')), 2_000, 'the second problem');
    const news = problems.filter((entry) => entry.isNew).map((entry) => entry.problem);
    expect(news).toHaveLength(2);
    expect(news[0]).toMatch(/^not JSON/);
    expect(news[1]).toBe('targets[0].url must be a string');
    expect(changes).toEqual([]);
    await writeConfigMapMount(dir, { 'targets.json': JSON.stringify({ targets: [{ name: 'a', url: 'http://a/' }] }) });
    await until(() => recovered === 1, 2_000, 'the recovery');
    expect(changes).toEqual([]);
  });
});
