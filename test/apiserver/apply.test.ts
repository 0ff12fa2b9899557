/* eslint-disable @typescript-eslint/no-explicit-any -- responses are read untyped */
/**
 * Server-side apply as a controller sharing a Deployment relies on: field ownership per manager
 * across Apply and Update operations, force, and dry runs.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { raw, useApiServer } from './helpers.js';

const api = useApiServer({});

const applied = (image: string, extra: Record<string, unknown> = {}): object => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd', labels: { app: 'd' } },
  spec: {
    selector: { matchLabels: { app: 'd' } },
    template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'main', image }] } },
    ...extra,
  },
});

function apply(ns: string, body: object, manager: string, query = ''): Promise<{ status: number; json: any }> {
  return raw(api.server.url, 'PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/d?fieldManager=${manager}${query}`, stringify(body), 'application/apply-patch+yaml');
}

const managers = (obj: any): string[] => (obj.metadata.managedFields as { manager: string; operation: string }[]).map((e) => `${e.manager}/${e.operation}`).sort();

describe('server-side apply shared with other writers', () => {
  it('answers a dry run with what the object would become and stores nothing', async () => {
    const ns = await api.namespace();
    const created = await apply(ns, applied('app:1'), 'kurier');
    expect(created.status).toBe(201);
    const dry = await apply(ns, applied('app:2'), 'kurier', '&dryRun=All');
    expect(dry.status).toBe(200);
    expect(dry.json.spec.template.spec.containers[0].image).toBe('app:2');
    const live = await raw(api.server.url, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments/d`);
    expect(live.json.spec.template.spec.containers[0].image).toBe('app:1');
    expect(live.json.metadata.resourceVersion).toBe(created.json.metadata.resourceVersion);
    // the same configuration again: a no-op, not a new resourceVersion
    const again = await apply(ns, applied('app:1'), 'kurier');
    expect(again.json.metadata.resourceVersion).toBe(created.json.metadata.resourceVersion);
  });

  it("keeps fields another manager set by update (replicas through /scale) when the applier's configuration omits them", async () => {
    const ns = await api.namespace();
    await apply(ns, applied('app:1'), 'kurier');
    const scaled = await raw(api.server.url, 'PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/d/scale?fieldManager=kubectl-scale`, { spec: { replicas: 4 } }, 'application/merge-patch+json');
    expect(scaled.status).toBe(200);
    const reapplied = await apply(ns, applied('app:2'), 'kurier');
    expect(reapplied.json.spec.replicas).toBe(4);
    expect(reapplied.json.spec.template.spec.containers[0].image).toBe('app:2');
  });

  it('moves a field to the manager that updated it: a re-apply conflicts without force and takes it back with force', async () => {
    const ns = await api.namespace();
    await apply(ns, applied('app:1'), 'kurier');
    const live = (await raw(api.server.url, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments/d`)).json;
    live.spec.template.spec.containers[0].image = 'evil:1';
    const edited = await raw(api.server.url, 'PUT', `/apis/apps/v1/namespaces/${ns}/deployments/d?fieldManager=kubectl-edit`, live);
    expect(edited.status).toBe(200);
    expect(managers(edited.json)).toEqual(['kubectl-edit/Update', 'kurier/Apply']);
    const refused = await apply(ns, applied('app:1'), 'kurier');
    expect(refused.status).toBe(409);
    expect(refused.json.message).toContain('conflict with "kubectl-edit"');
    expect(refused.json.details.causes[0].field).toBe('.spec.template.spec.containers[name="main"].image');
    const forced = await apply(ns, applied('app:1'), 'kurier', '&force=true');
    expect(forced.status).toBe(200);
    expect(forced.json.spec.template.spec.containers[0].image).toBe('app:1');
  });

  it('refuses an apply configuration with a field the type does not declare (a PUT would drop it), as kube-apiserver 1.24 did', async () => {
    const ns = await api.namespace();
    const body = applied('app:1') as any;
    body.spec.template.spec.nodeSelectr = { disk: 'ssd' };
    const refused = await apply(ns, body, 'kurier', '&fieldValidation=Ignore');
    expect(refused.status).toBe(500);
    expect(refused.json.message).toBe(`failed to create typed patch object (${ns}/d; apps/v1, Kind=Deployment): .spec.template.spec.nodeSelectr: field not declared in schema`);
  });

  it("removes what the applier stopped applying, unless another manager owns it too", async () => {
    const ns = await api.namespace();
    const withSelector = (): object => {
      const body = applied('app:1') as any;
      body.spec.template.spec.nodeSelector = { disk: 'ssd' };
      body.metadata.annotations = { mine: '1' };
      return body;
    };
    await apply(ns, withSelector(), 'kurier');
    await apply(ns, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', annotations: { mine: '1', theirs: '1' } } }, 'other');
    const smaller = await apply(ns, applied('app:1'), 'kurier');
    expect(smaller.json.spec.template.spec.nodeSelector).toBeUndefined();
    expect(smaller.json.metadata.annotations).toEqual({ mine: '1', theirs: '1' });
  });
});
