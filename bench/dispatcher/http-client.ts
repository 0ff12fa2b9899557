/**
 * The function client's CPU per POST against a plain node:http keep-alive loop (the baseline of
 * run.ts), in one process, rounds interleaved, against a trivially fast function in a child process
 * (its CPU is not counted). The client sends the dispatcher's full request (buildHeaders: the
 * kubeless and CloudEvents headers); the loop sends a content type and length, as the baseline does.
 * With `--candidate DIR` the client of another tree (DIR/dispatchers/core/http-client.ts) runs in
 * the same rotation.
 *
 *   npx tsx bench/dispatcher/http-client.ts [--requests 20000 --rounds 5 --concurrency 1,16,64 --candidate DIR]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { argv, execPath } from 'node:process';
import { pathToFileURL } from 'node:url';
import * as clientModule from '../../dispatchers/core/http-client.js';
import type { FunctionClient } from '../../dispatchers/core/http-client.js';
import { buildHeaders } from '../../dispatchers/core/request.js';
import type { Message, TriggerIdentity } from '../../dispatchers/core/types.js';

function option(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? undefined : argv[i + 1];
}

function positive(name: string, fallback: number): number {
  const raw = option(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a positive integer, got "${raw ?? ''}"`);
  return value;
}

const REQUESTS = positive('requests', 20_000);
const ROUNDS = positive('rounds', 5);
const CONCURRENCIES = (option('concurrency') ?? '1,16,64').split(',').map(Number);
const CANDIDATE = option('candidate');
const trigger: TriggerIdentity = { kind: 'RabbitMQTrigger', name: 'bench', namespace: 'bench', uid: '' };
const body = Buffer.from('run bench seq 12345');

/** The function: answers 200 "ok" to every request once the body is read. */
const SERVER = `
const server = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'); }); });
server.listen(0, '127.0.0.1', () => { process.stdout.write(String(server.address().port) + '\\n'); });
`;

async function startFunction(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => { resolve(chunk.toString('utf8').trim()); });
    child.once('exit', (code) => { reject(new Error(`the function exited with ${String(code)}`)); });
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => { child.kill(); } };
}

function message(i: number): Message {
  return { id: `bench-${i}`, body, headers: {}, contentType: 'text/plain', topic: 'bench', lane: 'bench', time: new Date(), coordinates: { deliveryTag: i } };
}

type Send = (i: number) => Promise<unknown>;

function plainLoop(url: string, concurrency: number): { send: Send; close: () => void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const send: Send = () => new Promise<number>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'text/plain', 'content-length': body.length } });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => { resolve(res.statusCode ?? 0); });
    });
    req.end(body);
  });
  return { send, close: () => { agent.destroy(); } };
}

function functionClient(create: typeof clientModule.createFunctionClient, url: string, concurrency: number): { send: Send; close: () => void } {
  const client: FunctionClient = create(url, concurrency);
  const send: Send = (i) => {
    const msg = message(i);
    return client.post(msg.body, buildHeaders(msg, { source: 'rabbitmq', trigger }), { timeoutMs: 30_000, maxBodyBytes: 4097, overflow: 'discard' });
  };
  return { send, close: () => { client.close(); } };
}

/** CPU µs per request for `count` requests, `concurrency` at a time. */
async function measure(send: Send, count: number, concurrency: number): Promise<number> {
  let next = 0;
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await send(next++);
  }));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

const fn = await startFunction();
try {
  const candidate = CANDIDATE === undefined
    ? undefined
    : (await import(pathToFileURL(join(CANDIDATE, 'dispatchers/core/http-client.ts')).href) as typeof clientModule).createFunctionClient;
  console.log(`function client vs a plain node:http loop: ${REQUESTS} POSTs per round, ${ROUNDS} rounds, Node ${process.version}; CPU µs per request (median of the rounds)`);
  console.log('in flight  plain loop  client  ratio' + (candidate === undefined ? '' : '  candidate  ratio'));
  for (const concurrency of CONCURRENCIES) {
    const consumers = [
      { name: 'plain', ...plainLoop(fn.url, concurrency) },
      { name: 'client', ...functionClient(clientModule.createFunctionClient, fn.url, concurrency) },
      ...(candidate === undefined ? [] : [{ name: 'candidate', ...functionClient(candidate, fn.url, concurrency) }]),
    ];
    const results = new Map<string, number[]>(consumers.map((c) => [c.name, []]));
    for (const consumer of consumers) await measure(consumer.send, Math.min(REQUESTS, 3_000), concurrency); // warm-up
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = round % 2 === 0 ? consumers : [...consumers].reverse();
      for (const consumer of order) results.get(consumer.name)?.push(await measure(consumer.send, REQUESTS, concurrency));
    }
    for (const consumer of consumers) consumer.close();
    const plain = median(results.get('plain') ?? []);
    const cells = consumers.slice(1).map((c) => {
      const value = median(results.get(c.name) ?? []);
      return `${value.toFixed(1).padStart(6)}  ${(value / plain).toFixed(2).padStart(5)}`;
    });
    console.log(`${String(concurrency).padStart(9)}  ${plain.toFixed(1).padStart(10)}  ${cells.join('  ')}`);
  }
} finally {
  fn.stop();
}
