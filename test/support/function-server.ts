/**
 * A real local HTTP "function" for dispatcher tests: records every request (headers, body, the
 * status it answered) and misbehaves on demand — fail a fraction of requests, answer scripted
 * statuses with Retry-After, delay, drop the connection, or be down (refuse connections) for a while.
 */
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  /** Status answered; 0 when the connection was dropped instead. */
  status: number;
  readonly receivedAt: number;
  answeredAt: number;
}

export interface Reply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Wait this long before answering. */
  readonly delayMs?: number;
  /** Destroy the socket instead of answering (a network error for the client). */
  readonly drop?: boolean;
}

/** Decides the reply for one request; `undefined` falls through to the next rule. */
export type Behaviour = (request: RecordedRequest, index: number) => Reply | undefined;

export interface FunctionServerOptions {
  readonly port?: number;
  /** Random source for `failFraction` (seeded in tests that want repeatability). */
  readonly random?: () => number;
  /** Serve https with this certificate and key (PEM) instead of http. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export class FunctionServer {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly scripted: Reply[] = [];
  private behaviours: Behaviour[] = [];
  private defaultReply: Reply = { status: 200, body: 'ok' };
  private port = 0;
  private inFlight = 0;
  private maxInFlightSeen = 0;
  private random: () => number;
  private readonly tls: FunctionServerOptions['tls'];
  private listeners: (() => void)[] = [];
  private downTimer: NodeJS.Timeout | undefined;

  private constructor(options: FunctionServerOptions) {
    this.port = options.port ?? 0;
    this.random = options.random ?? Math.random;
    this.tls = options.tls;
  }

  static async start(options: FunctionServerOptions = {}): Promise<FunctionServer> {
    const server = new FunctionServer(options);
    await server.listen();
    return server;
  }

  get url(): string {
    return `${this.tls === undefined ? 'http' : 'https'}://127.0.0.1:${this.port}/`;
  }

  /** Requests answered with a 2xx. */
  get delivered(): RecordedRequest[] {
    return this.requests.filter((request) => request.status >= 200 && request.status < 300);
  }

  /** The most requests seen in progress at the same time. */
  get maxConcurrency(): number {
    return this.maxInFlightSeen;
  }

  get isUp(): boolean {
    return this.server !== undefined;
  }

  /** The next requests get these replies, in order, before any other rule. */
  answer(...replies: Reply[]): this {
    this.scripted.push(...replies);
    return this;
  }

  /** Adds a rule consulted (after scripted replies) for every request. */
  behave(behaviour: Behaviour): this {
    this.behaviours.push(behaviour);
    return this;
  }

  /** Fails about `fraction` of the requests with `status` (default 503). */
  failFraction(fraction: number, status = 503): this {
    return this.behave(() => (this.random() < fraction ? { status, body: 'injected failure' } : undefined));
  }

  /** Every reply waits `ms` first. */
  setDelay(ms: number): this {
    this.defaultReply = { ...this.defaultReply, delayMs: ms };
    return this;
  }

  setDefault(reply: Reply): this {
    this.defaultReply = reply;
    return this;
  }

  /** Removes every rule and scripted reply; answers 200 again. */
  heal(): this {
    this.behaviours = [];
    this.scripted.length = 0;
    this.defaultReply = { status: 200, body: 'ok' };
    return this;
  }

  /** Stops accepting connections and drops open ones; with `forMs`, comes back by itself. */
  async goDown(forMs?: number): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        for (const socket of this.sockets) socket.destroy();
      });
    }
    if (forMs !== undefined) {
      this.downTimer = setTimeout(() => { void this.comeBack(); }, forMs);
    }
  }

  /** Listens again on the same port. */
  async comeBack(): Promise<void> {
    clearTimeout(this.downTimer);
    if (this.server === undefined) await this.listen();
  }

  /** Resolves once `predicate(this)` holds (checked after every request), or rejects after `timeoutMs`. */
  waitFor(predicate: (server: FunctionServer) => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((listener) => listener !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((listener) => listener !== check);
        reject(new Error(`function server: timed out after ${timeoutMs}ms waiting for ${what} (${this.requests.length} requests, ${this.delivered.length} delivered)`));
      }, timeoutMs);
      this.listeners.push(check);
    });
  }

  /** Resolves once `count` distinct bodies (or `keyOf` values) were answered with a 2xx. */
  waitForDistinctDelivered(count: number, timeoutMs: number, keyOf: (request: RecordedRequest) => string = (r) => r.text): Promise<void> {
    return this.waitFor((server) => new Set(server.delivered.map(keyOf)).size >= count, timeoutMs, `${count} distinct deliveries`);
  }

  async close(): Promise<void> {
    clearTimeout(this.downTimer);
    await this.goDown();
  }

  private listen(): Promise<void> {
    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const request: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '/',
          headers: req.headers,
          body,
          text: body.toString('utf8'),
          status: 0,
          receivedAt: Date.now(),
          answeredAt: 0,
        };
        const index = this.requests.length;
        this.requests.push(request);
        this.inFlight += 1;
        this.maxInFlightSeen = Math.max(this.maxInFlightSeen, this.inFlight);
        this.notify();
        this.reply(request, index, res);
      });
    };
    const server = this.tls === undefined ? createServer(handle) : createHttpsServer({ cert: this.tls.cert, key: this.tls.key }, handle);
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        this.port = (server.address() as AddressInfo).port;
        this.server = server;
        resolve();
      });
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private choose(request: RecordedRequest, index: number): Reply {
    const scripted = this.scripted.shift();
    if (scripted !== undefined) return scripted;
    for (const behaviour of this.behaviours) {
      const reply = behaviour(request, index);
      if (reply !== undefined) return reply;
    }
    return this.defaultReply;
  }

  private reply(request: RecordedRequest, index: number, res: ServerResponse): void {
    const reply = this.choose(request, index);
    const send = (): void => {
      this.inFlight -= 1;
      request.answeredAt = Date.now();
      if (reply.drop === true || this.server === undefined) {
        res.socket?.destroy();
      } else {
        request.status = reply.status ?? 200;
        res.writeHead(request.status, reply.headers ?? { 'content-type': 'text/plain' }).end(reply.body ?? '');
      }
      this.notify();
    };
    const delay = reply.delayMs ?? this.defaultReply.delayMs ?? 0;
    if (delay > 0) setTimeout(send, delay);
    else send();
  }
}
