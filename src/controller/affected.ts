import { CATALOGUE } from '../catalogue/index.js';
import { hostsMatch, resolveHost, serviceFqdn } from '../model/hosts.js';
import { K8S_GATEWAY, kindKey, objectKey, type KnownKind } from '../model/kinds.js';
import { routeDestinations } from '../model/route-destinations.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { DestinationRule, KubeObject, ServiceEntry, VirtualService } from '../model/types.js';

/** Kinds rules are evaluated on: the catalogue's subjects. */
export const SUBJECT_KINDS: ReadonlySet<string> = new Set(CATALOGUE.flatMap((e) => e.subjects));

/** The subject kinds whose verdict a change to `kind` can change: those of the rules that read it or judge it. */
export function subjectKindsAffectedBy(kind: string): Set<string> {
  return new Set(
    CATALOGUE.filter((e) => e.subjects.includes(kind as KnownKind) || e.reads.includes(kind as KnownKind)).flatMap(
      (e) => e.subjects,
    ),
  );
}

/** Kinds whose relations to subjects (shared hosts, ports, namespace, mesh) are traced below; any other kind a rule reads re-evaluates its namespace. */
export const TRACED_KINDS: ReadonlySet<string> = new Set([
  'ConfigMap',
  'Namespace',
  'PeerAuthentication',
  'Gateway',
  'Sidecar',
  'Service',
  'ServiceEntry',
  'DestinationRule',
  'VirtualService',
]);

/**
 * Kinds whose effect crosses namespaces with no host to trace it by: a Secret (MM213: the credential of a
 * Gateway selecting pods in the Secret's namespace, whatever the Gateway's own namespace), and the Gateway
 * API's (routes attach to Gateways, and ReferenceGrants admit routes, of other namespaces). Any change to
 * one re-evaluates the subjects of the rules that read it cluster-wide. A RequestAuthentication too: it
 * applies to the gateway pods of its namespace (or, in the root namespace, of every namespace), and the
 * VirtualServices bound to those gateways (MM222) live anywhere.
 */
const CLUSTER_WIDE_EFFECT: ReadonlySet<string> = new Set([
  'Secret',
  K8S_GATEWAY,
  'GatewayClass',
  'HTTPRoute',
  'GRPCRoute',
  'TCPRoute',
  'TLSRoute',
  'ReferenceGrant',
  'RequestAuthentication',
]);

/** Subject kinds related to an object only within its namespace: a Sidecar, Service or workload selects pods of its own. */
const NAMESPACE_LOCAL_SUBJECTS: ReadonlySet<string> = new Set([
  'Sidecar',
  'Service',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
]);

/** Subject kinds related to a Service by its host (traced below); the others are re-evaluated by kind. */
const HOST_TRACED_SUBJECTS: ReadonlySet<string> = new Set([
  'DestinationRule',
  'VirtualService',
  'ServiceEntry',
  'Sidecar',
]);

/**
 * A pod or a workload's pod template in `ns` (any other namespaced kind a rule reads without a traced
 * relation): the subjects of its namespace, the DestinationRules and VirtualServices of the hosts of its
 * namespace's Services (a subset's endpoints are that Service's pods, MM210), and every subject of the kinds
 * that select pods anywhere (an Istio Gateway's selector is not bound to its namespace: MM206/207/211-213).
 */
function addPodRelated(
  ns: string,
  kinds: ReadonlySet<string>,
  index: MeshIndex,
  add: (x: KubeObject) => void,
  allOf: (namespace?: string) => void,
): void {
  allOf(ns);
  for (const k of kinds)
    if (!NAMESPACE_LOCAL_SUBJECTS.has(k) && !HOST_TRACED_SUBJECTS.has(k)) for (const x of index.ofKind(k)) add(x);
  for (const s of index.inNamespace('Service', ns)) {
    const h = serviceFqdn(s.metadata.name, ns, index.domain);
    for (const dr of index.destinationRulesMatching(h)) add(dr);
    for (const vs of index.virtualServicesRoutingTo(h)) add(vs);
  }
}

function hostsOf(o: KubeObject, index: MeshIndex): string[] {
  const ns = o.metadata.namespace;
  switch (o.kind) {
    case 'Service':
      return [serviceFqdn(o.metadata.name, ns ?? '', index.domain)];
    case 'ServiceEntry':
      return ((o as ServiceEntry).spec?.hosts ?? []).map((h) => resolveHost(h, ns, index.domain));
    case 'DestinationRule':
      return [index.drHost(o as DestinationRule)];
    case 'VirtualService':
      return [...new Set(routeDestinations(o as VirtualService, index.domain).map((d) => d.host))];
    default:
      return [];
  }
}

/** What one affectedSubjects call collects into, and the objects and kinds it collects over. */
interface Scope {
  readonly o: KubeObject;
  readonly index: MeshIndex;
  /** The changed object's namespace ('' for a cluster-scoped one). */
  readonly ns: string;
  /** The subject kinds a change to `o` can affect. */
  readonly kinds: ReadonlySet<string>;
  readonly out: Set<string>;
  /** Adds `x` when it is of an affected kind. */
  readonly add: (x: KubeObject) => void;
  /** Adds every affected subject in `namespace`, or everywhere when undefined. */
  readonly allOf: (namespace?: string) => void;
}

/** Subjects of the rules reading a kind with no traced relation: cluster-wide, or those a pod in `ns` can affect. */
function addUntraced(s: Scope, kind: string): void {
  if (s.o.metadata.namespace === undefined || CLUSTER_WIDE_EFFECT.has(kind)) s.allOf();
  else addPodRelated(s.ns, s.kinds, s.index, s.add, s.allOf);
}

/** Its labels decide which policy covers it (namespaceSelector): every subject in it, whatever rules read. */
function addNamespaceSubjects(s: Scope): void {
  for (const k of SUBJECT_KINDS) for (const x of s.index.inNamespace(k, s.o.metadata.name)) s.out.add(objectKey(x));
}

/** A PeerAuthentication or Sidecar in the root namespace governs the mesh; elsewhere its namespace. */
function isMeshWide(s: Scope): boolean {
  return s.ns === s.index.meshConfig.rootNamespace;
}

function addPeerAuthenticationGoverned(s: Scope): void {
  const meshWide = isMeshWide(s);
  s.allOf(meshWide ? undefined : s.ns);
  if (meshWide) return;
  for (const svc of s.index.inNamespace('Service', s.ns))
    for (const dr of s.index.destinationRulesMatching(serviceFqdn(svc.metadata.name, s.ns, s.index.domain))) s.add(dr);
}

/** Traced kinds that govern subjects by namespace or mesh rather than by host. */
const GOVERNING: ReadonlyMap<string, (s: Scope) => void> = new Map([
  ['ConfigMap', (s: Scope) => s.allOf()],
  ['Namespace', addNamespaceSubjects],
  ['PeerAuthentication', addPeerAuthenticationGoverned],
  ['Gateway', (s: Scope) => s.allOf()],
  ['Sidecar', (s: Scope) => s.allOf(isMeshWide(s) ? undefined : s.ns)],
]);

/** The hosts a VirtualService declares, or a Service's or entry's own hosts (a DestinationRule declares none). */
function declaredHosts(s: Scope): string[] {
  if (s.o.kind === 'VirtualService')
    return ((s.o as VirtualService).spec?.hosts ?? []).map((h) => resolveHost(h.toLowerCase(), s.ns, s.index.domain));
  return s.o.kind === 'DestinationRule' ? [] : hostsOf(s.o, s.index);
}

/**
 * Subjects that read a Service without a host relation traced below: a workload in its namespace whose pods
 * it selects (MM214), Gateways and routes anywhere (MM212, MM301/302, MM402).
 */
function addServiceReaders(s: Scope): void {
  for (const k of s.kinds)
    if (!HOST_TRACED_SUBJECTS.has(k))
      for (const x of NAMESPACE_LOCAL_SUBJECTS.has(k) ? s.index.inNamespace(k, s.ns) : s.index.ofKind(k)) s.add(x);
}

/** The host an entry's endpoint address names (a `name.namespace` short name is a Service's). */
function endpointHost(address: string, namespace: string | undefined, domain: string): string {
  const name = address.split('.').length === 2 ? `${address}.svc.${domain}` : address;
  return resolveHost(name, namespace, domain);
}

/** An address-less entry whose endpoints or hosts name the Service of host `h` derives its addresses from it (MM103). */
function derivesAddressesFrom(se: ServiceEntry, h: string, domain: string): boolean {
  if (se.spec?.addresses?.length) return false;
  const byEndpoint = (se.spec?.endpoints ?? []).some(
    (e) => !!e.address && hostsMatch(endpointHost(e.address, se.metadata.namespace, domain), h),
  );
  return byEndpoint || (se.spec?.hosts.some((x) => `${x}.svc.${domain}` === h) ?? false);
}

/** The rules, routes and entries sharing host `h` of the changed object. */
function addSharingHost(s: Scope, h: string): void {
  for (const dr of s.index.destinationRulesMatching(h)) s.add(dr);
  for (const vs of s.index.virtualServicesRoutingTo(h)) s.add(vs);
  for (const se of s.index.entriesForHost(h)) s.add(se);
  if (s.o.kind === 'Service')
    for (const se of s.index.ofKind<ServiceEntry>('ServiceEntry'))
      if (derivesAddressesFrom(se, h, s.index.domain)) s.add(se);
}

/** A Service, ServiceEntry, DestinationRule or VirtualService: the subjects related to it by host, port or namespace. */
function addHostRelated(s: Scope): void {
  // VirtualServices that declare the same hosts (MM219) or are served on a Service's or entry's ports (MM220)
  for (const h of declaredHosts(s)) for (const vs of s.index.virtualServicesForHost(h)) s.add(vs);
  if (s.o.kind === 'Service') addServiceReaders(s);
  for (const h of hostsOf(s.o, s.index)) addSharingHost(s, h);
  if (s.o.kind === 'ServiceEntry') {
    for (const p of (s.o as ServiceEntry).spec?.ports ?? [])
      for (const se of s.index.portlessEntriesOnPort(p.number)) s.add(se);
    for (const sc of s.index.ofKind('Sidecar')) s.add(sc);
  }
  if (s.o.kind === 'DestinationRule' || s.o.kind === 'VirtualService')
    for (const sc of s.index.inNamespace('Sidecar', s.ns)) s.add(sc);
}

/**
 * The subjects (objects rules are evaluated on) whose verdict can change when `o` changes: itself, the
 * rules and routes that share its hosts, entries sharing its ports, and for namespace- or mesh-wide
 * objects (PeerAuthentication, Sidecar, mesh config, Namespace, Gateway) the subjects they govern.
 * Computed from the index before and after the change, so both old and new relations are covered.
 */
export function affectedSubjects(o: KubeObject, index: MeshIndex): Set<string> {
  const out = new Set<string>();
  const kind = kindKey(o);
  if (SUBJECT_KINDS.has(kind)) out.add(objectKey(o));
  const kinds = subjectKindsAffectedBy(kind);
  const add = (x: KubeObject): void => {
    if (kinds.has(kindKey(x))) out.add(objectKey(x));
  };
  const allOf = (namespace?: string): void => {
    for (const k of kinds)
      for (const x of namespace === undefined ? index.ofKind(k) : index.inNamespace(k, namespace)) add(x);
  };
  const s: Scope = { o, index, ns: o.metadata.namespace ?? '', kinds, out, add, allOf };
  if (!TRACED_KINDS.has(kind)) addUntraced(s, kind);
  else (GOVERNING.get(kind) ?? addHostRelated)(s);
  return out;
}
