import { MM104 } from '../catalogue/rules/mm104.js';
import { isClusterLocal, isIpAddress, isWildcard, nameFromHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, ServiceEntry, ServicePort, VirtualService } from '../model/types.js';
import { routeDestinations, type RouteKind } from '../model/route-destinations.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import { report } from './report.js';
import { httpRouteCall } from './route-call.js';
import type { Finding, Rule, RuleContext } from './types.js';

const DEFAULT_PORT: Record<RouteKind, number> = { http: 80, tls: 443, tcp: 0 };
const PROTOCOL: Record<RouteKind, string> = { http: 'HTTP', tls: 'TLS', tcp: 'TCP' };

/** A ServiceEntry port named after its protocol and number ("http-80"). */
export function servicePortFor(number: number, protocol: string): ServicePort {
  return { number, name: `${protocol.toLowerCase()}-${number}`, protocol };
}

/**
 * The fix of MM104 (static and access-log forms): a MESH_EXTERNAL ServiceEntry for `host` with the given
 * ports and resolution DNS, so Envoy re-resolves the name instead of reusing stale connections/IPs.
 */
export function generatedEntry(host: string, namespace: string, ports: ServicePort[]): ServiceEntry {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: nameFromHost(host), namespace, annotations: { 'meshmedic.io/generated-by': MM104.id } },
    spec: { hosts: [host], location: 'MESH_EXTERNAL', ports, resolution: 'DNS' },
  };
}

function isForeignLocal(host: string, domain: string): boolean {
  return host.endsWith('.local') && !host.endsWith(`.${domain}`);
}

/** The claim of a route to a host Envoy has no cluster for: the call that takes the route finds none. */
export function routeClaim(
  vs: VirtualService,
  kind: RouteKind,
  routeIndex: number,
  cluster: string,
  ctx: RuleContext,
): FindingClaim {
  const rc = kind === 'http' ? httpRouteCall(vs, routeIndex, ctx) : undefined;
  if (!rc)
    return {
      kind: 'inexpressible',
      reason: `no call can be picked that takes ${kind}[${routeIndex}] without guessing (wildcard host, regex match, TLS gateway server or a non-HTTP route)`,
    };
  return { kind: 'no-cluster', client: rc.client, call: rc.call, cluster };
}

function messageType(host: string, ctx: RuleContext) {
  if (isForeignLocal(host, ctx.index.domain)) return MM104.messages.ForeignLocalHost;
  return ctx.complete ? MM104.messages.HostNotDeclared : MM104.messages.HostNotInInput;
}

function finding(
  vs: VirtualService,
  host: string,
  ports: ServicePort[],
  claim: FindingClaim | undefined,
  ctx: RuleContext,
): Finding {
  const args = {
    vs: describeRef(refOf(vs)),
    host,
    cluster: outboundCluster(host, ports[0]?.number ?? 0),
    ports: ports.map((p) => `${p.number}/${p.protocol}`).join(', '),
    domain: ctx.index.domain,
  };
  return report(messageType(host, ctx), args, {
    resource: refOf(vs),
    fix: { patches: [], create: [generatedEntry(host, vs.metadata.namespace ?? 'default', ports)] },
    ...(claim ? { claim } : {}),
  });
}

/**
 * Static form of MM104: a VirtualService routes to an external host that no ServiceEntry declares. The
 * route still names outbound|port||host (route.go GetDestinationCluster), a cluster CDS does not hold:
 * 503 NC under ALLOW_ANY and REGISTRY_ONLY alike.
 */
export const mm104: Rule = {
  ...MM104,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const unknown = new Map<string, Map<number, ServicePort>>();
    const claims = new Map<string, FindingClaim>();
    for (const d of routeDestinations(vs, ctx.index.domain)) {
      const h = d.host;
      if (isWildcard(h) || isIpAddress(h) || !h.includes('.') || isClusterLocal(h, ctx.index.domain)) continue;
      if (ctx.index.entriesForHost(h).length > 0) continue;
      const number = d.destination.port?.number ?? DEFAULT_PORT[d.kind];
      if (number === 0) continue;
      let ports = unknown.get(h);
      if (!ports) unknown.set(h, (ports = new Map<number, ServicePort>()));
      const protocol = d.kind === 'http' && number === 443 ? 'HTTP' : PROTOCOL[d.kind];
      ports.set(number, servicePortFor(number, protocol));
      if (!claims.has(h)) claims.set(h, routeClaim(vs, d.kind, d.routeIndex, outboundCluster(h, number), ctx));
    }
    return [...unknown].map(([host, ports]) => finding(vs, host, [...ports.values()], claims.get(host), ctx));
  },
};
