import { ALL_DATA_PLANES, type ClientDataPlane } from '../catalogue/rule-entry.js';
import { describeDataPlane, namespaceDataPlane } from '../model/data-plane.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject, VirtualService } from '../model/types.js';
import { exportScope } from '../model/visibility.js';
import type { Finding, Rule } from '../rules/types.js';

const GATEWAY_API_ROUTES: ReadonlySet<string> = new Set(['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute']);
const EXPORTED_KINDS: ReadonlySet<string> = new Set(['VirtualService', 'DestinationRule', 'ServiceEntry']);

/** A route only gateways run: a VirtualService bound to gateways but not `mesh`, a Gateway API route whose parents are all Gateways. */
function gatewayOnly(o: KubeObject): boolean {
  if (o.kind === 'VirtualService') {
    const gateways = (o as VirtualService).spec?.gateways ?? [];
    return gateways.length > 0 && !gateways.includes('mesh');
  }
  if (GATEWAY_API_ROUTES.has(o.kind)) {
    const parents = (o.spec as { parentRefs?: { kind?: string }[] } | undefined)?.parentRefs ?? [];
    return parents.length > 0 && parents.every((p) => (p.kind ?? 'Gateway') === 'Gateway');
  }
  return false;
}

/** The client the finding's claim names (a sidecar's namespace, or a gateway). */
function claimClient(f: Finding): { type: 'sidecar' | 'router'; namespace: string } | undefined {
  const c = f.claim as { client?: { type: 'sidecar' | 'router'; namespace: string } } | undefined;
  return c?.client;
}

/** Some other namespace of the input runs sidecars and sees the subject (exportTo): its verdict holds there. */
function sidecarClientsElsewhere(o: KubeObject, namespace: string, index: MeshIndex): boolean {
  if (!EXPORTED_KINDS.has(o.kind)) return false;
  const scope = exportScope((o.spec as { exportTo?: string[] } | undefined)?.exportTo, namespace);
  return index.ofKind('Namespace').some((n) => {
    const name = n.metadata.name;
    return name !== namespace && (scope === 'all' || scope.has(name)) && namespaceDataPlane(name, index).mode === 'sidecar';
  });
}

/**
 * The data plane a finding's verdict assumed, or undefined when the rule's verdict does not hold for the
 * subject's clients (an ambient namespace whose ztunnel, or waypoint, does not apply what the rule judges:
 * the catalogue entry's `dataPlanes`).
 */
export function withDataPlane(f: Finding, subject: KubeObject, rule: Rule, index: MeshIndex): Finding | undefined {
  const planes: readonly ClientDataPlane[] = rule.dataPlanes ?? ALL_DATA_PLANES;
  const client = claimClient(f);
  if ((planes.length === 1 && planes[0] === 'gateway') || client?.type === 'router' || gatewayOnly(subject)) return { ...f, dataPlane: 'gateway' };
  const namespace = client?.namespace ?? subject.metadata.namespace;
  if (namespace === undefined) return { ...f, dataPlane: 'sidecar' };
  const plane = namespaceDataPlane(namespace, index);
  if (plane.mode === 'ambient' && !planes.includes(plane.waypoint ? 'waypoint' : 'ztunnel')) {
    return sidecarClientsElsewhere(subject, namespace, index) ? { ...f, dataPlane: 'sidecar' } : undefined;
  }
  return { ...f, dataPlane: describeDataPlane(plane) };
}
