import { resolveHost } from './hosts.js';
import type { RouteDestination, VirtualService } from './types.js';

export type RouteKind = 'http' | 'tcp' | 'tls';

export interface RouteDestinationRef {
  kind: RouteKind;
  routeIndex: number;
  destination: RouteDestination['destination'];
  /** The destination host resolved in the VirtualService's namespace. */
  host: string;
}

/** Every route destination of a VirtualService, with its host resolved. */
export function routeDestinations(vs: VirtualService, domain: string): RouteDestinationRef[] {
  const out: RouteDestinationRef[] = [];
  const ns = vs.metadata.namespace;
  for (const kind of ['http', 'tcp', 'tls'] as const) {
    (vs.spec?.[kind] ?? []).forEach((route, routeIndex) => {
      for (const rd of route.route ?? []) {
        out.push({ kind, routeIndex, destination: rd.destination, host: resolveHost(rd.destination.host, ns, domain) });
      }
    });
  }
  return out;
}
