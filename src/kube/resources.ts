import { KINDS, kindName, servedVersion, type Kind } from '../model/kinds.js';

/** The API resources the operator reads and writes: derived from the kinds registry (model/kinds.ts). */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** `kind` is the API kind (Gateway), not the registry key (Gateway.gateway.networking.k8s.io). */
function resourceOf(kind: Kind): ResourceType {
  const k = KINDS[kind];
  return {
    group: k.group,
    version: servedVersion(k),
    kind: kindName(kind),
    plural: k.plural,
    namespaced: k.namespaced,
  };
}

/** By registry key (model/kinds.ts kindKey). */
export const RESOURCES = Object.fromEntries(Object.keys(KINDS).map((k) => [k, resourceOf(k as Kind)])) as {
  readonly [K in Kind]: ResourceType;
};

export type ResourceKind = Kind;

export function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The collection path, cluster-wide or in one namespace. */
export function collectionPath(r: ResourceType, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return namespace && r.namespaced ? `${base}/namespaces/${namespace}/${r.plural}` : `${base}/${r.plural}`;
}

/** The resource of a registry key (kindKey of the object or ref). */
export function resourceForKind(kind: string): ResourceType | undefined {
  return Object.hasOwn(RESOURCES, kind) ? RESOURCES[kind as Kind] : undefined;
}
