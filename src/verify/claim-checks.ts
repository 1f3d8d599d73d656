/**
 * Each kind of Envoy claim as oracle queries, and the reading of their results: the claimed effect is
 * there (confirmed), or the generated configuration shows otherwise (refuted). Pure functions.
 */
import type { ClaimCall, ClaimProxy, EnvoyClaim, ProxyWithDns } from '../rules/claims.js';
import {
  transportToMeshEndpoint,
  type CallResult,
  type ClusterInfo,
  type OracleCall,
  type OracleProxy,
  type OracleQuery,
  type QueryResult,
  type Transport,
} from './oracle-protocol.js';

export interface Judgement {
  /** The claimed effect is in Istio's generated configuration. */
  effect: boolean;
  /** The simulated call never reached what the claim is about (no listener, no route): neither confirmed nor refuted. */
  inconclusive?: boolean;
  /** What the generated configuration shows, in Envoy's terms. */
  evidence: string;
}

/** An unrelated destination outside every declared range (TEST-NET-3). */
export const FOREIGN_IP = '203.0.113.7';

export function oracleProxy(p: ClaimProxy | ProxyWithDns): OracleProxy {
  return {
    type: p.type,
    namespace: p.namespace,
    ...(p.labels && Object.keys(p.labels).length > 0 ? { labels: p.labels } : {}),
    ...('dnsCapture' in p && p.dnsCapture ? { dnsCapture: true } : {}),
  };
}

export function oracleCall(c: ClaimCall, mode?: OracleCall['mode']): OracleCall {
  return {
    port: c.port,
    ...(c.host !== undefined ? { host: c.host } : {}),
    ...(c.address !== undefined ? { address: c.address } : {}),
    ...(c.path !== undefined ? { path: c.path } : {}),
    protocol: c.protocol ?? 'http',
    ...(c.tls ? { tls: 'tls' as const, sni: c.tls.sni } : {}),
    ...(mode ? { mode } : {}),
  };
}

/** The queries that check a claim; ids start with `prefix`. */
export function claimQueries(claim: EnvoyClaim, prefix: string): OracleQuery[] {
  const proxy = oracleProxy(claim.client);
  switch (claim.kind) {
    case 'server-rejects': {
      const server: OracleProxy = {
        type: 'sidecar',
        namespace: claim.server.namespace,
        labels: claim.server.labels,
        pod: true,
      };
      const inbound = (tls: 'plaintext' | 'tls' | 'mtls'): OracleQuery => ({
        id: `${prefix}/inbound-${tls}`,
        proxy: server,
        call: { port: claim.server.port, protocol: claim.server.protocol, tls, mode: 'inbound' },
      });
      return [
        { id: `${prefix}/client`, proxy, clusters: [claim.cluster] },
        inbound('plaintext'),
        inbound('tls'),
        inbound('mtls'),
      ];
    }
    case 'upstream-tls-sni':
    case 'outlier':
    case 'plain-endpoint-mtls':
      return [{ id: `${prefix}/client`, proxy, clusters: [claim.cluster] }];
    case 'catch-all':
      return [{ id: `${prefix}/client`, proxy, call: { address: FOREIGN_IP, port: claim.port, protocol: 'tcp' } }];
    case 'no-cluster':
    case 'passthrough':
    case 'route-timeout':
    case 'gateway-no-route':
    case 'gateway-server-missing':
      return [
        {
          id: `${prefix}/client`,
          proxy,
          call: oracleCall(claim.call, claim.client.type === 'router' ? 'gateway' : undefined),
        },
      ];
  }
}

export function describeTransport(t: Transport | undefined): string {
  if (!t) return 'no transport socket for mesh endpoints';
  if (t.kind === 'plaintext') return 'plaintext (raw_buffer)';
  if (t.kind === 'istio-mtls') return 'Istio mTLS (SDS default, ROOTCA)';
  return `TLS${t.sni ? ` sni ${t.sni}` : ' without sni'}${t.credential ? ` (client cert ${t.credential})` : ''}`;
}

export function describeCall(c: CallResult | undefined): string {
  if (!c) return 'no answer';
  const parts = [
    c.listener && `listener ${c.listener}`,
    c.filterChain && `filter chain ${c.filterChain}`,
    c.route && `route ${c.route}`,
    c.cluster && `cluster ${c.cluster}`,
  ].filter(Boolean);
  return `${parts.join(', ') || 'nothing matched'}${c.error ? `: ${c.error}` : ''}`;
}

const LEAVES_MESH = new Set(['PassthroughCluster', 'BlackHoleCluster', 'InboundPassthroughCluster']);

type ClaimOf<K extends EnvoyClaim['kind']> = Extract<EnvoyClaim, { kind: K }>;

/** Reads one kind of claim from the client's result (and, for some kinds, the other queries' results). */
type Judge<K extends EnvoyClaim['kind']> = (
  claim: ClaimOf<K>,
  client: QueryResult,
  results: ReadonlyMap<string, QueryResult>,
  prefix: string,
) => Judgement;

/** One judge per claim kind. */
const JUDGES: { [K in EnvoyClaim['kind']]: Judge<K> } = {
  'server-rejects': judgeServerRejects,
  'upstream-tls-sni': (claim, client) => judgeSni(claim.cluster, claim.wantSni, client.clusters?.[claim.cluster]),
  outlier: (claim, client) => judgeOutlier(claim, client.clusters?.[claim.cluster]),
  'plain-endpoint-mtls': (claim, client) => judgePlainEndpoint(claim.cluster, client.clusters?.[claim.cluster]),
  'catch-all': judgeCatchAll,
  'no-cluster': judgeNoCluster,
  passthrough: judgePassthrough,
  'route-timeout': judgeRouteTimeout,
  'gateway-no-route': judgeNoRoute,
  'gateway-server-missing': judgeServerMissing,
};

/** Reads the results of a claim's queries. */
export function judgeClaim(claim: EnvoyClaim, results: ReadonlyMap<string, QueryResult>, prefix: string): Judgement {
  const client = results.get(`${prefix}/client`);
  if (!client) return { effect: false, evidence: 'the oracle gave no answer for this query' };
  if (client.error) return { effect: false, evidence: `the oracle could not build the proxy: ${client.error}` };
  const judge = JUDGES[claim.kind] as Judge<EnvoyClaim['kind']>;
  return judge(claim, client, results, prefix);
}

function judgeCatchAll(claim: ClaimOf<'catch-all'>, client: QueryResult): Judgement {
  const c = client.call;
  // An ORIGINAL_DST cluster (resolution NONE) keeps each connection's destination: nothing is captured.
  const captured = c?.cluster !== undefined && [claim.cluster, ...(claim.alternatives ?? [])].includes(c.cluster);
  const effect = captured && c?.clusterInfo?.type !== 'ORIGINAL_DST';
  return {
    effect,
    evidence: `a TCP connection to ${FOREIGN_IP}:${claim.port} from a sidecar in ${claim.client.namespace}${claim.client.dnsCapture ? ' (DNS capture on)' : ''} takes ${describeCall(c)}`,
  };
}

function judgeNoCluster(claim: ClaimOf<'no-cluster'>, client: QueryResult): Judgement {
  const c = client.call;
  const missing = c?.cluster !== undefined && c.clusterInfo?.exists === false;
  const effect = missing || (c?.cluster !== undefined && LEAVES_MESH.has(c.cluster));
  const evidence = `${callText(claim.call)} from ${proxyText(claim.client)} takes ${describeCall(c)}${missing ? ` — cluster ${c?.cluster} is not in CDS (503 NC)` : ''}`;
  return { effect, evidence, ...(!c?.cluster ? { inconclusive: true } : {}) };
}

function judgePassthrough(claim: ClaimOf<'passthrough'>, client: QueryResult): Judgement {
  const c = client.call;
  const effect = !c?.cluster || LEAVES_MESH.has(c.cluster) || c.clusterInfo?.exists === false;
  return { effect, evidence: `${callText(claim.call)} from ${proxyText(claim.client)} takes ${describeCall(c)}` };
}

type RouteAction = NonNullable<CallResult['routeAction']>;

/** Whether the route action carries the claimed timeouts (an unclaimed one matches anything). */
function timeoutsMatch(claim: ClaimOf<'route-timeout'>, ra: RouteAction | undefined): boolean {
  const timeoutOk = claim.timeoutMs === undefined || ra?.timeoutMs === claim.timeoutMs;
  const perTryOk = claim.perTryTimeoutMs === undefined || ra?.perTryTimeoutMs === claim.perTryTimeoutMs;
  return timeoutOk && perTryOk && ra !== undefined;
}

function describeRouteAction(ra: RouteAction | undefined): string {
  return ra
    ? `timeout ${ra.timeoutMs ?? 'unset (15s)'} ms, per-try ${ra.perTryTimeoutMs ?? 'unset'} ms, ${ra.retries ?? 0} retries`
    : 'no route action';
}

function judgeRouteTimeout(claim: ClaimOf<'route-timeout'>, client: QueryResult): Judgement {
  const ra = client.call?.routeAction;
  const evidence = `${callText(claim.call)} from ${proxyText(claim.client)} takes ${describeCall(client.call)}; ${describeRouteAction(ra)}`;
  return {
    effect: timeoutsMatch(claim, ra),
    evidence,
    ...(!client.call?.route && !client.call?.virtualHost ? { inconclusive: true } : {}),
  };
}

function judgeServerMissing(claim: ClaimOf<'gateway-server-missing'>, client: QueryResult): Judgement {
  const c = client.call;
  return {
    effect: c?.routeConfig !== claim.routeConfig,
    evidence: `${callText(claim.call)} at ${proxyText(claim.client)} takes ${describeCall(c)} (route config ${c?.routeConfig ?? 'none'}); the dropped server's would be ${claim.routeConfig}`,
  };
}

/** Istio's traffic simulation's errors for a request that no route takes (pilot/pkg/simulation traffic.go). */
const NOT_ROUTED = ['no listener matched', 'no filter chains matched', 'no virtual host matched', 'no route matched'];

function judgeNoRoute(claim: Extract<EnvoyClaim, { kind: 'gateway-no-route' }>, client: QueryResult): Judgement {
  const c = client.call;
  const effect =
    (c?.error !== undefined && NOT_ROUTED.includes(c.error)) || c?.routeAction?.directResponseStatus === 404;
  return { effect, evidence: `${callText(claim.call)} at ${proxyText(claim.client)} takes ${describeCall(c)}` };
}

function judgeServerRejects(
  claim: Extract<EnvoyClaim, { kind: 'server-rejects' }>,
  client: QueryResult,
  results: ReadonlyMap<string, QueryResult>,
  prefix: string,
): Judgement {
  const info = client.clusters?.[claim.cluster];
  if (!info?.exists) return { effect: false, evidence: `the client has no cluster ${claim.cluster}` };
  const sent = transportToMeshEndpoint(info);
  const tls = !sent || sent.kind === 'plaintext' ? 'plaintext' : sent.kind === 'istio-mtls' ? 'mtls' : 'tls';
  const inbound = results.get(`${prefix}/inbound-${tls}`)?.call;
  const rejected = inbound?.error !== undefined;
  // Plaintext or non-Istio TLS to a STRICT server, or Istio mTLS to a DISABLE HTTP port: refused either way.
  return {
    effect: rejected,
    evidence: `cluster ${claim.cluster} sends ${describeTransport(sent)} to sidecar endpoints; the server's inbound listener on port ${claim.server.port} answers a ${tls} ${claim.server.protocol} call with ${describeCall(inbound)}`,
  };
}

/** The transport an endpoint without a sidecar receives: the cluster's own, or the match that needs no label. */
export function transportToPlainEndpoint(c: ClusterInfo): Transport | undefined {
  if (c.transport) return c.transport;
  return (c.transportMatches ?? []).find((m) => !m.match || Object.keys(m.match).length === 0)?.transport;
}

function judgePlainEndpoint(cluster: string, info: ClusterInfo | undefined): Judgement {
  if (!info?.exists) return { effect: false, evidence: `the client has no cluster ${cluster}` };
  const t = transportToPlainEndpoint(info);
  return {
    effect: t?.kind === 'istio-mtls',
    evidence: `cluster ${cluster} sends ${t ? describeTransport(t) : 'plaintext (raw_buffer)'} to endpoints without a sidecar`,
  };
}

function judgeSni(cluster: string, want: string, info: ClusterInfo | undefined): Judgement {
  if (!info?.exists) return { effect: true, evidence: `the proxy has no cluster ${cluster} (503 NC)` };
  const t = info.transport ?? transportToMeshEndpoint(info);
  const base = `cluster ${cluster} (${info.type ?? '?'}) sends ${describeTransport(t)}`;
  if (!t || t.kind === 'plaintext') return { effect: true, evidence: `${base}: plaintext to a TLS port` };
  if (t.kind === 'istio-mtls') return { effect: true, evidence: `${base}: Istio mTLS to an external server` };
  if (t.sni && t.sni !== want) return { effect: true, evidence: `${base}: the server expects ${want}` };
  if (!t.sni && info.autoSni)
    return { effect: true, evidence: `${base}, auto_sni on: the SNI is the request's Host, not ${want}` };
  if (!t.sni) return { effect: true, evidence: `${base}: no SNI at all` };
  return {
    effect: false,
    evidence: `${base}${info.autoSni ? ' (auto_sni on, the static sni wins for this cluster)' : ''}`,
  };
}

function judgeOutlier(claim: Extract<EnvoyClaim, { kind: 'outlier' }>, info: ClusterInfo | undefined): Judgement {
  if (!info?.exists) return { effect: false, evidence: `the proxy has no cluster ${claim.cluster}` };
  const od = info.outlier;
  const shown = od
    ? `outlier_detection consecutive_5xx ${od.consecutive5xx ?? 'unset (Envoy default 5)'}, consecutive_gateway_failure ${od.consecutiveGatewayFailure ?? 'unset'}, max_ejection_percent ${od.maxEjectionPercent ?? 'unset (10)'}`
    : 'no outlier_detection';
  if ('ejectsAll' in claim.expect) {
    const threshold = Math.min(od?.consecutive5xx ?? 5, od?.consecutiveGatewayFailure ?? Number.POSITIVE_INFINITY);
    return {
      effect: (od?.maxEjectionPercent ?? 10) >= 100 && threshold <= 1,
      evidence: `cluster ${claim.cluster}: ${shown}`,
    };
  }
  const given = od?.consecutive5xx === claim.expect.ignoredConsecutiveErrors;
  return {
    effect: !given,
    evidence: `cluster ${claim.cluster}: ${shown} (consecutiveErrors ${claim.expect.ignoredConsecutiveErrors} ${given ? 'reached Envoy' : 'did not reach Envoy'})`,
  };
}

function callText(c: ClaimCall): string {
  return `${(c.protocol ?? 'http').toUpperCase()} ${c.host ?? c.address ?? ''}:${c.port}${c.path && c.path !== '/' ? c.path : ''}`;
}

function proxyText(p: ClaimProxy): string {
  return p.type === 'router' ? `the gateway in ${p.namespace}` : `a sidecar in ${p.namespace}`;
}
