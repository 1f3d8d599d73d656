/**
 * How Istio reads a Gateway's servers: which VirtualService hosts a server accepts (pilot/pkg/model
 * gateway.go sanitizeServerHostNamespace, pkg/config/host NamesForNamespace, names.go Intersection), the
 * order in which Gateways are merged for one workload (push_context.go sortConfigByCreationTime) and
 * which label selectors pick the same gateway pods.
 */
import { hostsMatch } from './hosts.js';
import type { Gateway, GatewayServer, KubeObject } from './types.js';

/** A server host as Istio keeps it: the namespaces whose VirtualServices it binds (`*`: any) and the host. */
export interface ServerHost {
  namespace: string;
  host: string;
}

/**
 * `./h` is the Gateway's namespace, `*\/h` and a bare `h` any namespace, `*\/*` any host of any namespace
 * (sanitizeServerHostNamespace, then NamesForNamespace, which treats an unqualified host as `*\/host`).
 */
export function serverHosts(server: GatewayServer, gatewayNamespace: string): ServerHost[] {
  return (server.hosts ?? []).map((h) => {
    const slash = h.indexOf('/');
    if (slash < 0) return { namespace: '*', host: h };
    const ns = h.slice(0, slash);
    return { namespace: ns === '.' ? gatewayNamespace : ns, host: h.slice(slash + 1) };
  });
}

/** Whether the server gives a VirtualService of `vsNamespace` a virtual host for one of `hosts`. */
export function serverAccepts(
  server: GatewayServer,
  gatewayNamespace: string,
  vsNamespace: string,
  hosts: string[],
): boolean {
  if (server.port?.number === undefined) return false; // dropped by mergeGateways ("invalid server without port")
  return serverHosts(server, gatewayNamespace).some(
    (sh) => (sh.namespace === '*' || sh.namespace === vsNamespace) && hosts.some((h) => hostsMatch(sh.host, h)),
  );
}

/** Whether any server of the Gateway accepts one of `hosts` for a VirtualService of `vsNamespace`. */
export function gatewayAccepts(gw: Gateway, vsNamespace: string, hosts: string[]): boolean {
  return (gw.spec?.servers ?? []).some((s) => serverAccepts(s, gw.metadata.namespace ?? '', vsNamespace, hosts));
}

/** A concrete host to send for a (possibly wildcard) name: `*.x.com` becomes `meshmedic-probe.x.com`. */
export function probeHost(host: string): string {
  if (host === '*') return 'meshmedic-probe.example.com';
  return host.startsWith('*') ? `meshmedic-probe${host.slice(1)}` : host;
}

/**
 * Istio merges the Gateways of one workload oldest first: creationTimestamp, then name, then namespace.
 * Returns a negative number when `a` comes first; `undefined` when the input does not say (a timestamp is
 * missing, as in most manifests: in the cluster the real creation order decides).
 */
export function mergeOrder(a: KubeObject, b: KubeObject): number | undefined {
  const ta = a.metadata.creationTimestamp;
  const tb = b.metadata.creationTimestamp;
  if (ta === undefined || tb === undefined) return undefined;
  const da = Date.parse(ta);
  const db = Date.parse(tb);
  if (Number.isNaN(da) || Number.isNaN(db)) return undefined;
  if (da !== db) return da - db;
  // strings.Compare (pilot/pkg/model/config.go configCompareByCreationTime): byte order, not locale order
  return (
    byteCompare(a.metadata.name, b.metadata.name) || byteCompare(a.metadata.namespace ?? '', b.metadata.namespace ?? '')
  );
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type SelectorOverlap = 'same' | 'nested' | 'none';

/**
 * Whether two Gateway selectors pick the same gateway pods: `same` when they are equal or a pod of the
 * input carries both; `nested` when one is a subset of the other (pods that match the larger match both),
 * but no pod of the input shows it; `none` otherwise (disjoint or contradicting labels).
 */
export function selectorOverlap(
  a: Record<string, string> | undefined,
  b: Record<string, string> | undefined,
  pods: readonly KubeObject[],
): SelectorOverlap {
  const sa = a ?? {};
  const sb = b ?? {};
  if (Object.entries(sa).some(([k, v]) => k in sb && sb[k] !== v)) return 'none';
  const aInB = Object.entries(sa).every(([k, v]) => sb[k] === v);
  const bInA = Object.entries(sb).every(([k, v]) => sa[k] === v);
  if (aInB && bInA) return 'same';
  const both = { ...sa, ...sb };
  if (pods.some((p) => Object.entries(both).every(([k, v]) => p.metadata.labels?.[k] === v))) return 'same';
  return aInB || bInA ? 'nested' : 'none';
}

const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'HTTP_PROXY']);

export function isHttpProtocol(protocol: string | undefined): boolean {
  return HTTP_PROTOCOLS.has((protocol ?? '').toUpperCase());
}

export function serverBind(server: GatewayServer): string {
  const bind = (server as { bind?: unknown }).bind;
  return typeof bind === 'string' ? bind : '';
}

/** A non-HTTP server with TLS settings (pkg/config/gateway IsTLSServer): HTTPS, TLS. */
export function isTlsServer(server: GatewayServer): boolean {
  return server.tls !== undefined && !isHttpProtocol(server.port?.protocol);
}

/** A server, named for messages: `port 80 (HTTP, hosts foo.com)`. */
export function describeServer(server: GatewayServer): string {
  return `port ${server.port?.number ?? '?'} (${server.port?.protocol ?? '?'}, hosts ${(server.hosts ?? []).join(', ')})`;
}

export interface DroppedServer {
  server: GatewayServer;
  gateway: Gateway;
  /** The kept server it collides with, and its Gateway. */
  by: GatewayServer;
  byGateway: Gateway;
}

/**
 * The servers Istio's mergeGateways (pilot/pkg/model/gateway.go) drops when it merges these Gateways, in
 * this order, for one workload. Only the cases whose outcome the source makes certain are modelled: a
 * later server on a port whose first server is plaintext, unless both are HTTP ("conflict with existing
 * server" / "could not build RDS name"), and a later TLS server that repeats a host string of an earlier
 * TLS server on the same port and bind ("duplicate host names"). Ports are compared as declared (Istio
 * translates them to the Service's targetPort first; declared numbers that map to one target port are not
 * seen).
 */
export function droppedServers(gateways: readonly Gateway[]): DroppedServer[] {
  const dropped: DroppedServer[] = [];
  const plainFirst = new Map<string, { server: GatewayServer; gateway: Gateway }>();
  const seenPort = new Set<number>();
  const tlsHosts = new Map<string, { server: GatewayServer; gateway: Gateway }>();
  for (const gateway of gateways) {
    for (const server of gateway.spec?.servers ?? []) {
      const port = server.port?.number;
      if (port === undefined) continue;
      const bind = serverBind(server);
      if (server.tls !== undefined) {
        const dup = (server.hosts ?? []).map((h) => tlsHosts.get(`${port}|${bind}|${h}`)).find((x) => x !== undefined);
        if (dup) {
          dropped.push({ server, gateway, by: dup.server, byGateway: dup.gateway });
          continue;
        }
        for (const h of server.hosts ?? []) tlsHosts.set(`${port}|${bind}|${h}`, { server, gateway });
      }
      if (seenPort.has(port)) {
        const current = plainFirst.get(`${port}|${bind}`);
        if (current && !(isHttpProtocol(server.port?.protocol) && isHttpProtocol(current.server.port?.protocol))) {
          dropped.push({ server, gateway, by: current.server, byGateway: current.gateway });
        }
        continue;
      }
      seenPort.add(port);
      if (!isTlsServer(server)) plainFirst.set(`${port}|${bind}`, { server, gateway });
    }
  }
  return dropped;
}
