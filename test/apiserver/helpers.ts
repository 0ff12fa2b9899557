/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-class-instance-assignment -- raw responses are read untyped; client-node models written as literals */
import { randomBytes } from 'node:crypto';
import { ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { startApiServer } from '../support/apiserver/index.js';
import type { ApiServerDouble, ApiServerOptions } from '../support/apiserver/index.js';
import { useSuiteFixture } from '../support/suite-fixture.js';

export interface Status {
  kind: string;
  code: number;
  reason: string;
  message: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason: string; message: string; field?: string }[] };
}

/** Awaits a client-node call that must fail and returns the Kubernetes Status it carried. */
export async function failure(p: Promise<unknown>, code: number): Promise<Status> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiException);
    const err = e as ApiException<unknown>;
    expect(err.code).toBe(code);
    const body = typeof err.body === 'string' ? (JSON.parse(err.body) as Status) : (err.body as Status);
    expect(body.kind).toBe('Status');
    expect(body.code).toBe(code);
    return body;
  }
  throw new Error(`expected the call to fail with ${code}, it succeeded`);
}

/** A unique DNS-label name for one test's namespace or object. */
export const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** One API server double for the enclosing file or describe block, with clients made from its kubeconfig. */
export interface ApiServerFixture {
  readonly server: ApiServerDouble;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  /** Creates a fresh, uniquely named namespace and returns its name. */
  namespace(): Promise<string>;
}

/**
 * Starts the double in `beforeAll` and closes it in `afterAll` of the calling scope;
 * the fixture's fields may be read only inside hooks and tests, once it has started.
 */
export function useApiServer(options: ApiServerOptions = {}): ApiServerFixture {
  return useSuiteFixture(
    'the API server double',
    async () => {
      const server = await startApiServer(options);
      const kc = server.kubeConfig();
      const core = kc.makeApiClient(CoreV1Api);
      return {
        server,
        core,
        apps: kc.makeApiClient(AppsV1Api),
        custom: kc.makeApiClient(CustomObjectsApi),
        namespace: async () => {
          const name = unique('ns');
          await core.createNamespace({ body: { metadata: { name } } });
          return name;
        },
      };
    },
    (fixture) => fixture.server.close(),
  );
}

/** Polls until `fn` stops throwing (short interval; the double's background work runs on the next tick). */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Raw HTTP against the double (for what client-node does not expose: headers, odd content types). */
export async function raw(url: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; headers: Headers; json: any }> {
  const init: RequestInit = { method, headers: { 'Content-Type': contentType, Accept: 'application/json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

/** A minimal valid apps/v1 Deployment whose selector matches its template. */
export function deployment(name: string, extra: Partial<V1Deployment> = {}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'example/app:1.0' }] } },
    },
    ...extra,
  };
}

