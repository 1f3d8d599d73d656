import { MM219 } from '../catalogue/rules/mm219.js';
import { resolveGatewayName } from '../model/gateway-names.js';
import { hostCovers, resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { Gateway, KubeObject, VirtualService } from '../model/types.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

/** A VirtualService's visibility as pilot indexes it (push_context.go initVirtualServices). */
type VsScope = 'public' | 'none' | Set<string>;

function vsScope(vs: VirtualService, index: MeshIndex): VsScope {
  const own = vs.metadata.namespace ?? '';
  const given = vs.spec?.exportTo?.length ? vs.spec.exportTo : index.meshConfig.defaultVirtualServiceExportTo;
  const exportTo = given?.length ? given : ['*'];
  if (exportTo.includes('*')) return 'public';
  if (exportTo.includes('~')) return 'none';
  return new Set(exportTo.map((e) => (e === '.' ? own : e)));
}

function meshBound(vs: VirtualService): boolean {
  const gws = vs.spec?.gateways ?? [];
  return gws.length === 0 || gws.includes('mesh');
}

/** Where a sidecar of `clientNs` (undefined: a namespace no exportTo names) lists the VirtualService, or undefined. */
function rank(vs: VirtualService, scope: VsScope, clientNs: string | undefined): number | undefined {
  if (scope === 'public') return 2;
  if (scope === 'none' || clientNs === undefined || !scope.has(clientNs)) return undefined;
  return vs.metadata.namespace === clientNs ? 0 : 1;
}

function creationOrder(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta.localeCompare(tb);
  if (a.metadata.name !== b.metadata.name) return a.metadata.name.localeCompare(b.metadata.name);
  return (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '');
}

/** The VirtualServices for one host that a sidecar of `clientNs` sees, in the order it uses them. */
function orderFor(
  candidates: { vs: VirtualService; scope: VsScope }[],
  clientNs: string | undefined,
): VirtualService[] {
  return candidates
    .map((c) => ({ vs: c.vs, r: rank(c.vs, c.scope, clientNs) }))
    .filter((c): c is { vs: VirtualService; r: number } => c.r !== undefined)
    .sort((a, b) => a.r - b.r || creationOrder(a.vs, b.vs))
    .map((c) => c.vs);
}

interface Conflict {
  namespaces: string[];
  allOthers: boolean;
  winner: VirtualService;
  others: Set<VirtualService>;
}

/** Parity with istioctl IST0109: two mesh VirtualServices for one host that one namespace's sidecars both see. */
export const mm219: Rule = {
  ...MM219,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    if (vsScope(vs, ctx.index) === 'none') return [];
    const findings: Finding[] = gatewayFindings(vs, ctx);
    if (!meshBound(vs)) return findings;
    const ns = vs.metadata.namespace ?? '';
    const hosts = new Set((vs.spec?.hosts ?? []).map((h) => resolveHost(h.toLowerCase(), ns, ctx.index.domain)));
    for (const host of hosts) {
      const candidates = ctx.index
        .virtualServicesForHost(host)
        .filter(meshBound)
        .map((v) => ({ vs: v, scope: vsScope(v, ctx.index) }))
        .filter((c) => c.scope !== 'none');
      if (candidates.length < 2) continue;
      const named = new Set(candidates.flatMap((c) => (c.scope instanceof Set ? [...c.scope] : [])));
      const byWinner = new Map<VirtualService, Conflict>();
      for (const clientNs of [...[...named].sort(), undefined]) {
        const order = orderFor(candidates, clientNs);
        if (order.length < 2 || !order.includes(vs)) continue;
        const winner = order[0] as VirtualService;
        const c = byWinner.get(winner) ?? {
          namespaces: [],
          allOthers: false,
          winner,
          others: new Set<VirtualService>(),
        };
        byWinner.set(winner, c);
        if (clientNs === undefined) c.allOthers = true;
        else c.namespaces.push(clientNs);
        for (const o of order) if (o !== vs) c.others.add(o);
      }
      for (const c of byWinner.values()) findings.push(finding(vs, host, c));
    }
    return findings;
  },
};

/**
 * An http route Envoy treats as a catch-all (route.go IsCatchAllRoute): no match, or a match on nothing but
 * the uri prefix "/" or regex ".*". Anything else (headers, ports, gateways, ...) is taken as narrower.
 */
function hasCatchAll(vs: VirtualService): boolean {
  return (vs.spec?.http ?? []).some((r) => {
    const match = (r as { match?: Record<string, unknown>[] }).match;
    if (!match || match.length === 0) return true;
    return match.some((m) => {
      const keys = Object.keys(m).filter((k) => k !== 'name');
      if (keys.length === 0) return true;
      const uri = m['uri'] as { prefix?: string; regex?: string } | undefined;
      return keys.length === 1 && keys[0] === 'uri' && (uri?.prefix === '/' || uri?.regex === '.*');
    });
  });
}

/**
 * On a Gateway the VirtualServices for one host are merged (gateway.go vHostDedupMap), and catch-all routes are
 * moved last in their order (route.go SortVHostRoutes): a catch-all after another VirtualService's catch-all never
 * matches. The order is VirtualServicesForGateway's, with the Gateway's namespace taken as the gateway pods'.
 */
function gatewayFindings(vs: VirtualService, ctx: RuleContext): Finding[] {
  if (!hasCatchAll(vs)) return [];
  const ns = vs.metadata.namespace ?? '';
  const out: Finding[] = [];
  const gatewaysOf = (v: VirtualService) =>
    new Set(
      (v.spec?.gateways ?? [])
        .map((g) => resolveGatewayName(g, v.metadata.namespace ?? ''))
        .flatMap((r) => (r.kind === 'gateway' ? [`${r.namespace}/${r.name}`] : [])),
    );
  const mine = gatewaysOf(vs);
  for (const host of new Set((vs.spec?.hosts ?? []).map((h) => resolveHost(h.toLowerCase(), ns, ctx.index.domain)))) {
    for (const gw of mine) {
      const gwNs = gw.slice(0, gw.indexOf('/'));
      if (!servesHost(ctx.index.gateway(gwNs, gw.slice(gw.indexOf('/') + 1)), host)) continue;
      const candidates = ctx.index
        .virtualServicesForHost(host)
        .filter((v) => gatewaysOf(v).has(gw))
        .map((v) => ({ vs: v, scope: vsScope(v, ctx.index) }));
      const order = orderFor(candidates, gwNs);
      const winner = order.find(hasCatchAll);
      if (!winner || winner === vs || !order.includes(vs)) continue;
      const args = { vs: describeRef(refOf(vs)), winner: describeRef(refOf(winner)), host, gateway: `Gateway ${gw}` };
      out.push(
        report(MM219.messages.GatewayCatchAllShadowed, args, {
          resource: refOf(vs),
          related: [refOf(winner)],
          fix: noFix('no automatic fix: merging VirtualServices needs a decision on route order'),
          claim: { kind: 'inexpressible', reason: 'no claim kind checks which VirtualService a route comes from' },
        }),
      );
    }
  }
  return out;
}

/** Whether an HTTP-routing server of the Gateway accepts the host (else no VirtualService serves it there). */
function servesHost(gw: Gateway | undefined, host: string): boolean {
  return (gw?.spec?.servers ?? []).some((server) => {
    const protocol = (server.port?.protocol ?? '').toUpperCase();
    if (
      !['HTTP', 'HTTP2', 'GRPC', 'HTTPS'].includes(protocol) ||
      (server.tls as { mode?: string } | undefined)?.mode === 'PASSTHROUGH'
    )
      return false;
    return (server.hosts ?? []).some((h) => hostCovers(h.includes('/') ? h.slice(h.indexOf('/') + 1) : h, host));
  });
}

/** Why the winner comes first, in Istio's order. */
function whyFirst(vs: VirtualService, c: Conflict): string {
  const w = c.winner;
  if (c.namespaces.includes(w.metadata.namespace ?? '') && vsExportedOnlyTo(w))
    return "it is its namespace's own, exported there only";
  const rest = [vs, ...c.others].filter((o) => o !== w);
  if (vsExportedOnlyTo(w) && rest.some((o) => !vsExportedOnlyTo(o)))
    return 'exported to that namespace by name, which comes before exported to all';
  const t = w.metadata.creationTimestamp;
  if (t && rest.every((o) => o.metadata.creationTimestamp && o.metadata.creationTimestamp > t)) return 'the oldest';
  return rest.some((o) => o.metadata.creationTimestamp !== t)
    ? 'by creationTimestamp, then name'
    : 'no creationTimestamp tells them apart: first by name';
}

function vsExportedOnlyTo(vs: VirtualService): boolean {
  const e = vs.spec?.exportTo ?? [];
  return e.length > 0 && !e.includes('*');
}

function finding(vs: VirtualService, host: string, c: Conflict): Finding {
  const scope = c.allOthers
    ? c.namespaces.length
      ? `namespaces ${c.namespaces.join(', ')} and every other namespace`
      : 'every namespace'
    : `namespace${c.namespaces.length > 1 ? 's' : ''} ${c.namespaces.join(', ')}`;
  const others = [...c.others].map((o) => describeRef(refOf(o))).join(', ');
  const args = { vs: describeRef(refOf(vs)), others, host, scope, why: whyFirst(vs, c) };
  const r = {
    resource: refOf(vs),
    related: [...c.others].map(refOf),
    fix: noFix('no automatic fix: merging VirtualServices needs a decision on route order'),
    claim: { kind: 'inexpressible', reason: 'no claim kind checks which VirtualService a route comes from' },
  } as const;
  if (c.winner === vs) return report(MM219.messages.ShadowsOthers, args, r);
  return report(MM219.messages.RoutesDropped, { ...args, winner: describeRef(refOf(c.winner)) }, r);
}
