/** Typed access-log records (Envoy/Istio). Pure types: no I/O. */

/**
 * The line formats meshmedic reads:
 * - `istio-text`: Istio's default text format since 1.9 (RESPONSE_CODE_DETAILS, CONNECTION_TERMINATION_DETAILS,
 *   "UPSTREAM_TRANSPORT_FAILURE_REASON", ... REQUESTED_SERVER_NAME ROUTE_NAME), seed 003's format string;
 * - `istio-text-mixer`: Istio 1.1–1.8, a quoted mixer status (and from 1.4 a quoted transport failure reason)
 *   after the flags, with or without ROUTE_NAME (seed 002's 2022 lines);
 * - `envoy-text`: Envoy's own default format as Istio 1.0 logged it, ending at "UPSTREAM_HOST" (seed 001's
 *   2018 line), optionally followed by Istio's cluster/address fields;
 * - `json`: Istio's JSON encoding (meshConfig.accessLogEncoding: JSON), one object per line or pretty-printed.
 */
export type LogFormat = 'istio-text' | 'istio-text-mixer' | 'envoy-text' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['istio-text', 'istio-text-mixer', 'envoy-text', 'json'];

export type ClusterKind = 'outbound' | 'inbound' | 'passthrough' | 'inbound-passthrough' | 'blackhole' | 'other';

/** An Envoy upstream cluster name as Istio builds it, split into its parts. */
export interface UpstreamCluster {
  /** The name as logged, e.g. `outbound|443||dev.bar.org`. */
  name: string;
  kind: ClusterKind;
  /** For `outbound|port|subset|host` and `inbound|port|portName|host`. */
  direction?: 'inbound' | 'outbound';
  port?: number;
  /** Outbound only; '' when no subset. */
  subset?: string;
  /** Inbound only: the port name in Istio < 1.10 (`inbound|80|http|host`); '' in current `inbound|8080||`. */
  portName?: string;
  /** The service host; '' in current Istio's inbound clusters. */
  host?: string;
  /** InboundPassthroughClusterIpv4 / Ipv6. */
  ipFamily?: 'IPv4' | 'IPv6';
}

/** One access-log record. Fields Envoy logged as `-` (or JSON null) are absent. */
export interface AccessLogEntry {
  format: LogFormat;
  /** START_TIME as logged. */
  startTime?: string;
  /** START_TIME in epoch milliseconds, when it parses. */
  timeMs?: number;
  method?: string;
  path?: string;
  protocol?: string;
  /** 0 when Envoy sent no response (TCP, or the downstream went away first). */
  responseCode: number;
  /** e.g. ['UF', 'URX']; empty for `-`. */
  responseFlags: string[];
  responseCodeDetails?: string;
  connectionTerminationDetails?: string;
  upstreamTransportFailureReason?: string;
  bytesReceived?: number;
  bytesSent?: number;
  durationMs?: number;
  upstreamServiceTimeMs?: number;
  xForwardedFor?: string;
  userAgent?: string;
  requestId?: string;
  authority?: string;
  /** ip:port of the upstream endpoint. */
  upstreamHost?: string;
  upstreamCluster?: UpstreamCluster;
  upstreamLocalAddress?: string;
  downstreamLocalAddress?: string;
  downstreamRemoteAddress?: string;
  requestedServerName?: string;
  routeName?: string;
}

export type ParseResult = { ok: true; entry: AccessLogEntry } | { ok: false; reason: string };
