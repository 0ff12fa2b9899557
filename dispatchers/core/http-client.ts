import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

export interface FunctionResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The response body, truncated to `maxBodyBytes`. */
  readonly body: Buffer;
}

/** A network failure or a per-attempt timeout; anything else the client throws is the caller's abort reason. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly kind: 'network' | 'timeout';
  constructor(kind: 'network' | 'timeout', message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

export interface PostOptions {
  readonly timeoutMs: number;
  /** Aborting rejects with the signal's reason (used on shutdown). */
  readonly signal?: AbortSignal | undefined;
  readonly maxBodyBytes: number;
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

  return {
    post(body, headers, options) {
      return new Promise<FunctionResponse>((resolve, reject) => {
        let finished = false;
        const finish = (action: () => void): void => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          action();
        };
        const req = request(target, {
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': String(body.length) },
        });
        const timer = setTimeout(() => {
          finish(() => { reject(new TransportError('timeout', `no complete response within ${options.timeoutMs}ms`)); });
          req.destroy();
        }, options.timeoutMs);
        const onAbort = (): void => {
          finish(() => { reject(options.signal?.reason as Error); });
          req.destroy();
        };
        if (options.signal?.aborted === true) {
          onAbort();
          return;
        }
        options.signal?.addEventListener('abort', onAbort, { once: true });
        req.on('error', (error) => {
          finish(() => { reject(new TransportError('network', error.message, { cause: error })); });
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size < options.maxBodyBytes) {
              chunks.push(chunk.subarray(0, options.maxBodyBytes - size));
              size += Math.min(chunk.length, options.maxBodyBytes - size);
            }
          });
          res.on('error', (error) => {
            finish(() => { reject(new TransportError('network', error.message, { cause: error })); });
          });
          res.on('end', () => {
            finish(() => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }); });
          });
        });
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
