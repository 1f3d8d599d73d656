import { fill } from '../catalogue/message-type.js';
import { MM206, MM206_WHY } from '../catalogue/rules/mm206.js';
import {
  describeServer,
  droppedServers,
  isHttpProtocol,
  isTlsServer,
  mergeOrder,
  probeHost,
  selectorOverlap,
  serverBind,
  type DroppedServer,
} from '../model/gateway-servers.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { Gateway, KubeObject } from '../model/types.js';
import type { FindingClaim } from './claims.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const NO_FIX = noFix(
  'no automatic fix: which server should own the port is a decision; move one server to another port, give the hosts to one Gateway, or merge the Gateways',
);
const ORDER_UNKNOWN: FindingClaim = {
  kind: 'inexpressible',
  reason: 'which of the two servers Istio drops depends on the creation order, which the input does not give',
};
const NO_SHARED_POD: FindingClaim = {
  kind: 'inexpressible',
  reason: 'no pod of the input carries both selectors: whether a gateway proxy merges the two Gateways is not known',
};
const NO_ROUTE_CONFIG: FindingClaim = {
  kind: 'inexpressible',
  reason:
    'the dropped server is a TCP or TLS passthrough server: it has no route config that tells it apart in the generated listener',
};

type Server = DroppedServer['server'];

/** An HTTPS server that terminates TLS (not PASSTHROUGH or AUTO_PASSTHROUGH): it has an https route config. */
function terminatesHttps(s: Server): boolean {
  const mode = typeof s.tls?.['mode'] === 'string' ? s.tls['mode'].toUpperCase() : '';
  return (
    (s.port?.protocol ?? '').toUpperCase() === 'HTTPS' &&
    s.tls !== undefined &&
    mode !== 'PASSTHROUGH' &&
    mode !== 'AUTO_PASSTHROUGH'
  );
}

/** The dropped server's route config name (pilot/pkg/model/gateway.go gatewayRDSRouteName). */
function routeConfigName(d: DroppedServer, https: boolean): string {
  const s = d.server;
  const port = s.port?.number ?? 0;
  const bind = serverBind(s) ? `.${serverBind(s)}` : '';
  return https
    ? `https.${port}.${s.port?.name ?? ''}.${d.gateway.metadata.name}.${d.gateway.metadata.namespace ?? ''}${bind}`
    : `http.${port}${bind}`;
}

/**
 * What the dropped server would have had: its route config (pilot/pkg/model/gateway.go gatewayRDSRouteName,
 * "http.PORT" or "https.PORT.NAME.GATEWAY.NAMESPACE"), and a request for its first host at the shared pods.
 */
function droppedClaim(d: DroppedServer): FindingClaim {
  const s = d.server;
  const port = s.port?.number ?? 0;
  const https = terminatesHttps(s);
  if (!isHttpProtocol(s.port?.protocol) && !https) return NO_ROUTE_CONFIG;
  const first = s.hosts?.[0] ?? '*';
  const host = probeHost(first.includes('/') ? first.slice(first.indexOf('/') + 1) : first);
  const routeConfig = routeConfigName(d, https);
  const labels = { ...(d.byGateway.spec?.selector ?? {}), ...(d.gateway.spec?.selector ?? {}) };
  return {
    kind: 'gateway-server-missing',
    client: { type: 'router', namespace: d.gateway.metadata.namespace ?? '', labels },
    call: { port, host, ...(https ? { tls: { sni: host } } : {}) },
    routeConfig,
  };
}

function why(d: DroppedServer): string {
  const host =
    d.server.tls !== undefined && d.by.tls !== undefined
      ? (d.server.hosts ?? []).find((h) => (d.by.hosts ?? []).includes(h))
      : undefined;
  if (host !== undefined) return fill(MM206_WHY.tlsHost, { host });
  return fill(MM206_WHY.protocols, { first: d.by.port?.protocol ?? '?', second: d.server.port?.protocol ?? '?' });
}

function selectorText(a: Gateway, b: Gateway): string {
  const labels = { ...(a.spec?.selector ?? {}), ...(b.spec?.selector ?? {}) };
  const text = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return text === '' ? 'every gateway pod' : text;
}

/** Drops of servers of `loser` by servers of `winner` when Istio merges `first` then `second`. */
function drops(first: Gateway, second: Gateway, loser: Gateway): DroppedServer[] {
  return droppedServers([first, second]).filter((d) => d.gateway === loser && d.byGateway !== loser);
}

type Overlap = ReturnType<typeof selectorOverlap>;

/** The drops a nested selector overlap reports: those of the known order, else gw's own, else other's. */
function nestedDrops(order: number | undefined, lost: DroppedServer[], won: DroppedServer[]): DroppedServer[] {
  if (order === undefined) return lost.length > 0 ? lost : won;
  return order < 0 ? won : lost;
}

/** The findings on gw for the servers it loses to (lost) or takes from (won) the other Gateway. */
function pairFindings(
  gw: Gateway,
  other: Gateway,
  lost: DroppedServer[],
  won: DroppedServer[],
  overlap: Overlap,
): Finding[] {
  const order = mergeOrder(gw, other);
  const selector = selectorText(gw, other);
  const args = (d: DroppedServer) => ({
    gw: describeRef(refOf(gw)),
    other: describeRef(refOf(other)),
    server: describeServer(d.gateway === gw ? d.server : d.by),
    otherServer: describeServer(d.gateway === gw ? d.by : d.server),
    why: why(d),
    selector,
  });
  const r = (d: DroppedServer, known = false) => ({
    resource: refOf(gw),
    related: [refOf(other)],
    fix: NO_FIX,
    claim: known ? droppedClaim(d) : ORDER_UNKNOWN,
  });
  if (overlap === 'nested')
    return nestedDrops(order, lost, won).map((d) =>
      report(MM206.messages.MayConflict, args(d), { ...r(d), claim: NO_SHARED_POD }),
    );
  if (order !== undefined)
    return order > 0
      ? lost.map((d) => report(MM206.messages.ServerDropped, args(d), r(d, true)))
      : won.map((d) => report(MM206.messages.ServerWins, args(d), r(d, true)));
  if (lost.length > 0 && won.length > 0) return lost.map((d) => report(MM206.messages.ServersConflict, args(d), r(d)));
  return [
    ...lost.map((d) =>
      report(
        MM206.messages.OrderDependent,
        { ...args(d), older: describeRef(refOf(other)), younger: describeRef(refOf(gw)) },
        r(d),
      ),
    ),
    ...won.map((d) =>
      report(
        MM206.messages.OrderDependent,
        { ...args(d), older: describeRef(refOf(gw)), younger: describeRef(refOf(other)) },
        r(d),
      ),
    ),
  ];
}

/** Gateways by what their servers on a port could collide with (the conditions of droppedServers). */
interface PortIndex {
  /** TLS servers by `port|host`: a later one repeating the host is dropped. */
  tlsHost: Map<string, Set<Gateway>>;
  /** By port: a plain (not TLS-terminating) non-HTTP server, any plain server, any non-HTTP server, any server. */
  plainNonHttp: Map<number, Set<Gateway>>;
  plainAny: Map<number, Set<Gateway>>;
  nonHttpAny: Map<number, Set<Gateway>>;
  any: Map<number, Set<Gateway>>;
  /** Each Gateway's place in the index's order: findings keep the order a full scan gave. */
  order: Map<Gateway, number>;
}

function addTo<K>(m: Map<K, Set<Gateway>>, k: K, gw: Gateway): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(gw);
}

interface ServerClass {
  port: number;
  plain: boolean;
  http: boolean;
  tlsHosts: readonly string[];
}

function serverClasses(gw: Gateway): ServerClass[] {
  return (gw.spec?.servers ?? []).flatMap((s) =>
    s.port?.number === undefined
      ? []
      : [
          {
            port: s.port.number,
            plain: !isTlsServer(s),
            http: isHttpProtocol(s.port.protocol),
            tlsHosts: s.tls !== undefined ? (s.hosts ?? []) : [],
          },
        ],
  );
}

function buildPortIndex(gateways: readonly Gateway[]): PortIndex {
  const ix: PortIndex = {
    tlsHost: new Map(),
    plainNonHttp: new Map(),
    plainAny: new Map(),
    nonHttpAny: new Map(),
    any: new Map(),
    order: new Map(gateways.map((g, i) => [g, i])),
  };
  for (const gw of gateways)
    for (const c of serverClasses(gw)) {
      for (const h of c.tlsHosts) addTo(ix.tlsHost, `${c.port}|${h}`, gw);
      addTo(ix.any, c.port, gw);
      if (c.plain) addTo(ix.plainAny, c.port, gw);
      if (!c.http) addTo(ix.nonHttpAny, c.port, gw);
      if (c.plain && !c.http) addTo(ix.plainNonHttp, c.port, gw);
    }
  return ix;
}

/**
 * The Gateways whose servers could drop one of gw's or lose one to it: droppedServers drops a server only
 * on a port both declare, when a TLS server repeats a host, or when a plain server meets one on its port
 * and not both are HTTP. Every other pair merges: checking it (the whole mesh, per Gateway) was quadratic.
 */
function candidates(gw: Gateway, ix: PortIndex): Set<Gateway> {
  const out = new Set<Gateway>();
  const addAll = (s: Set<Gateway> | undefined): void => s?.forEach((g) => out.add(g));
  for (const c of serverClasses(gw)) {
    for (const h of c.tlsHosts) addAll(ix.tlsHost.get(`${c.port}|${h}`));
    addAll(ix.plainNonHttp.get(c.port));
    if (!c.http) addAll(ix.plainAny.get(c.port));
    if (c.plain) addAll(ix.nonHttpAny.get(c.port));
    if (c.plain && !c.http) addAll(ix.any.get(c.port));
  }
  out.delete(gw);
  return out;
}

/** The Gateways of `all` that mm206 compares gw with (exported for the test that proves none is missed). */
export function pairCandidates(gw: Gateway, all: readonly Gateway[]): Set<Gateway> {
  return candidates(gw, buildPortIndex(all));
}

/** One port index per analysis (a RuleContext lives for one analyze call). */
const PORT_INDEXES = new WeakMap<RuleContext, PortIndex>();

function portIndexOf(ctx: RuleContext): PortIndex {
  let ix = PORT_INDEXES.get(ctx);
  if (!ix) PORT_INDEXES.set(ctx, (ix = buildPortIndex(ctx.index.ofKind<Gateway>('Gateway'))));
  return ix;
}

/** Parity with istioctl IST0145: servers of two Gateways on one workload that Istio cannot merge. */
export const mm206: Rule = {
  ...MM206,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const gw = subject as Gateway;
    const pods = ctx.index.ofKind('Pod');
    const findings: Finding[] = [];
    const ix = portIndexOf(ctx);
    const near = [...candidates(gw, ix)].sort((a, b) => (ix.order.get(a) ?? 0) - (ix.order.get(b) ?? 0));
    for (const other of near) {
      const lost = drops(other, gw, gw); // gw's servers dropped when other is older
      const won = drops(gw, other, other); // other's servers dropped when gw is older
      if (lost.length === 0 && won.length === 0) continue;
      // the selectors last: they may scan the pods
      const overlap = selectorOverlap(gw.spec?.selector, other.spec?.selector, pods);
      if (overlap === 'none') continue;
      findings.push(...pairFindings(gw, other, lost, won, overlap));
    }
    return findings;
  },
};
