// Installs pulsar-client's native addon explicitly, for the dispatcher-pulsar image: downloads the
// prebuilt archive Apache publishes for the pinned pulsar-client version, checks its SHA-512 and
// unpacks it where pulsar-client loads it from. There is no node-gyp fallback: a slim image cannot
// compile it (no compiler, python3 or libpulsar), so without the archive the build stops here and
// says what to do. Plain Node (no dependencies): it runs before anything else is installed.
//
//   node pulsar-native.mjs <pulsar-client package dir>
// Variables (Dockerfile build arguments): PULSAR_CLIENT_BINARY_HOST (a mirror of the Apache
// archive), PULSAR_CLIENT_BINARY_SHA512 (the expected checksum; empty = the .sha512 file published
// next to the archive), HTTPS_PROXY / NO_PROXY (honoured with NODE_USE_ENV_PROXY=1).
/* global fetch, AbortSignal */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import process, { arch, platform } from 'node:process';
import { join } from 'node:path';

const DEFAULT_HOST = 'https://archive.apache.org/dist/pulsar/pulsar-client-node/';

function fail(message) {
  process.stderr.write(`pulsar-native: ${message}\n`);
  process.exit(1);
}

async function download(url) {
  let response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new Error(`${err instanceof Error ? err.message : String(err)}${cause}`, { cause: err });
  }
  if (!response.ok) throw new Error(`HTTP ${String(response.status)}`);
  return Buffer.from(await response.arrayBuffer());
}

/** The checksum in a `.sha512` file: either bare hex or `<hex>  <file name>` (sha512sum/gpg style). */
function parseChecksum(text) {
  const hex = text.replace(/^[^:]*:\s*/, '').replace(/\s+/g, ' ').trim().split(' ').filter((word) => /^[0-9a-fA-F]+$/.test(word)).join('');
  return hex.toLowerCase();
}

const packageDir = process.argv[2];
if (packageDir === undefined || !existsSync(join(packageDir, 'package.json'))) fail('usage: node pulsar-native.mjs <pulsar-client package dir>');
const { version, binary } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const host = (process.env.PULSAR_CLIENT_BINARY_HOST || binary.host || DEFAULT_HOST).replace(/\/?$/, '/');
const file = `napi-${platform}-glibc-${arch}.tar.gz`;
const url = `${host}pulsar-client-node-${version}/${file}`;
const hint =
  'The dispatcher-pulsar image needs this archive (the dispatcher and controller images do not). ' +
  'Behind a proxy: docker build --build-arg HTTPS_PROXY=http://proxy:3128 …; from a mirror of the Apache archive: ' +
  '--build-arg PULSAR_CLIENT_BINARY_HOST=https://mirror.example/pulsar-client-node/ (see docs/install.md).';

let archive;
try {
  archive = await download(url);
} catch (err) {
  fail(`cannot download the native Pulsar client ${url}: ${err.message}. ${hint}`);
}
let expected = (process.env.PULSAR_CLIENT_BINARY_SHA512 ?? '').trim().toLowerCase();
let expectedFrom = 'PULSAR_CLIENT_BINARY_SHA512';
if (expected === '') {
  try {
    expected = parseChecksum((await download(`${url}.sha512`)).toString('utf8'));
    expectedFrom = `${url}.sha512`;
  } catch (err) {
    fail(`cannot download the checksum ${url}.sha512: ${err.message}; pass --build-arg PULSAR_CLIENT_BINARY_SHA512=<hex>. ${hint}`);
  }
}
const actual = createHash('sha512').update(archive).digest('hex');
if (!/^[0-9a-f]{128}$/.test(expected)) fail(`${expectedFrom} is not a SHA-512 checksum (128 hex digits)`);
if (actual !== expected) fail(`${file}: SHA-512 ${actual} does not match ${expected} (${expectedFrom}); refusing to install it`);

// node-pre-gyp's layout: the archive's top folder is stripped into binary.module_path (lib/binding/).
const target = join(packageDir, binary.module_path ?? './lib/binding/');
mkdirSync(target, { recursive: true });
const archivePath = join(target, file);
writeFileSync(archivePath, archive);
execFileSync('tar', ['-xzf', archivePath, '-C', target, '--strip-components=1', '--no-same-owner'], { stdio: 'inherit' });
execFileSync('rm', ['-f', archivePath]);
const addon = join(target, `${binary.module_name ?? 'pulsar'}.node`);
if (!existsSync(addon)) fail(`${file} did not contain ${binary.module_name ?? 'pulsar'}.node`);
process.stdout.write(`pulsar-native: installed ${addon} from ${url} (sha512 ${actual.slice(0, 16)}…, checked against ${expectedFrom})\n`);
