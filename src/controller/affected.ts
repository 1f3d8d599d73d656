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
 * one re-evaluates the subjects of the rules that read it cluster-wide.
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
  const ns = o.metadata.namespace ?? '';
  const allOf = (namespace?: string): void => {
    for (const k of kinds)
      for (const x of namespace === undefined ? index.ofKind(k) : index.inNamespace(k, namespace)) add(x);
  };
  if (!TRACED_KINDS.has(kind)) {
    if (o.metadata.namespace === undefined || CLUSTER_WIDE_EFFECT.has(kind)) allOf();
    else addPodRelated(ns, kinds, index, add, allOf);
    return out;
  }
  switch (kind) {
    case 'ConfigMap':
      allOf();
      return out;
    case 'Namespace':
      // Its labels decide which policy covers it (namespaceSelector): every subject in it, whatever rules read.
      for (const k of SUBJECT_KINDS) for (const x of index.inNamespace(k, o.metadata.name)) out.add(objectKey(x));
      return out;
    case 'PeerAuthentication':
      allOf(ns === index.meshConfig.rootNamespace ? undefined : ns);
      if (ns !== index.meshConfig.rootNamespace)
        for (const s of index.inNamespace('Service', ns))
          for (const dr of index.destinationRulesMatching(serviceFqdn(s.metadata.name, ns, index.domain))) add(dr);
      return out;
    case 'Gateway':
      allOf();
      return out;
    case 'Sidecar':
      allOf(ns === index.meshConfig.rootNamespace ? undefined : ns);
      return out;
  }
  // VirtualServices that declare the same hosts (MM219) or are served on a Service's or entry's ports (MM220)
  const declared =
    o.kind === 'VirtualService'
      ? ((o as VirtualService).spec?.hosts ?? []).map((h) => resolveHost(h.toLowerCase(), ns, index.domain))
      : o.kind === 'DestinationRule'
        ? []
        : hostsOf(o, index);
  for (const h of declared) for (const vs of index.virtualServicesForHost(h)) add(vs);
  // Subjects that read a Service without a host relation traced below: a workload in its namespace whose pods
  // it selects (MM214), Gateways and routes anywhere (MM212, MM301/302, MM402).
  if (o.kind === 'Service')
    for (const k of kinds)
      if (!HOST_TRACED_SUBJECTS.has(k))
        for (const x of NAMESPACE_LOCAL_SUBJECTS.has(k) ? index.inNamespace(k, ns) : index.ofKind(k)) add(x);
  for (const h of hostsOf(o, index)) {
    for (const dr of index.destinationRulesMatching(h)) add(dr);
    for (const vs of index.virtualServicesRoutingTo(h)) add(vs);
    for (const se of index.entriesForHost(h)) add(se);
    if (o.kind === 'Service') {
      // entries whose endpoints or hosts name this Service derive their addresses from it (MM103)
      for (const se of index.ofKind<ServiceEntry>('ServiceEntry')) {
        if (
          !se.spec?.addresses?.length &&
          (se.spec?.endpoints ?? []).some(
            (e) =>
              e.address &&
              hostsMatch(
                resolveHost(
                  e.address.split('.').length === 2 ? `${e.address}.svc.${index.domain}` : e.address,
                  se.metadata.namespace,
                  index.domain,
                ),
                h,
              ),
          )
        )
          add(se);
        if (!se.spec?.addresses?.length && se.spec?.hosts.some((x) => `${x}.svc.${index.domain}` === h)) add(se);
      }
    }
  }
  if (o.kind === 'ServiceEntry') {
    for (const p of (o as ServiceEntry).spec?.ports ?? [])
      for (const se of index.portlessEntriesOnPort(p.number)) add(se);
    for (const sc of index.ofKind('Sidecar')) add(sc);
  }
  if (o.kind === 'DestinationRule' || o.kind === 'VirtualService')
    for (const sc of index.inNamespace('Sidecar', ns)) add(sc);
  return out;
}
