import type { UpstreamCluster } from './types.js';

/**
 * Splits an Istio cluster name: `outbound|443||dev.bar.org` (direction|port|subset|host),
 * `inbound|80|http|srv-a.xyz.svc.cluster.local` (Istio < 1.10: direction|port|portName|host) or
 * `inbound|8080||` (current), and the special clusters PassthroughCluster, BlackHoleCluster,
 * InboundPassthroughCluster(Ipv4|Ipv6). Anything else is kept as `other`.
 */
export function parseClusterName(name: string): UpstreamCluster {
  switch (name) {
    case 'PassthroughCluster':
      return { name, kind: 'passthrough' };
    case 'BlackHoleCluster':
      return { name, kind: 'blackhole' };
    case 'InboundPassthroughCluster':
      return { name, kind: 'inbound-passthrough' };
    case 'InboundPassthroughClusterIpv4':
      return { name, kind: 'inbound-passthrough', ipFamily: 'IPv4' };
    case 'InboundPassthroughClusterIpv6':
      return { name, kind: 'inbound-passthrough', ipFamily: 'IPv6' };
  }
  const parts = name.split('|');
  if (parts.length === 4 && (parts[0] === 'outbound' || parts[0] === 'inbound') && /^\d+$/.test(parts[1] ?? '')) {
    const [direction, port, third, host] = parts as [string, string, string, string];
    const base = { name, port: Number(port), host };
    return direction === 'outbound'
      ? { ...base, kind: 'outbound', direction: 'outbound', subset: third }
      : { ...base, kind: 'inbound', direction: 'inbound', portName: third };
  }
  return { name, kind: 'other' };
}

/**
 * The service host in Istio's mTLS SNI (`outbound_.8000_._.httpbin.foo.svc.cluster.local`, what an inbound
 * listener sees as REQUESTED_SERVER_NAME), with its port and subset.
 */
export function parseIstioSni(sni: string): { port: number; subset: string; host: string } | undefined {
  const m = /^outbound_\.(\d+)_\.([^_]*)_\.(.+)$/.exec(sni);
  if (!m) return undefined;
  return { port: Number(m[1]), subset: m[2] ?? '', host: m[3] ?? '' };
}

/** `host:port` / `[v6]:port` / `host` -> host and port. */
export function splitHostPort(value: string): { host: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (v6) return v6[2] ? { host: v6[1] ?? '', port: Number(v6[2]) } : { host: v6[1] ?? '' };
  const colon = value.lastIndexOf(':');
  // A bare IPv6 address has several colons and no port.
  if (colon > 0 && value.indexOf(':') === colon && /^\d+$/.test(value.slice(colon + 1))) {
    return { host: value.slice(0, colon), port: Number(value.slice(colon + 1)) };
  }
  return { host: value };
}
