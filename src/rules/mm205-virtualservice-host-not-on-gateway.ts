import { MM205 } from '../catalogue/rules/mm205.js';
import { resolveGatewayName } from '../model/gateway-names.js';
import { gatewayAccepts, isHttpProtocol, probeHost, selectorOverlap, serverHosts } from '../model/gateway-servers.js';
import type { MeshIndex } from '../model/mesh-index.js';
import { hostsMatch, resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { Gateway, KubeObject, VirtualService } from '../model/types.js';
import type { FindingClaim } from './claims.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const NO_FIX = noFix(
  "no automatic fix: adding the host to a Gateway server changes what the gateway serves; correct the VirtualService's hosts or the Gateway's server hosts",
);

const OTHER_ROUTES: FindingClaim = {
  kind: 'inexpressible',
  reason:
    'another VirtualService serves the hosts on the same gateway pods: the simulation does not say which VirtualService a route came from',
};

/**
 * Another VirtualService that serves `host` on gateway pods `gw` shares: bound to a Gateway whose selector
 * can pick the same pods and whose servers accept one of its hosts that matches `host` (exportTo is not
 * judged: a conservative answer).
 */
function servedByOther(vs: VirtualService, host: string, gw: Gateway, index: MeshIndex): VirtualService | undefined {
  const pods = index.ofKind('Pod');
  return index.ofKind<VirtualService>('VirtualService').find((other) => {
    if (other === vs) return false;
    const ns = other.metadata.namespace ?? '';
    const hosts = (other.spec?.hosts ?? [])
      .flatMap((h) => hostForms(h, ns, index.domain))
      .filter((h) => hostsMatch(h, host));
    if (hosts.length === 0) return false;
    return (other.spec?.gateways ?? []).some((g) => {
      const r = resolveGatewayName(g, ns);
      const g2 = r.kind === 'gateway' ? index.gateway(r.namespace, r.name) : undefined;
      return (
        g2 !== undefined &&
        gatewayAccepts(g2, ns, hosts) &&
        selectorOverlap(gw.spec?.selector, g2.spec?.selector, pods) !== 'none'
      );
    });
  });
}

const SERVED_ELSEWHERE: FindingClaim = {
  kind: 'inexpressible',
  reason:
    "the hosts are served through the VirtualService's other gateways: a request fails only at pods no other Gateway serves them on, which the finding cannot name",
};

interface Binding {
  /** The bound Istio Gateways the input holds. */
  known: Gateway[];
  /** Bound gateways whose servers are not known: not in the input (offline), or Gateway API Gateways. */
  unknown: number;
  mesh: boolean;
}

function bindings(vs: VirtualService, ctx: RuleContext): Binding {
  const ns = vs.metadata.namespace ?? '';
  const out: Binding = { known: [], unknown: 0, mesh: false };
  for (const g of vs.spec?.gateways ?? []) {
    const r = resolveGatewayName(g, ns);
    if (r.kind === 'mesh') out.mesh = true;
    if (r.kind !== 'gateway') continue;
    const gw = ctx.index.gateway(r.namespace, r.name);
    if (gw) {
      if (!out.known.includes(gw)) out.known.push(gw);
    } else if (ctx.index.hasGatewayApiGateway(r.namespace, r.name) || !ctx.complete) out.unknown++;
  }
  return out;
}

/** The VirtualService host as written and as Istio resolves a short name (in the VirtualService's namespace). */
function hostForms(host: string, ns: string, domain: string): string[] {
  const resolved = resolveHost(host, ns, domain);
  return resolved === host ? [host] : [host, resolved];
}

function acceptedHosts(gw: Gateway): string {
  const hosts = (gw.spec?.servers ?? []).flatMap((s) =>
    serverHosts(s, gw.metadata.namespace ?? '').map((h) => (h.namespace === '*' ? h.host : `${h.namespace}/${h.host}`)),
  );
  return hosts.length > 0 ? [...new Set(hosts)].join(', ') : 'nothing (it has no server, which validation rejects)';
}

/** A request for the host at a pod the Gateway selects, on its first HTTP (else first) server's port. */
function noRouteClaim(gw: Gateway, host: string): FindingClaim {
  const servers = (gw.spec?.servers ?? []).filter((s) => s.port?.number !== undefined);
  const server =
    servers.find((s) => isHttpProtocol(s.port?.protocol)) ??
    servers.find((s) => (s.port?.protocol ?? '').toUpperCase() === 'HTTPS');
  if (servers.length > 0 && !server)
    return {
      kind: 'inexpressible',
      reason: 'the Gateway has only TCP or TLS passthrough servers: the simulation sends HTTP requests',
    };
  const probe = probeHost(host);
  const https = server !== undefined && !isHttpProtocol(server.port?.protocol);
  return {
    kind: 'gateway-no-route',
    client: { type: 'router', namespace: gw.metadata.namespace ?? '', labels: gw.spec?.selector ?? {} },
    call: { port: server?.port?.number ?? 80, host: probe, ...(https ? { tls: { sni: probe } } : {}) },
  };
}

/** Parity with istioctl IST0132: the hosts of a VirtualService that its bound Gateways do not serve. */
export const mm205: Rule = {
  ...MM205,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const ns = vs.metadata.namespace ?? '';
    const hosts = vs.spec?.hosts ?? [];
    const b = bindings(vs, ctx);
    if (b.known.length === 0 || hosts.length === 0) return [];
    const forms = new Map(hosts.map((h) => [h, hostForms(h, ns, ctx.index.domain)]));
    const accepting = (gw: Gateway, h: string): boolean => gatewayAccepts(gw, ns, forms.get(h) ?? [h]);
    const unserved = b.unknown > 0 || b.mesh ? [] : hosts.filter((h) => !b.known.some((gw) => accepting(gw, h)));
    const base = { vs: describeRef(refOf(vs)), namespace: ns };
    const findings: Finding[] = [];
    const first = b.known[0] as Gateway;
    const gateways = b.known.map((g) => describeRef(refOf(g))).join(', ');
    const serverHostsText = b.known.map((g) => acceptedHosts(g)).join('; ');
    const them = b.known.length > 1 ? 'them' : 'it';
    const byOther = new Map(unserved.map((h) => [h, servedByOther(vs, forms.get(h)?.at(-1) ?? h, first, ctx.index)]));
    const notFound = unserved.filter((h) => !byOther.get(h));
    if (notFound.length > 0) {
      findings.push(
        report(
          MM205.messages.HostNotOnAnyGateway,
          { ...base, gateways, them, hosts: notFound.join(', '), serverHosts: serverHostsText },
          {
            resource: refOf(vs),
            related: b.known.map(refOf),
            fix: NO_FIX,
            claim: noRouteClaim(first, notFound[0] as string),
          },
        ),
      );
    }
    for (const h of unserved.filter((x) => byOther.get(x))) {
      const other = byOther.get(h) as VirtualService;
      findings.push(
        report(
          MM205.messages.HostServedByOther,
          { ...base, gateways, them, hosts: h, serverHosts: serverHostsText, other: describeRef(refOf(other)) },
          { resource: refOf(vs), related: [...b.known.map(refOf), refOf(other)], fix: NO_FIX, claim: OTHER_ROUTES },
        ),
      );
    }
    if (unserved.length === hosts.length) return findings;
    for (const gw of b.known) {
      if (hosts.some((h) => accepting(gw, h))) continue;
      findings.push(
        report(
          MM205.messages.GatewayServesNoHost,
          { ...base, gateway: describeRef(refOf(gw)), hosts: hosts.join(', '), serverHosts: acceptedHosts(gw) },
          { resource: refOf(vs), related: [refOf(gw)], fix: NO_FIX, claim: SERVED_ELSEWHERE },
        ),
      );
    }
    return findings;
  },
};
