import { MESHMEDIC_CRDS } from '../api/crds.js';
import { CONFIG_MAP_DATA, SECRET_FIELDS, SERVICE_ENTRY_STATUS, SPECS, WORKLOAD_SPECS, type Schema } from './schemas.js';
import type { KubeObject, ObjectRef } from './types.js';

/** One API kind: where it is served, and what meshmedic does with it. */
export interface KindInfo {
  group: string;
  /** The kind's name, when the registry key is not the name alone (see kindKey). */
  kind?: string;
  /** The versions accepted in input; the last one is the one the operator reads and writes. */
  versions: readonly string[];
  namespaced: boolean;
  /** The resource name in API paths (and RBAC). */
  plural: string;
  /**
   * Decoded into typed objects (checked against `fields`) and analyzed, or, for MeshHealthPolicy, read
   * as the policy (checked by parsePolicy against its CRD). Not read: only the operator's API access.
   */
  read: boolean;
  /** The schemas of the top-level fields meshmedic reads (spec, status, data); none: only metadata is checked. */
  fields?: Readonly<Record<string, Schema>>;
}

const ISTIO_VERSIONS = ['v1alpha3', 'v1beta1', 'v1'] as const;
const istio = (plural: string, spec: Schema) =>
  ({
    group: 'networking.istio.io',
    versions: ISTIO_VERSIONS,
    namespaced: true,
    plural,
    read: true,
    fields: { spec },
  }) as const satisfies KindInfo;
const core = <N extends boolean>(plural: string, namespaced: N, fields?: Record<string, Schema>) =>
  ({
    group: '',
    versions: ['v1'],
    namespaced,
    plural,
    read: true,
    ...(fields ? { fields } : {}),
  }) as const satisfies KindInfo;
const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
const gatewayApi = (plural: string, versions: readonly string[], spec: Schema, namespaced = true) =>
  ({
    group: GATEWAY_API_GROUP,
    versions,
    namespaced,
    plural,
    read: true,
    fields: { spec },
  }) as const satisfies KindInfo;
/** The versions of each Gateway API kind Istio reads (standard and experimental channels). */
const GATEWAY_API_V1 = ['v1alpha2', 'v1beta1', 'v1'] as const;
const GATEWAY_API_ALPHA = ['v1alpha3', 'v1alpha2'] as const;

/**
 * The registry key of the Gateway API's Gateway, which shares its kind name with Istio's networking.istio.io
 * Gateway: `Kind.group`, as Kubernetes prints a GroupKind. Every other kind is keyed by its name alone.
 */
export const K8S_GATEWAY = `Gateway.${GATEWAY_API_GROUP}` as const;

// apps/v1beta1 and v1beta2 (older manifests) have the same pod template: read alike.
const apps = (plural: string) =>
  ({
    group: 'apps',
    versions: ['v1beta1', 'v1beta2', 'v1'],
    namespaced: true,
    plural,
    read: true,
    fields: { spec: WORKLOAD_SPECS.Workload },
  }) as const satisfies KindInfo;
const meshmedic = (kind: keyof typeof MESHMEDIC_CRDS) => {
  const d = MESHMEDIC_CRDS[kind];
  return { group: d.group, versions: [d.version], namespaced: d.namespaced, plural: d.plural };
};

/** The one table of the API kinds meshmedic knows: offline input, operator watches and writes, API paths. */
export const KINDS = {
  DestinationRule: istio('destinationrules', SPECS.DestinationRule),
  VirtualService: istio('virtualservices', SPECS.VirtualService),
  ServiceEntry: {
    ...istio('serviceentries', SPECS.ServiceEntry),
    fields: { spec: SPECS.ServiceEntry, status: SERVICE_ENTRY_STATUS },
  },
  Gateway: istio('gateways', SPECS.Gateway),
  Sidecar: istio('sidecars', SPECS.Sidecar),
  PeerAuthentication: {
    group: 'security.istio.io',
    versions: ['v1beta1', 'v1'],
    namespaced: true,
    plural: 'peerauthentications',
    read: true,
    fields: { spec: SPECS.PeerAuthentication },
  },
  RequestAuthentication: {
    group: 'security.istio.io',
    versions: ['v1beta1', 'v1'],
    namespaced: true,
    plural: 'requestauthentications',
    read: true,
    fields: { spec: SPECS.RequestAuthentication },
  },
  AuthorizationPolicy: {
    group: 'security.istio.io',
    versions: ['v1beta1', 'v1'],
    namespaced: true,
    plural: 'authorizationpolicies',
    read: true,
    fields: { spec: SPECS.AuthorizationPolicy },
  },
  Service: core('services', true, { spec: SPECS.Service }),
  Namespace: core('namespaces', false),
  Pod: core('pods', true, { spec: WORKLOAD_SPECS.Pod }),
  Node: core('nodes', false),
  // Only metadata, type and key names are kept (model/secrets.ts): values never enter the index.
  Secret: core('secrets', true, SECRET_FIELDS),
  Deployment: apps('deployments'),
  StatefulSet: apps('statefulsets'),
  DaemonSet: apps('daemonsets'),
  ReplicaSet: apps('replicasets'),
  ConfigMap: core('configmaps', true, { data: CONFIG_MAP_DATA }),
  // Its spec is checked by parsePolicy against the CRD's schema (src/api), as the API server does.
  MeshHealthPolicy: { ...meshmedic('MeshHealthPolicy'), read: true },
  MeshRemediation: { ...meshmedic('MeshRemediation'), read: false },
  Lease: { group: 'coordination.k8s.io', versions: ['v1'], namespaced: true, plural: 'leases', read: false },
  // The Kubernetes Gateway API (gateway.networking.k8s.io), as Istio programs it.
  GatewayClass: gatewayApi('gatewayclasses', ['v1alpha2', 'v1beta1', 'v1'], SPECS.GatewayClass, false),
  [K8S_GATEWAY]: { ...gatewayApi('gateways', ['v1alpha2', 'v1beta1', 'v1'], SPECS.K8sGateway), kind: 'Gateway' },
  HTTPRoute: gatewayApi('httproutes', GATEWAY_API_V1, SPECS.HTTPRoute),
  GRPCRoute: gatewayApi('grpcroutes', ['v1alpha2', 'v1'], SPECS.GRPCRoute),
  TCPRoute: gatewayApi('tcproutes', GATEWAY_API_ALPHA, SPECS.TCPRoute),
  TLSRoute: gatewayApi('tlsroutes', GATEWAY_API_ALPHA, SPECS.TLSRoute),
  ReferenceGrant: gatewayApi('referencegrants', ['v1alpha2', 'v1beta1'], SPECS.ReferenceGrant),
} as const satisfies Record<string, KindInfo>;

export type Kind = keyof typeof KINDS;

/** The kinds read from input (decoded, and analyzed or read as the policy). */
export type KnownKind = { [K in Kind]: (typeof KINDS)[K]['read'] extends true ? K : never }[Kind];

export function isKind(kind: string): kind is Kind {
  return Object.hasOwn(KINDS, kind);
}

/**
 * The registry key of an object's kind: its name, or `Kind.group` where the registry keys that kind by group
 * because another group has a kind of the same name (the Gateway API's Gateway beside Istio's). Without an
 * apiVersion, the name alone.
 */
export function kindKey(o: { apiVersion?: string; kind: string }): string {
  if (o.apiVersion === undefined) return o.kind;
  const qualified = `${o.kind}.${groupOf(o.apiVersion)}`;
  return Object.hasOwn(KINDS, qualified) ? qualified : o.kind;
}

/** The kind name of a registry key (K8S_GATEWAY -> Gateway). */
export function kindName(kind: Kind): string {
  return (KINDS[kind] as KindInfo).kind ?? kind;
}

export function isKnownKind(kind: string): kind is KnownKind {
  return isKind(kind) && KINDS[kind].read;
}

/** The schemas of the top-level fields of a kind that meshmedic reads (none: only metadata is checked). */
export function fieldSchemas(kind: Kind): Readonly<Record<string, Schema>> {
  return (KINDS[kind] as KindInfo).fields ?? {};
}

/** The version the operator reads and writes a kind in. */
export function servedVersion(k: KindInfo): string {
  return k.versions[k.versions.length - 1] as string;
}

/** Kinds that are read without complaint but not analyzed (Deployments, Secrets, ...). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** kind/namespace/name, the kind as its registry key (kindKey): an Istio Gateway and a Gateway API Gateway differ. */
export function objectKey(o: {
  apiVersion?: string;
  kind: string;
  metadata: { namespace?: string; name: string };
}): string {
  return `${kindKey(o)}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** The objectKey of the object a ref names (kind/namespace/name). */
export function refKey(r: Pick<ObjectRef, 'kind' | 'namespace' | 'name'> & { apiVersion?: string }): string {
  return `${kindKey(r)}/${r.namespace ?? ''}/${r.name}`;
}

export function refOf(o: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name };
  if (o.metadata.namespace !== undefined) ref.namespace = o.metadata.namespace;
  return ref;
}

export function describeRef(r: { kind: string; namespace?: string; name: string }): string {
  return r.namespace ? `${r.kind} ${r.namespace}/${r.name}` : `${r.kind} ${r.name}`;
}
