import { KINDS, servedVersion, type Kind } from '../model/kinds.js';

/** The API resources the operator reads and writes: derived from the kinds registry (model/kinds.ts). */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

function resourceOf<K extends Kind>(kind: K): ResourceType & { kind: K } {
  const k = KINDS[kind];
  return { group: k.group, version: servedVersion(k), kind, plural: k.plural, namespaced: k.namespaced };
}

export const RESOURCES = Object.fromEntries(Object.keys(KINDS).map((k) => [k, resourceOf(k as Kind)])) as { readonly [K in Kind]: ResourceType & { kind: K } };

export type ResourceKind = Kind;

export function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The collection path, cluster-wide or in one namespace. */
export function collectionPath(r: ResourceType, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return namespace && r.namespaced ? `${base}/namespaces/${namespace}/${r.plural}` : `${base}/${r.plural}`;
}

export function resourceForKind(kind: string): ResourceType | undefined {
  return Object.hasOwn(RESOURCES, kind) ? RESOURCES[kind as Kind] : undefined;
}
