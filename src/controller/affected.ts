import { hostsMatch, resolveHost, serviceFqdn } from '../model/hosts.js';
import { objectKey } from '../model/kinds.js';
import { routeDestinations } from '../model/route-destinations.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { DestinationRule, KubeObject, ServiceEntry, VirtualService } from '../model/types.js';

export const SUBJECT_KINDS = new Set(['DestinationRule', 'VirtualService', 'ServiceEntry', 'Sidecar']);

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
  const add = (x: KubeObject): void => {
    if (SUBJECT_KINDS.has(x.kind)) out.add(objectKey(x));
  };
  add(o);
  const ns = o.metadata.namespace ?? '';
  const allOf = (kinds: string[], namespace?: string): void => {
    for (const k of kinds) for (const x of namespace === undefined ? index.ofKind(k) : index.inNamespace(k, namespace)) add(x);
  };
  switch (o.kind) {
    case 'ConfigMap':
      allOf([...SUBJECT_KINDS]);
      return out;
    case 'Namespace':
      allOf([...SUBJECT_KINDS], o.metadata.name);
      return out;
    case 'PeerAuthentication':
      allOf(['DestinationRule'], ns === index.meshConfig.rootNamespace ? undefined : ns);
      if (ns !== index.meshConfig.rootNamespace) for (const s of index.inNamespace('Service', ns)) for (const dr of index.destinationRulesMatching(serviceFqdn(s.metadata.name, ns, index.domain))) add(dr);
      return out;
    case 'Gateway':
      allOf(['VirtualService']);
      return out;
    case 'Sidecar':
      return out;
  }
  for (const h of hostsOf(o, index)) {
    for (const dr of index.destinationRulesMatching(h)) add(dr);
    for (const vs of index.virtualServicesRoutingTo(h)) add(vs);
    for (const se of index.entriesForHost(h)) add(se);
    if (o.kind === 'Service') {
      // entries whose endpoints or hosts name this Service derive their addresses from it (MM103)
      for (const se of index.ofKind<ServiceEntry>('ServiceEntry')) {
        if (!se.spec?.addresses?.length && (se.spec?.endpoints ?? []).some((e) => e.address && hostsMatch(resolveHost(e.address.split('.').length === 2 ? `${e.address}.svc.${index.domain}` : e.address, se.metadata.namespace, index.domain), h))) add(se);
        if (!se.spec?.addresses?.length && se.spec?.hosts.some((x) => `${x}.svc.${index.domain}` === h)) add(se);
      }
    }
  }
  if (o.kind === 'ServiceEntry') {
    for (const p of (o as ServiceEntry).spec?.ports ?? []) for (const se of index.portlessEntriesOnPort(p.number)) add(se);
    allOf(['Sidecar']);
  }
  if (o.kind === 'DestinationRule' || o.kind === 'VirtualService') allOf(['Sidecar'], ns);
  return out;
}
