import { resolveGatewayName } from '../model/gateway-names.js';
import { hostCovers, isWildcard, resolveHost } from '../model/hosts.js';
import type { VirtualService } from '../model/types.js';
import type { ClaimCall, ClaimProxy } from './claims.js';
import type { RuleContext } from './types.js';

/** A call that takes one route of a VirtualService, from the proxy that runs it. */
export interface RouteCall {
  client: ClaimProxy;
  call: ClaimCall;
}

/** The proxy running this route: the first Gateway it is bound to (its namespace and selector), else a sidecar. */
export function routeProxy(vs: VirtualService, ctx: RuleContext): ClaimProxy {
  const vsNs = vs.metadata.namespace ?? 'default';
  const gateways = vs.spec?.gateways ?? [];
  if (gateways.length === 0 || gateways.includes('mesh')) return { type: 'sidecar', namespace: vsNs };
  for (const g of gateways) {
    const r = resolveGatewayName(g, vsNs);
    const gw = r.kind === 'gateway' ? ctx.index.gateway(r.namespace, r.name) : undefined;
    if (gw && r.kind === 'gateway') return { type: 'router', namespace: r.namespace, labels: gw.spec?.selector ?? {} };
  }
  return { type: 'sidecar', namespace: vsNs };
}

/** The first path an http route's match accepts (exact or prefix), "/" when it matches everything. */
function pathOf(route: unknown): string | undefined {
  const match = (route as { match?: { uri?: { exact?: string; prefix?: string; regex?: string } }[] }).match;
  if (!match || match.length === 0) return '/';
  const uri = match[0]?.uri;
  if (!uri) return '/';
  if (uri.exact !== undefined) return uri.exact;
  if (uri.prefix !== undefined) return uri.prefix;
  return undefined; // a regex: no path can be picked without guessing
}

/**
 * A call that the simulation sends so that it takes http[routeIndex] of the VirtualService, or
 * undefined when no such call can be made without guessing (a wildcard host, a regex path, a
 * gateway without a plain HTTP server for the host, a route after others that match first).
 */
export function httpRouteCall(vs: VirtualService, routeIndex: number, ctx: RuleContext): RouteCall | undefined {
  const routes = vs.spec?.http ?? [];
  const route = routes[routeIndex];
  if (!route || shadowedByCatchAll(routes, routeIndex)) return undefined;
  const path = pathOf(route);
  if (path === undefined) return undefined;
  const host = firstConcreteHost(vs, ctx);
  if (!host) return undefined;
  const client = routeProxy(vs, ctx);
  if (client.type === 'router') {
    const port = gatewayHttpPort(vs, host, ctx);
    return port === undefined ? undefined : { client, call: { host, port, path, protocol: 'http' } };
  }
  return { client, call: { host, port: sidecarPort(host, route, ctx), path, protocol: 'http' } };
}

/** Earlier routes that match every request would take the call first. */
function shadowedByCatchAll(routes: readonly unknown[], routeIndex: number): boolean {
  return routes.slice(0, routeIndex).some((r) => pathOf(r) === '/' && !(r as { match?: unknown[] }).match?.length);
}

/** The first host of the VirtualService that is not a wildcard (a call needs a concrete Host). */
function firstConcreteHost(vs: VirtualService, ctx: RuleContext): string | undefined {
  const vsNs = vs.metadata.namespace ?? 'default';
  return (vs.spec?.hosts ?? []).map((h) => resolveHost(h, vsNs, ctx.index.domain)).find((h) => !isWildcard(h));
}

type HttpRoute = NonNullable<NonNullable<VirtualService['spec']>['http']>[number];

/** The port a sidecar call goes to: the host's first declared port, else the route's destination port, else 80. */
function sidecarPort(host: string, route: HttpRoute, ctx: RuleContext): number {
  const svcPort =
    ctx.index.serviceForHost(host)?.spec?.ports?.[0]?.port ??
    ctx.index.entriesForHost(host)[0]?.spec?.ports?.[0]?.number;
  const destPort = route.route?.[0]?.destination.port?.number;
  return svcPort ?? destPort ?? 80;
}

/** The port of a plain HTTP server of the route's Gateway that accepts the host. */
function gatewayHttpPort(vs: VirtualService, host: string, ctx: RuleContext): number | undefined {
  const vsNs = vs.metadata.namespace ?? 'default';
  for (const g of vs.spec?.gateways ?? []) {
    const r = resolveGatewayName(g, vsNs);
    if (r.kind !== 'gateway') continue;
    for (const server of ctx.index.gateway(r.namespace, r.name)?.spec?.servers ?? []) {
      const protocol = (server.port?.protocol ?? '').toUpperCase();
      if (protocol !== 'HTTP' || server.tls) continue;
      const accepts = (server.hosts ?? []).some((h) =>
        hostCovers(h.includes('/') ? h.slice(h.indexOf('/') + 1) : h, host),
      );
      if (accepts && server.port?.number) return server.port.number;
    }
  }
  return undefined;
}
