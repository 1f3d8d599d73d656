import { hostsMatch, isClusterLocal, isWildcard, serviceFqdn } from '../model/hosts.js';
import { objectKey } from '../model/kinds.js';
import { effectiveMtls, namespaceMtls, type EffectiveMtls } from '../model/peer-authentication.js';
import { isHttpPortName } from '../model/protocols.js';
import type { DestinationRule, Service } from '../model/types.js';
import type { TlsLevel } from './tls-levels.js';
import type { RuleContext } from './types.js';
import { ambientNamespace, ambientPods } from './mm101-injection.js';

const MAX_SERVICES_FOR_WILDCARD = 200;
/** A namespace no object of the input is in: stands for every client namespace without a DestinationRule. */
export const OTHER_NAMESPACE = 'meshmedic-any-client';
/** The name part of a host standing for "a Service no DestinationRule names exactly". */
const ANY_SERVICE = 'meshmedic-any-service';

/** One server a DestinationRule level reaches: a Service port of the input, or one assumed from the host. */
export interface Target {
  /** undefined: no Service of the input matches the host; the server is assumed. */
  svc: Service | undefined;
  /** The FQDN called (for an assumed server of a wildcard host, a name standing for any Service there). */
  host: string;
  /** The server's namespace; undefined: any namespace without a PeerAuthentication of its own. */
  namespace: string | undefined;
  port: number | undefined;
  /** Whether the port is declared HTTP (Istio rejects TLS there when DISABLE); undefined: unknown. */
  http: boolean | undefined;
  mtls: EffectiveMtls;
  /** A client namespace whose sidecars use this DestinationRule for the host. */
  client: string;
}

export function servicesFor(dr: DestinationRule, ctx: RuleContext): Service[] {
  const host = ctx.index.drHost(dr);
  if (!isWildcard(host)) {
    const s = ctx.index.serviceForHost(host);
    return s ? [s] : [];
  }
  const out: Service[] = [];
  for (const s of ctx.index.ofKind<Service>('Service')) {
    if (hostsMatch(host, serviceFqdn(s.metadata.name, s.metadata.namespace ?? '', ctx.index.domain))) out.push(s);
    if (out.length >= MAX_SERVICES_FOR_WILDCARD) break;
  }
  return out;
}

function portsOf(svc: Service, level: TlsLevel): (number | undefined)[] {
  const ports = (svc.spec?.ports ?? []).map((p) => p.port);
  if (level.port !== undefined) return ports.includes(level.port) ? [level.port] : [];
  const covered = ports.filter((p) => !level.excludedPorts.includes(p));
  return covered.length > 0 ? covered : ports.length === 0 ? [undefined] : [];
}

/**
 * A client namespace whose sidecars take this DestinationRule for `host` (Istio's lookup: the client's
 * namespace, then the service's, then the root namespace), or undefined when another rule always wins.
 */
export function clientUsing(
  dr: DestinationRule,
  host: string,
  serviceNamespace: string,
  ctx: RuleContext,
): string | undefined {
  const root = ctx.index.meshConfig.rootNamespace;
  const drNs = dr.metadata.namespace ?? 'default';
  const key = objectKey(dr);
  // Ambient clients have no sidecar: a DestinationRule's TLS applies at their waypoints only (MM4xx).
  const candidates = [...new Set([...(drNs !== root ? [drNs] : []), serviceNamespace, OTHER_NAMESPACE])].filter(
    (c) => !ambientNamespace(c, ctx),
  );
  return candidates.find((c) =>
    ctx.index.destinationRulesFor(host, c, serviceNamespace).some((d) => objectKey(d) === key),
  );
}

function serviceTargets(dr: DestinationRule, level: TlsLevel, services: Service[], ctx: RuleContext): Target[] {
  const out: Target[] = [];
  for (const svc of services) {
    const ns = svc.metadata.namespace ?? 'default';
    // An ambient server has no sidecar: ztunnel terminates HBONE mTLS whatever the client's cluster says.
    if (ambientNamespace(ns, ctx) || ambientPods(svc, ctx)) continue;
    const host = serviceFqdn(svc.metadata.name, ns, ctx.index.domain);
    const client = clientUsing(dr, host, ns, ctx);
    if (client === undefined) continue;
    for (const port of portsOf(svc, level)) {
      const sp = svc.spec?.ports?.find((p) => p.port === port);
      const http = sp ? isHttpPortName(sp.appProtocol ?? sp.name) : undefined;
      out.push({ svc, host, namespace: ns, port, http, mtls: effectiveMtls(ctx.index, svc, port), client });
    }
  }
  return out;
}

/** The namespaces a host can name: one for `x.ns.svc.domain` or `*.ns.svc.domain`, else every one the input knows. */
function namespacesOf(host: string, ctx: RuleContext): (string | undefined)[] {
  const suffix = `.svc.${ctx.index.domain}`;
  if (host.endsWith(suffix)) {
    const parts = host.slice(0, -suffix.length).split('.');
    if (parts.length === 2 && parts[1] !== '*') return [parts[1]];
  }
  const known = new Set<string>();
  for (const o of ctx.index.all()) if (o.object.metadata.namespace) known.add(o.object.metadata.namespace);
  for (const n of ctx.index.ofKind('Namespace')) known.add(n.metadata.name);
  return [...known, undefined];
}

/**
 * Servers assumed from the host alone (no Service of the input matches it): a Service in each namespace
 * the host names, under that namespace's (or the mesh-wide) PeerAuthentication.
 */
function assumedTargets(dr: DestinationRule, ctx: RuleContext): Target[] {
  const drHost = ctx.index.drHost(dr);
  if (!isClusterLocal(drHost, ctx.index.domain) && !hostsMatch(drHost, `x.svc.${ctx.index.domain}`)) return [];
  const out: Target[] = [];
  for (const ns of namespacesOf(drHost, ctx)) {
    if (ambientNamespace(ns, ctx)) continue;
    const serverNs = ns ?? OTHER_NAMESPACE;
    const host = isWildcard(drHost) ? serviceFqdn(ANY_SERVICE, serverNs, ctx.index.domain) : drHost;
    if (!hostsMatch(drHost, host)) continue;
    const client = clientUsing(dr, host, serverNs, ctx);
    if (client === undefined) continue;
    out.push({
      svc: undefined,
      host,
      namespace: ns,
      port: undefined,
      http: undefined,
      mtls: namespaceMtls(ctx.index, ns),
      client,
    });
  }
  return out;
}

/**
 * Every server a level of the DestinationRule reaches. With no matching Service in the input, servers
 * are assumed from the host (offline input only: in a complete snapshot no Service means no server).
 */
export function targetsOf(dr: DestinationRule, level: TlsLevel, ctx: RuleContext): Target[] {
  const services = servicesFor(dr, ctx);
  if (services.length > 0) return serviceTargets(dr, level, services, ctx);
  if (ctx.complete) return [];
  return assumedTargets(dr, ctx);
}

/** Where a target is, as a message says it. */
export function describeTarget(t: Target): string {
  if (t.svc) {
    const base = `${t.svc.metadata.name}.${t.svc.metadata.namespace ?? 'default'}`;
    return t.port !== undefined
      ? `${base}:${t.port}${t.http === true ? ' (HTTP)' : t.http === false ? ' (TCP)' : ''}`
      : base;
  }
  if (!t.host.startsWith(`${ANY_SERVICE}.`)) return `${t.host} (no Service in the input)`;
  return t.namespace !== undefined
    ? `the Services of namespace ${t.namespace}`
    : 'the Services of every namespace without a PeerAuthentication of its own';
}

/** The PeerAuthentication that decided a target's mode, as a message names it. */
export function policyName(t: Target): string {
  return t.mtls.source
    ? `PeerAuthentication ${t.mtls.source.metadata.namespace ?? ''}/${t.mtls.source.metadata.name}`
    : 'the mesh';
}
