import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import { Deadlines } from './deadlines.js';
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

/** undici's DispatchController, as far as this client uses it. */
interface Controller {
  abort(reason: Error): void;
}

/**
 * A keep-alive client on an undici Pool: at most `maxSockets` HTTP/1.1 connections, reused across
 * deliveries, and a hard per-attempt timeout covering connect, request and the whole response
 * body. undici's own timeouts are off (this one governs), and a POST is never re-sent by undici:
 * every retry is the pipeline's, with its backoff and its count.
 *
 * undici rather than node:http: with the dispatcher's headers it costs 0.56–0.80× a plain node:http
 * loop's CPU per request, where the node:http client cost 1.09–1.26× (bench/dispatcher/http-client.ts,
 * docs/benchmarks.md); its handler API makes no stream objects per request.
 */
export function createFunctionClient(url: string, maxSockets: number): FunctionClient {
  const target = new URL(url);
  const pool = new Pool(target.origin, {
    connections: maxSockets,
    pipelining: 1,
    // HTTP/1.1 only: one request per connection, as many connections as messages in flight.
    allowH2: false,
    // The attempt's own timer covers connect, headers and body; undici's would cut it short at 300 s.
    headersTimeout: 0,
    bodyTimeout: 0,
    connectTimeout: 0,
    // As node:net connects: try IPv6 and IPv4 addresses of a name in turn.
    autoSelectFamily: true,
  });
  const path = `${target.pathname}${target.search}`;
  // Every attempt's timeout on one timer (no timer set and cleared per request).
  const deadlines = new Deadlines();
  // The URL's credentials as Basic auth, as node:http's `auth` option sends them.
  const authorization = target.username === ''
    ? undefined
    : `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
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
        let controller: Controller | undefined;
        /** Set when the attempt ended before undici handed out its controller: aborted on arrival. */
        let endedBy: Error | undefined;
        const { release } = options;
        const stop = (reason: Error): void => {
          if (controller === undefined) endedBy = reason;
          else controller.abort(reason);
        };
        const finish = (action: () => void): void => {
          if (finished) return;
          finished = true;
          deadlines.cancel(deadline, onTimeout);
          handlers?.delete(slot, onAbort);
          release?.removeEventListener('abort', onRelease);
          action();
        };
        const fail = (reason: Error): void => {
          finish(() => { reject(reason); });
          stop(reason);
        };
        const onTimeout = (): void => { fail(new TransportError('timeout', `no complete response within ${options.timeoutMs}ms`)); };
        const deadline = deadlines.add(options.timeoutMs, onTimeout);
        const onAbort = (): void => { fail(options.signal?.reason as Error); };
        const onRelease = (): void => { fail(release?.reason as Error); };
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
        let status = 0;
        let responseHeaders: IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        let received = 0;
        let truncated = false;
        const respond = (): void => {
          finish(() => { resolve({ status, headers: responseHeaders, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), truncated }); });
        };
        pool.dispatch(
          { path, method: 'POST', headers: authorization === undefined ? headers : { ...headers, authorization }, body },
          {
            onRequestStart(started: Controller) {
              controller = started;
              if (endedBy !== undefined) started.abort(endedBy);
            },
            onResponseStart(_controller: Controller, statusCode: number, answered: IncomingHttpHeaders) {
              // 1xx answers come before the final one; only the final status and headers count.
              status = statusCode;
              responseHeaders = answered;
            },
            onResponseData(active: Controller, chunk: Buffer) {
              const room = options.maxBodyBytes - received;
              if (room > 0) chunks.push(room >= chunk.length ? chunk : chunk.subarray(0, room));
              received += chunk.length;
              if (received > options.maxBodyBytes && !truncated) {
                truncated = true;
                if (options.overflow === 'abort') {
                  respond();
                  active.abort(new Error('response body over the limit: the rest is not read'));
                }
              }
            },
            onResponseEnd: respond,
            onResponseError(_controller: Controller | null, error: Error) {
              finish(() => { reject(new TransportError(transportKind(error), error.message, { cause: error })); });
            },
          },
        );
      });
    },
    close() {
      deadlines.clear();
      pool.destroy().catch(() => undefined);
    },
  };
}
