import type { CrdSchema } from './schema.js';

/** One REST resource the double serves (built-in or defined by a CRD). */
export interface ResourceType {
  group: string;
  version: string;
  resource: string; // plural
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  statusSubresource: boolean;
  /** metadata.generation is maintained (bumped on changes outside metadata and status). */
  generation: 'none' | 'spec' | 'nonMetadata';
  /** The storage this version shares with others (core/v1 events and events.k8s.io/v1 events). */
  storage: string;
  /** PUT may create an object that does not exist. */
  allowCreateOnUpdate: boolean;
  /** Deleting answers the deleted object instead of a Success Status. */
  returnDeletedObject: boolean;
  fieldSelectors: string[];
  schema?: CrdSchema;
  printerColumns?: PrinterColumn[];
  crd?: string;
  /** Strategic merge patch is accepted (built-in kinds only, as in a real cluster). */
  strategicMerge: boolean;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

/** "apps/v1" or "v1". */
export const apiVersionOf = (rt: { group: string; version: string }): string => (rt.group ? `${rt.group}/${rt.version}` : rt.version);

const META_FIELDS = ['metadata.name', 'metadata.namespace'];

function builtin(p: Partial<ResourceType> & Pick<ResourceType, 'group' | 'version' | 'resource' | 'kind'>): ResourceType {
  return {
    singular: p.kind.toLowerCase(),
    listKind: `${p.kind}List`,
    namespaced: true,
    shortNames: [],
    categories: [],
    statusSubresource: false,
    generation: 'none',
    storage: `${p.group}/${p.resource}`,
    allowCreateOnUpdate: false,
    returnDeletedObject: false,
    fieldSelectors: META_FIELDS,
    strategicMerge: true,
    ...p,
  };
}

/** The built-in kinds the double serves. */
export function builtinResources(): ResourceType[] {
  return [
    builtin({ group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], statusSubresource: true, fieldSelectors: ['metadata.name', 'status.phase'] }),
    builtin({ group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] }),
    builtin({ group: '', version: 'v1', resource: 'services', kind: 'Service', shortNames: ['svc'], categories: ['all'], statusSubresource: true }),
    builtin({ group: '', version: 'v1', resource: 'secrets', kind: 'Secret', fieldSelectors: [...META_FIELDS, 'type'] }),
    builtin({
      group: '',
      version: 'v1',
      resource: 'events',
      kind: 'Event',
      shortNames: ['ev'],
      storage: 'events',
      allowCreateOnUpdate: true,
      fieldSelectors: [...META_FIELDS, 'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
    }),
    builtin({
      group: 'events.k8s.io',
      version: 'v1',
      resource: 'events',
      kind: 'Event',
      shortNames: ['ev'],
      storage: 'events',
      allowCreateOnUpdate: true,
      fieldSelectors: [...META_FIELDS, 'regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid', 'reason', 'reportingController', 'type'],
    }),
    builtin({ group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', shortNames: ['deploy'], categories: ['all'], statusSubresource: true, generation: 'spec' }),
    builtin({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease' }),
    builtin({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      resource: 'customresourcedefinitions',
      kind: 'CustomResourceDefinition',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      statusSubresource: true,
      generation: 'spec',
      strategicMerge: false,
    }),
  ];
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The legacy discovery document for one group/version. */
export function apiResourceList(groupVersion: string, types: ResourceType[]): object {
  const resources: object[] = [];
  for (const rt of types) {
    const entry: Record<string, unknown> = { name: rt.resource, singularName: rt.singular, namespaced: rt.namespaced, kind: rt.kind, verbs: VERBS };
    if (rt.shortNames.length) entry.shortNames = rt.shortNames;
    if (rt.categories.length) entry.categories = rt.categories;
    resources.push(entry);
    if (rt.statusSubresource) resources.push({ name: `${rt.resource}/status`, singularName: '', namespaced: rt.namespaced, kind: rt.kind, verbs: ['get', 'patch', 'update'] });
    if (rt.group === 'apps' && rt.resource === 'deployments') {
      resources.push({ name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}
