#!/usr/bin/env node
// In a checkout, run the TypeScript source through tsx so the command never runs a stale build;
// in an image (no tsx, no sources), run the compiled CLI from dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'cli', 'kurier.ts');
const built = join(root, 'dist', 'cli', 'kurier.js');

async function hasTsx() {
  try {
    await import('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && (await hasTsx())) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(built).href);
}
