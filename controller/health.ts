/** `/healthz`, `/readyz` (caches synced) and `/metrics` on one HTTP port. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the server on `port` (0 picks a free one) bound to `host`. */
export async function startHealthServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  live: () => boolean;
  ready: () => boolean;
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(code, { 'content-type': type }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply(405, 'method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      if (options.live()) reply(200, 'ok\n');
      else reply(503, 'not live\n');
    } else if (path === '/readyz') {
      if (options.ready()) reply(200, 'ok\n');
      else reply(503, 'caches not synced\n');
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          reply(200, text, options.registry.contentType);
        },
        (err: unknown) => {
          reply(500, `${String(err)}\n`);
        },
      );
    } else {
      reply(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
