/**
 * docker/pulsar-native.js, the Pulsar image's explicit native-client step, against a local
 * archive server: it installs only an archive whose SHA-512 matches, and says what to do when the
 * archive cannot be had.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/run-kurier.js';

const run = promisify(execFile);
const VERSION = '1.18.0';
const archiveName = `napi-${process.platform}-glibc-${process.arch}.tar.gz`;
let work: string;
let archive: Buffer;
let server: Server;
let host: string;
const served = new Map<string, Buffer>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kurier-pulsar-native-'));
  // an archive shaped as node-pre-gyp publishes it: one top folder holding the addon
  const top = join(work, 'archive', archiveName.replace(/\.tar\.gz$/, ''));
  await mkdir(top, { recursive: true });
  await writeFile(join(top, 'pulsar.node'), 'not really an addon');
  await run('tar', ['-czf', join(work, archiveName), '-C', join(work, 'archive'), archiveName.replace(/\.tar\.gz$/, '')]);
  archive = await readFile(join(work, archiveName));
  server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    res.statusCode = body === undefined ? 404 : 200;
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/mirror/`;
}, 30_000);
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(work, { recursive: true, force: true });
});

async function packageDir(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'pulsar-client', version: VERSION, binary: { module_name: 'pulsar', module_path: './lib/binding/', host: 'https://archive.invalid/' } }),
  );
  return dir;
}

function install(dir: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [join(repoRoot, 'docker/pulsar-native.js'), dir], { env: { PATH: process.env['PATH'] ?? '', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: unknown) => {
      const failed = err as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    },
  );
}

const sha512 = (data: Buffer): string => createHash('sha512').update(data).digest('hex');
const archivePath = `/mirror/pulsar-client-node-${VERSION}/${archiveName}`;

describe('docker/pulsar-native.js', () => {
  it('installs the addon when the archive matches the pinned SHA-512', async () => {
    served.set(archivePath, archive);
    const dir = await packageDir('pinned');
    const result = await install(dir, { PULSAR_CLIENT_BINARY_HOST: host, PULSAR_CLIENT_BINARY_SHA512: sha512(archive) });
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(join(dir, 'lib/binding/pulsar.node'), 'utf8')).toBe('not really an addon');
    expect(existsSync(join(dir, 'lib/binding', archiveName))).toBe(false);
  });

  it('checks against the .sha512 file published next to the archive when no checksum is pinned', async () => {
    served.set(archivePath, archive);
    served.set(`${archivePath}.sha512`, Buffer.from(`${sha512(archive)}  ${archiveName}\n`));
    const dir = await packageDir('published');
    const result = await install(dir, { PULSAR_CLIENT_BINARY_HOST: host });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`checked against ${host}pulsar-client-node-${VERSION}/${archiveName}.sha512`);
  });

  it('refuses an archive whose SHA-512 does not match, installing nothing', async () => {
    served.set(archivePath, Buffer.concat([archive, Buffer.from('tampered')]));
    const dir = await packageDir('tampered');
    const result = await install(dir, { PULSAR_CLIENT_BINARY_HOST: host, PULSAR_CLIENT_BINARY_SHA512: sha512(archive) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('does not match');
    expect(existsSync(join(dir, 'lib/binding/pulsar.node'))).toBe(false);
  });

  it('without the archive, stops naming its URL, the mirror and proxy build arguments', async () => {
    served.delete(archivePath);
    const dir = await packageDir('missing');
    const result = await install(dir, { PULSAR_CLIENT_BINARY_HOST: host });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot download the native Pulsar client ${host}pulsar-client-node-${VERSION}/${archiveName}: HTTP 404`);
    expect(result.stderr).toContain('PULSAR_CLIENT_BINARY_HOST');
    expect(result.stderr).toContain('HTTPS_PROXY');
  });
});
