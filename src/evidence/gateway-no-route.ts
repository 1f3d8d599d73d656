import { ACCESS_LOG_WORDS } from '../catalogue/access-log.js';
import { fill } from '../catalogue/message-type.js';
import { resolveGatewayName } from '../model/gateway-names.js';
import { selectorOverlap, serverAccepts, serverHosts } from '../model/gateway-servers.js';
import { hostsMatch, resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { Gateway, GatewayServer, Service, VirtualService } from '../model/types.js';
import type { LogGroup } from './aggregate.js';
import { portOfAddress } from './hosts.js';

/**
 * 404 NR at a gateway: when the listener port the request came in on (DOWNSTREAM_LOCAL_ADDRESS) is one a
 * Gateway of the manifests has a server on, which of its servers accept the request's host, and which
 * VirtualServices bound to them list it (as MM205 reads servers, src/model/gateway-servers.ts). Words for
 * the diagnosis, not a finding: the VirtualService MM205 blames, when there is one, is a static finding.
 * Pure: no I/O.
 */
export interface GatewayNoRoute {
  words: string;
  /** The rule to suspect. */
  suspect?: string;
}

interface OnPort {
  gw: Gateway;
  server: GatewayServer;
}

/**
 * The ports a gateway pod listens on for a server: its number, or the targetPort a Service of the gateway's
 * pods maps it to (Istio translates a server port to the gateway Service's targetPort, as
 * src/model/gateway-servers.ts droppedServers notes).
 */
function listenPorts(gw: Gateway, number: number, services: readonly Service[], index: MeshIndex): number[] {
  const pods = index.ofKind('Pod');
  const out = [number];
  for (const svc of services) {
    const sel = svc.spec?.selector;
    if (!sel || Object.keys(sel).length === 0 || selectorOverlap(sel, gw.spec?.selector, pods) === 'none') continue;
    const p = (svc.spec?.ports ?? []).find((x) => x.port === number);
    if (typeof p?.targetPort === 'number') out.push(p.targetPort);
  }
  return out;
}

function serversOnPort(port: number, index: MeshIndex): OnPort[] {
  const services = index.ofKind<Service>('Service');
  return index.ofKind<Gateway>('Gateway').flatMap((gw) =>
    (gw.spec?.servers ?? []).flatMap((server) => {
      const n = server.port?.number;
      return n !== undefined && listenPorts(gw, n, services, index).includes(port) ? [{ gw, server }] : [];
    }),
  );
}

function boundTo(vs: VirtualService, gw: Gateway): boolean {
  const ns = vs.metadata.namespace ?? '';
  return (vs.spec?.gateways ?? []).some((g) => {
    const r = resolveGatewayName(g, ns);
    return r.kind === 'gateway' && r.namespace === gw.metadata.namespace && r.name === gw.metadata.name;
  });
}

function listsHost(vs: VirtualService, host: string, index: MeshIndex): boolean {
  const ns = vs.metadata.namespace ?? '';
  return (vs.spec?.hosts ?? []).some((h) => hostsMatch(h, host) || hostsMatch(resolveHost(h, ns, index.domain), host));
}

const names = (objects: readonly (Gateway | VirtualService)[]): string =>
  [...new Set(objects.map((o) => describeRef(refOf(o))))].join(', ');

function acceptedHosts(on: readonly OnPort[]): string {
  const hosts = on.flatMap(({ gw, server }) =>
    serverHosts(server, gw.metadata.namespace ?? '').map((h) =>
      h.namespace === '*' ? h.host : `${h.namespace}/${h.host}`,
    ),
  );
  return [...new Set(hosts)].join(', ') || 'nothing';
}

/** What the manifests say of a 404 NR for `host`, when its listener port is a Gateway server's; undefined otherwise. */
export function gatewayNoRoute(g: LogGroup, host: string, index: MeshIndex): GatewayNoRoute | undefined {
  const port = portOfAddress(g.downstreamLocalAddresses[0]);
  if (port === undefined || host === '' || g.cluster !== undefined) return undefined;
  const on = serversOnPort(port, index);
  if (on.length === 0) return undefined;
  const gateways = [...new Set(on.map((o) => o.gw))];
  const vss = index.ofKind<VirtualService>('VirtualService').filter((vs) => listsHost(vs, host, index));
  const accepting = on.filter(({ gw, server }) =>
    vss.some(
      (vs) =>
        boundTo(vs, gw) && serverAccepts(server, gw.metadata.namespace ?? '', vs.metadata.namespace ?? '', [host]),
    ),
  );
  const base = { host, port, gateways: names(gateways) };
  if (accepting.length > 0)
    return {
      words: fill(ACCESS_LOG_WORDS.gatewayRoutesMiss, {
        ...base,
        vss: names(vss.filter((vs) => accepting.some((a) => boundTo(vs, a.gw)))),
      }),
    };
  const byServer = on.filter(({ gw, server }) =>
    serverHosts(server, gw.metadata.namespace ?? '').some((sh) => hostsMatch(sh.host, host)),
  );
  if (byServer.length > 0)
    return {
      suspect: 'MM205',
      words: fill(ACCESS_LOG_WORDS.gatewayServerNoVirtualService, {
        ...base,
        accepting: names(byServer.map((o) => o.gw)),
        vss:
          vss.length > 0
            ? ` (${names(vss)} lists it, but is not bound to it or is of a namespace the server does not admit)`
            : '',
      }),
    };
  const bound = vss.filter((vs) => gateways.some((gw) => boundTo(vs, gw)));
  return {
    suspect: 'MM205',
    words: fill(ACCESS_LOG_WORDS.gatewayNoServerAccepts, {
      ...base,
      serverHosts: acceptedHosts(on),
      vss:
        bound.length > 0
          ? `; ${names(bound)} lists it and is bound to ${gateways.length > 1 ? 'them' : 'it'} (MM205)`
          : '',
    }),
  };
}
