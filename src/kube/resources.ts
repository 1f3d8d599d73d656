/** The API resources the operator reads and writes. */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export const ISTIO_VERSION = 'v1';

export const RESOURCES = {
  DestinationRule: { group: 'networking.istio.io', version: ISTIO_VERSION, kind: 'DestinationRule', plural: 'destinationrules', namespaced: true },
  VirtualService: { group: 'networking.istio.io', version: ISTIO_VERSION, kind: 'VirtualService', plural: 'virtualservices', namespaced: true },
  ServiceEntry: { group: 'networking.istio.io', version: ISTIO_VERSION, kind: 'ServiceEntry', plural: 'serviceentries', namespaced: true },
  Gateway: { group: 'networking.istio.io', version: ISTIO_VERSION, kind: 'Gateway', plural: 'gateways', namespaced: true },
  Sidecar: { group: 'networking.istio.io', version: ISTIO_VERSION, kind: 'Sidecar', plural: 'sidecars', namespaced: true },
  PeerAuthentication: { group: 'security.istio.io', version: ISTIO_VERSION, kind: 'PeerAuthentication', plural: 'peerauthentications', namespaced: true },
  Service: { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  Namespace: { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  ConfigMap: { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  MeshHealthPolicy: { group: 'meshmedic.io', version: 'v1alpha1', kind: 'MeshHealthPolicy', plural: 'meshhealthpolicies', namespaced: false },
  MeshRemediation: { group: 'meshmedic.io', version: 'v1alpha1', kind: 'MeshRemediation', plural: 'meshremediations', namespaced: true },
  Lease: { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true },
} as const satisfies Record<string, ResourceType>;

export type ResourceKind = keyof typeof RESOURCES;

export function apiVersionOf(r: ResourceType): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The collection path, cluster-wide or in one namespace. */
export function collectionPath(r: ResourceType, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return namespace && r.namespaced ? `${base}/namespaces/${namespace}/${r.plural}` : `${base}/${r.plural}`;
}

export function resourceForKind(kind: string): ResourceType | undefined {
  return (RESOURCES as Record<string, ResourceType>)[kind];
}
