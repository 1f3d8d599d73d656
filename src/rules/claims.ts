/**
 * What a finding claims Envoy receives, as data that Istio's own config generator can check
 * (`meshmedic verify`). A rule states its claim; src/verify turns it into simulated calls and reads
 * the generated listeners, clusters and routes. No I/O here.
 */

/** The Envoy that the claim is about: a sidecar in a namespace, or a gateway (router) pod. */
export interface ClaimProxy {
  type: 'sidecar' | 'router';
  namespace: string;
  labels?: Record<string, string>;
}

/** A request or connection as the simulation sends it. */
export interface ClaimCall {
  port: number;
  host?: string;
  address?: string;
  path?: string;
  protocol?: 'http' | 'http2' | 'tcp';
  /** A TLS connection (HTTPS or TLS port) with this SNI. */
  tls?: { sni: string };
}

/** The server side of a call: the pods a Service selects, on their target port. */
export interface ClaimServer {
  namespace: string;
  labels: Record<string, string>;
  port: number;
  protocol: 'http' | 'tcp';
}

export type EnvoyClaim =
  /** MM101: the client's cluster sends something other than Istio mTLS and the server's inbound listener refuses it. */
  | { kind: 'server-rejects'; client: ClaimProxy; cluster: string; server: ClaimServer }
  /** MM101: the cluster sends Istio mTLS also to endpoints without a sidecar (no tlsMode label), not plaintext as auto mTLS does. */
  | { kind: 'plain-endpoint-mtls'; client: ClaimProxy; cluster: string }
  /** MM102: the cluster does not originate TLS with sni = wantSni (plaintext, Istio mTLS, another sni, or auto_sni). */
  | { kind: 'upstream-tls-sni'; client: ClaimProxy; cluster: string; wantSni: string }
  /**
   * MM103: a TCP connection to an unrelated IP on this port lands in the entry's cluster, or in one of
   * the `alternatives` (other entries without addresses on that port: one of them keeps the listener).
   */
  | { kind: 'catch-all'; client: ProxyWithDns; port: number; cluster: string; alternatives?: string[] }
  /** MM104 (static), MM201, MM202: the route's cluster does not exist or the call leaves through PassthroughCluster. */
  | { kind: 'no-cluster'; client: ClaimProxy; call: ClaimCall; cluster: string }
  /** MM108: the call to a declared host leaves through PassthroughCluster (or is blackholed) from this namespace. */
  | { kind: 'passthrough'; client: ProxyWithDns; call: ClaimCall; cluster: string }
  /** MM105: the route the call takes has this timeout (or per-try timeout). */
  | { kind: 'route-timeout'; client: ClaimProxy; call: ClaimCall; timeoutMs?: number; perTryTimeoutMs?: number }
  /** MM107: the cluster's outlier detection, as Envoy receives it. */
  | { kind: 'outlier'; client: ClaimProxy; cluster: string; expect: OutlierExpectation }
  /** MM205: a request for the host at the gateway finds no listener, filter chain, virtual host or route (404 NR). */
  | { kind: 'gateway-no-route'; client: ClaimProxy; call: ClaimCall }
  /** MM206: the request for a dropped server's host at the gateway does not use that server's route config (it was never built). */
  | { kind: 'gateway-server-missing'; client: ClaimProxy; call: ClaimCall; routeConfig: string };

export interface ProxyWithDns extends ClaimProxy {
  dnsCapture?: boolean;
}

export type OutlierExpectation =
  /** max_ejection_percent 100 with consecutive errors <= 1: every endpoint can be ejected. */
  | { ejectsAll: true }
  /** consecutiveErrors is not given to Envoy: consecutive_5xx keeps Envoy's default. */
  | { ignoredConsecutiveErrors: number };

/** Why a finding has no claim the simulation can check. */
export interface InexpressibleClaim {
  kind: 'inexpressible';
  reason: string;
  /** The Envoy cluster the fix is meant to change (verify does not count its change as a break). */
  cluster?: string;
}

export type FindingClaim = EnvoyClaim | InexpressibleClaim;

/** Envoy's cluster name for an outbound host, port and optional subset. */
export function outboundCluster(host: string, port: number, subset?: string): string {
  return `outbound|${port}|${subset ?? ''}|${host}`;
}
