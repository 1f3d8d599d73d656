/**
 * The oracle's JSON contract (oracle/protocol.go is the other side): cases of manifests plus queries in,
 * what Istio's generator gave each proxy out.
 */

export interface OracleProxy {
  type: 'sidecar' | 'router';
  namespace: string;
  labels?: Record<string, string>;
  ip?: string;
  /** Also create a running Pod with these labels and IP (the server side of a call). */
  pod?: boolean;
  dnsCapture?: boolean;
  dnsAutoAllocate?: boolean;
  istioVersion?: string;
}

export interface OracleCall {
  address?: string;
  port: number;
  protocol?: 'http' | 'http2' | 'tcp';
  tls?: 'plaintext' | 'tls' | 'mtls';
  host?: string;
  path?: string;
  sni?: string;
  mode?: 'outbound' | 'inbound' | 'gateway';
}

export interface OracleQuery {
  id: string;
  proxy: OracleProxy;
  call?: OracleCall;
  clusters?: string[];
  listenerPort?: number;
}

export interface OracleCase {
  id: string;
  yaml: string;
  meshConfig?: string;
  queries: OracleQuery[];
}

export interface OracleRequest {
  cases: OracleCase[];
}

export interface Transport {
  kind: 'plaintext' | 'istio-mtls' | 'tls' | (string & {});
  sni?: string;
  sans?: string[];
  credential?: string;
}

export interface ClusterInfo {
  exists: boolean;
  type?: string;
  transport?: Transport;
  transportMatches?: { name: string; match?: Record<string, string>; transport: Transport }[];
  autoSni?: boolean;
  outlier?: {
    consecutive5xx?: number;
    consecutiveGatewayFailure?: number;
    enforcingConsecutive5xx?: number;
    enforcingConsecutiveGatewayFailure?: number;
    maxEjectionPercent?: number;
    intervalMs?: number;
    baseEjectionTimeMs?: number;
  };
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export interface CallResult {
  error?: string;
  listener?: string;
  filterChain?: string;
  routeConfig?: string;
  virtualHost?: string;
  route?: string;
  cluster?: string;
  routeAction?: {
    timeoutMs?: number;
    retries?: number;
    perTryTimeoutMs?: number;
    retryOn?: string;
    directResponseStatus?: number;
  };
  clusterInfo?: ClusterInfo;
}

export interface ListenerInfo {
  name: string;
  address: string;
  filterChains: {
    name?: string;
    serverNames?: string[];
    destinationCidrs?: string[];
    cluster?: string;
    http?: boolean;
  }[];
}

export interface QueryResult {
  id: string;
  error?: string;
  call?: CallResult;
  clusters?: Record<string, ClusterInfo>;
  listeners?: ListenerInfo[];
}

export interface ObjectNote {
  kind: string;
  namespace?: string;
  name: string;
  message: string;
}

export interface CaseResult {
  id: string;
  error?: string;
  rejected?: ObjectNote[];
  warnings?: ObjectNote[];
  ignored?: ObjectNote[];
  autoAllocated?: { namespace: string; name: string; host: string; address: string }[];
  queries: QueryResult[];
}

export interface OracleResponse {
  istio: string;
  cases: CaseResult[];
}

/** The transport an endpoint with a sidecar (label security.istio.io/tlsMode: istio) receives. */
export function transportToMeshEndpoint(c: ClusterInfo): Transport | undefined {
  if (c.transport) return c.transport;
  const matches = c.transportMatches ?? [];
  const istio = matches.find((m) => m.match?.['tlsMode'] === 'istio');
  return (istio ?? matches.find((m) => !m.match || Object.keys(m.match).length === 0))?.transport;
}
