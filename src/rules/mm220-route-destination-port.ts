import { MM220 } from '../catalogue/rules/mm220.js';
import { resolveGatewayName } from '../model/gateway-names.js';
import { hostCovers, isWildcard, resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import { isHttpPortName } from '../model/protocols.js';
import type { Gateway, KubeObject, Service, ServiceEntry, VirtualService } from '../model/types.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import { routeClaim } from './mm104-external-host-passthrough.js';
import { noFix, report } from './report.js';
import type { Finding, Fix, Rule, RuleContext } from './types.js';

interface Target {
  declared: (Service | ServiceEntry)[];
  ports: number[];
  /** Ports an HTTP route can be served on (HTTP or sniffed). */
  httpPorts: number[];
}

const NOT_HTTP = /^(tcp|tls|https|mongo|mysql|redis|udp|grpc-web-tls)(-|$)/i;

/** The ports of a host: its Kubernetes Service's (which wins over entries), else its entries' (merged). */
function target(host: string, index: MeshIndex): Target | undefined {
  const svc = index.serviceForHost(host);
  if (svc) {
    // An ExternalName Service routes to the cluster of the name it aliases (route.go GetDestinationCluster).
    if (svc.spec?.type === 'ExternalName') return undefined;
    const ports = svc.spec?.ports ?? [];
    const http = ports.filter(
      (p) =>
        p.protocol !== 'UDP' &&
        (isHttpPortName(p.appProtocol ?? p.name) || !NOT_HTTP.test(p.appProtocol ?? p.name ?? '')),
    );
    return { declared: [svc], ports: ports.map((p) => p.port), httpPorts: http.map((p) => p.port) };
  }
  const entries = index
    .entriesForHost(host)
    .filter((se) => (se.spec?.hosts ?? []).some((h) => resolveHost(h, se.metadata.namespace, index.domain) === host));
  if (entries.length === 0) return undefined;
  const ports = entries.flatMap((se) => se.spec?.ports ?? []);
  const http = ports.filter((p) => !p.protocol || ['HTTP', 'HTTP2', 'GRPC'].includes(p.protocol.toUpperCase()));
  return {
    declared: entries,
    ports: [...new Set(ports.map((p) => p.number))],
    httpPorts: [...new Set(http.map((p) => p.number))],
  };
}

type Listener = { port: number; where: string };

/** The sidecar listeners of the hosts: their HTTP ports. */
function sidecarListeners(hosts: string[], index: MeshIndex): Listener[] {
  return hosts.flatMap((h) => {
    const t = target(h, index);
    // A VirtualService host no Service declares is served on port 80 only (route.go separateVSHostsAndServices).
    return (t ? t.httpPorts : [80]).map((port) => ({ port, where: `port ${port} of ${h} (sidecars)` }));
  });
}

type GatewayServer = NonNullable<NonNullable<Gateway['spec']>['servers']>[number];

/** The server's port when it serves HTTP routes (HTTP, HTTP2, GRPC, or HTTPS not in passthrough). */
function httpServerPort(server: GatewayServer): number | undefined {
  const protocol = (server.port?.protocol ?? '').toUpperCase();
  const passthrough = (server.tls as { mode?: string } | undefined)?.mode === 'PASSTHROUGH';
  const port = server.port?.number;
  if (!['HTTP', 'HTTP2', 'GRPC', 'HTTPS'].includes(protocol) || passthrough || !port) return undefined;
  return port;
}

function serverAcceptsAny(server: GatewayServer, hosts: string[]): boolean {
  return (server.hosts ?? []).some((sh) =>
    hosts.some((h) => hostCovers(sh.includes('/') ? sh.slice(sh.indexOf('/') + 1) : sh, h)),
  );
}

/** The listeners of a gateway the route names, for the hosts; undefined when the Gateway is not in the input. */
function gatewayListeners(g: string, ns: string, hosts: string[], index: MeshIndex): Listener[] | undefined {
  const r = resolveGatewayName(g, ns);
  if (r.kind !== 'gateway') return [];
  const gw = index.gateway(r.namespace, r.name);
  if (!gw) return undefined;
  const out: Listener[] = [];
  for (const server of gw.spec?.servers ?? []) {
    const port = httpServerPort(server);
    if (port !== undefined && serverAcceptsAny(server, hosts))
      out.push({ port, where: `port ${port} of Gateway ${r.namespace}/${r.name}` });
  }
  return out;
}

/** Where an http route of the VirtualService is served: (port, description) pairs, or undefined when not known. */
function listenerPorts(vs: VirtualService, index: MeshIndex): Listener[] | undefined {
  const ns = vs.metadata.namespace ?? 'default';
  const hosts = (vs.spec?.hosts ?? []).map((h) => resolveHost(h.toLowerCase(), ns, index.domain));
  if (hosts.length === 0 || hosts.some(isWildcard)) return undefined;
  const gateways = vs.spec?.gateways ?? [];
  const out: Listener[] = gateways.length === 0 || gateways.includes('mesh') ? sidecarListeners(hosts, index) : [];
  for (const g of gateways) {
    const listeners = gatewayListeners(g, ns, hosts, index);
    if (!listeners) return undefined;
    out.push(...listeners);
  }
  return out;
}

/** The claim for a route's missing cluster, with the call on `port` when given. */
function claimOn(
  vs: VirtualService,
  kind: 'http' | 'tcp' | 'tls',
  routeIndex: number,
  cluster: string,
  ctx: RuleContext,
  port?: number,
): FindingClaim {
  const claim = routeClaim(vs, kind, routeIndex, cluster, ctx);
  if (claim.kind !== 'no-cluster' || port === undefined) return claim;
  return { ...claim, call: { ...claim.call, port } };
}

/** Parity with istioctl IST0101 (host:port) and IST0112, judged by the cluster Envoy is given. */
export const mm220: Rule = {
  ...MM220,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const ns = vs.metadata.namespace ?? 'default';
    const findings: Finding[] = [];
    const seen = new Set<string>();
    let served: { port: number; where: string }[] | undefined | null = null;
    for (const kind of ['http', 'tcp', 'tls'] as const) {
      (vs.spec?.[kind] ?? []).forEach((route, routeIndex) => {
        (route.route ?? []).forEach((rd, destIndex) => {
          const d = rd.destination;
          const host = resolveHost(d.host, ns, ctx.index.domain);
          const t = isWildcard(host) ? undefined : target(host, ctx.index);
          if (!t || t.ports.length === 0) return;
          const args = {
            vs: describeRef(refOf(vs)),
            host,
            ports: t.ports.join(', '),
            declared: t.declared.map((o) => describeRef(refOf(o))).join(', '),
          };
          const related = t.declared.map(refOf);
          const port = d.port?.number;
          if (port !== undefined) {
            if (t.ports.includes(port) || seen.has(`${host}:${port}`)) return;
            seen.add(`${host}:${port}`);
            const cluster = outboundCluster(host, port, d.subset);
            findings.push(
              report(
                MM220.messages.PortNotOnService,
                { ...args, port: String(port), cluster },
                {
                  resource: refOf(vs),
                  related,
                  fix: singlePortFix(vs, kind, routeIndex, destIndex, port, t),
                  claim: claimOn(vs, kind, routeIndex, cluster, ctx),
                },
              ),
            );
            return;
          }
          if (t.ports.length < 2 || kind !== 'http' || seen.has(host)) return;
          seen.add(host);
          if (served === null) served = listenerPorts(vs, ctx.index);
          if (served === undefined) {
            findings.push(
              report(MM220.messages.PortSelectorRequired, args, {
                resource: refOf(vs),
                related,
                fix: noFix('no automatic fix: which port of the Service is meant is unknown'),
                claim: { kind: 'inexpressible', reason: 'no port the route is served on is known' },
              }),
            );
            return;
          }
          const missing = served.find((s) => !t.ports.includes(s.port));
          if (!missing) return;
          const cluster = outboundCluster(host, missing.port, d.subset);
          findings.push(
            report(
              MM220.messages.ListenerPortMissing,
              { ...args, where: missing.where, cluster },
              {
                resource: refOf(vs),
                related,
                fix: noFix('no automatic fix: which port of the Service is meant is unknown'),
                claim: claimOn(vs, kind, routeIndex, cluster, ctx, missing.port),
              },
            ),
          );
        });
      });
    }
    return findings;
  },
};

/** A destination port a single-port Service lacks becomes that port. */
function singlePortFix(
  vs: VirtualService,
  kind: string,
  routeIndex: number,
  destIndex: number,
  port: number,
  t: Target,
): Fix {
  if (t.ports.length !== 1)
    return noFix('no automatic fix: the Service has several ports; which one is meant is unknown');
  const path = `/spec/${kind}/${routeIndex}/route/${destIndex}/destination/port/number`;
  return {
    patches: [
      {
        target: refOf(vs),
        patch: [
          { op: 'test', path, value: port },
          { op: 'replace', path, value: t.ports[0] },
        ],
      },
    ],
    create: [],
  };
}
