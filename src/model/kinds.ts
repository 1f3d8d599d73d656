import type { KubeObject, ObjectRef } from './types.js';

/** The kinds meshmedic understands, with the API versions it accepts for each. */
export const KNOWN_KINDS = {
  DestinationRule: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'], namespaced: true },
  VirtualService: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'], namespaced: true },
  ServiceEntry: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'], namespaced: true },
  Gateway: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'], namespaced: true },
  Sidecar: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'], namespaced: true },
  PeerAuthentication: { group: 'security.istio.io', versions: ['v1beta1', 'v1'], namespaced: true },
  Service: { group: '', versions: ['v1'], namespaced: true },
  Namespace: { group: '', versions: ['v1'], namespaced: false },
  Pod: { group: '', versions: ['v1'], namespaced: true },
  ConfigMap: { group: '', versions: ['v1'], namespaced: true },
  MeshHealthPolicy: { group: 'meshmedic.io', versions: ['v1alpha1'], namespaced: false },
} as const;

export type KnownKind = keyof typeof KNOWN_KINDS;

export function isKnownKind(kind: string): kind is KnownKind {
  return Object.hasOwn(KNOWN_KINDS, kind);
}

/** Kinds that are read without complaint but not analyzed (Deployments, Secrets, ...). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function objectKey(o: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** The objectKey of the object a ref names (kind/namespace/name). */
export function refKey(r: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): string {
  return `${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

export function refOf(o: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name };
  if (o.metadata.namespace !== undefined) ref.namespace = o.metadata.namespace;
  return ref;
}

export function describeRef(r: { kind: string; namespace?: string; name: string }): string {
  return r.namespace ? `${r.kind} ${r.namespace}/${r.name}` : `${r.kind} ${r.name}`;
}
