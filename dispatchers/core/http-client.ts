import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { Slots } from './slots.js';

export interface FunctionResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The response body, truncated to `maxBodyBytes`. */
  readonly body: Buffer;
  /** True when the function sent more than `maxBodyBytes`. */
  readonly truncated: boolean;
}

/** OpenSSL's verification failures as Node reports them in `error.code`, and Node's own host-name check. */
const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function transportKind(error: Error): 'network' | 'tls' {
  const { code } = error as NodeJS.ErrnoException;
  return code !== undefined && CERTIFICATE_ERRORS.has(code) ? 'tls' : 'network';
}

/** A network failure, a refused TLS certificate or a per-attempt timeout; anything else the client throws is the caller's abort reason. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly kind: 'network' | 'tls' | 'timeout';
  constructor(kind: 'network' | 'tls' | 'timeout', message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

export interface PostOptions {
  readonly timeoutMs: number;
  /** Aborting rejects with the signal's reason (used on shutdown). Long-lived: one listener serves every request. */
  readonly signal?: AbortSignal | undefined;
  /** The message's own signal (the broker took it back): aborting rejects with its reason too. */
  readonly release?: AbortSignal | undefined;
  readonly maxBodyBytes: number;
  /**
   * What to do with a body longer than `maxBodyBytes`: `discard` the rest (the connection stays
   * reusable) or `abort` the response at once (the rest is never transferred).
   */
  readonly overflow?: 'discard' | 'abort';
}

/** POSTs to the function over keep-alive connections. */
export interface FunctionClient {
  post(body: Buffer, headers: Readonly<Record<string, string>>, options: PostOptions): Promise<FunctionResponse>;
  close(): void;
}

/**
 * A keep-alive `node:http(s)` client: one Agent, sockets reused across deliveries, a hard
 * per-attempt timeout covering connect, request and the whole response body.
 */
export function createFunctionClient(url: string, maxSockets: number): FunctionClient {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 10_000 })
    : new http.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 10_000 });
  const request = secure ? https.request : http.request;
  // Resolved once: passing the URL object makes node:http convert it on every request.
  const base = {
    protocol: target.protocol,
    hostname: target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname,
    port: target.port === '' ? undefined : Number(target.port),
    path: `${target.pathname}${target.search}`,
    auth: target.username === '' ? undefined : `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`,
    method: 'POST',
    agent,
  };
  // One abort listener per signal for all requests in progress, not one added and removed per
  // request; the requests' handlers sit in reused slots (see Slots for why not a Set).
  const aborters = new WeakMap<AbortSignal, Slots<() => void>>();
  const watch = (signal: AbortSignal): Slots<() => void> => {
    let handlers = aborters.get(signal);
    if (handlers === undefined) {
      const created = new Slots<() => void>();
      handlers = created;
      aborters.set(signal, created);
      signal.addEventListener('abort', () => { for (const abort of created.snapshot()) abort(); }, { once: true });
    }
    return handlers;
  };

  return {
    post(body, headers, options) {
      return new Promise<FunctionResponse>((resolve, reject) => {
        let finished = false;
        let handlers: Slots<() => void> | undefined;
        let slot = -1;
        const { release } = options;
        const finish = (action: () => void): void => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          handlers?.delete(slot, onAbort);
          release?.removeEventListener('abort', onRelease);
          action();
        };
        const req = request({ ...base, headers: { ...headers, 'content-length': String(body.length) } });
        const timer = setTimeout(() => {
          finish(() => { reject(new TransportError('timeout', `no complete response within ${options.timeoutMs}ms`)); });
          req.destroy();
        }, options.timeoutMs);
        const onAbort = (): void => {
          finish(() => { reject(options.signal?.reason as Error); });
          req.destroy();
        };
        const onRelease = (): void => {
          finish(() => { reject(release?.reason as Error); });
          req.destroy();
        };
        if (options.signal?.aborted === true) {
          onAbort();
          return;
        }
        if (release?.aborted === true) {
          onRelease();
          return;
        }
        if (options.signal !== undefined) {
          handlers = watch(options.signal);
          slot = handlers.add(onAbort);
        }
        release?.addEventListener('abort', onRelease, { once: true });
        req.on('error', (error) => {
          finish(() => { reject(new TransportError(transportKind(error), error.message, { cause: error })); });
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let received = 0;
          let truncated = false;
          const respond = (): void => {
            finish(() => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated }); });
          };
          res.on('data', (chunk: Buffer) => {
            const room = options.maxBodyBytes - received;
            if (room > 0) chunks.push(chunk.subarray(0, room));
            received += chunk.length;
            if (received > options.maxBodyBytes && !truncated) {
              truncated = true;
              if (options.overflow === 'abort') {
                respond();
                res.destroy();
              }
            }
          });
          res.on('error', (error) => {
            finish(() => { reject(new TransportError('network', error.message, { cause: error })); });
          });
          res.on('end', respond);
        });
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
