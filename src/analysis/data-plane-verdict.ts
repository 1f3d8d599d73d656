import { ALL_DATA_PLANES, type ClientDataPlane } from '../catalogue/rule-entry.js';
import { describeDataPlane, namespaceDataPlane, sidecarNamespacesSeeing } from '../model/data-plane.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject, VirtualService } from '../model/types.js';
import type { Finding, Rule } from '../rules/types.js';

const GATEWAY_API_ROUTES: ReadonlySet<string> = new Set(['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute']);

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

/**
 * The data plane a finding's verdict assumed, or undefined when the rule's verdict does not hold for the
 * subject's clients (an ambient namespace whose ztunnel, or waypoint, does not apply what the rule judges:
 * the catalogue entry's `dataPlanes`).
 */
export function withDataPlane(f: Finding, subject: KubeObject, rule: Rule, index: MeshIndex): Finding | undefined {
  // Set by the rule when the subject's namespace does not tell (MM404: the policy's workloads, not its namespace).
  if (f.dataPlane !== undefined) return f;
  const planes: readonly ClientDataPlane[] = rule.dataPlanes ?? ALL_DATA_PLANES;
  const client = claimClient(f);
  if ((planes.length === 1 && planes[0] === 'gateway') || client?.type === 'router' || gatewayOnly(subject))
    return { ...f, dataPlane: 'gateway' };
  // The claim's client when its namespace is one of the input's (rules also name made-up client namespaces for the oracle).
  const own = subject.kind === 'Namespace' ? subject.metadata.name : subject.metadata.namespace;
  const namespace = client && index.get(`Namespace//${client.namespace}`) ? client.namespace : own;
  if (namespace === undefined) return { ...f, dataPlane: 'sidecar' };
  const plane = namespaceDataPlane(namespace, index);
  if (plane.mode === 'ambient' && !planes.includes(plane.waypoint ? 'waypoint' : 'ztunnel')) {
    return sidecarNamespacesSeeing(subject, namespace, index).length > 0 ? { ...f, dataPlane: 'sidecar' } : undefined;
  }
  return { ...f, dataPlane: describeDataPlane(plane) };
}
