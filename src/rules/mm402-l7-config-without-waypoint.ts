import { MM402 } from '../catalogue/rules/mm402.js';
import { namespaceDataPlane, serviceDataPlane, sidecarNamespacesSeeing } from '../model/data-plane.js';
import { resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { DestinationRule, GatewayRoute, KubeObject, Service, VirtualService } from '../model/types.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const FIX =
  'no automatic fix: a waypoint is a new proxy (istioctl waypoint apply -n NS --enroll-namespace); bind the Service to one or remove the configuration';
const CLAIM = { kind: 'inexpressible', reason: 'the oracle simulates sidecars and gateways, not ztunnel' } as const;

/** The Services of the subject's hosts that run ambient with no waypoint. */
function ambientServicesWithoutWaypoint(
  hosts: readonly string[],
  namespace: string,
  ctx: RuleContext,
): { host: string; svc: Service }[] {
  const out: { host: string; svc: Service }[] = [];
  for (const h of hosts) {
    const host = resolveHost(h, namespace, ctx.index.domain);
    const svc = ctx.index.serviceForHost(host);
    if (!svc) continue;
    const plane = serviceDataPlane(svc, ctx.index);
    if (plane.mode === 'ambient' && !plane.waypoint && !out.some((o) => o.svc === svc)) out.push({ host, svc });
  }
  return out;
}

/** Only ambient clients see the subject: its own namespace is ambient, and no sidecar namespace of the input sees it. */
function onlyAmbientClients(o: KubeObject, ctx: RuleContext): boolean {
  const ns = o.metadata.namespace ?? 'default';
  return namespaceDataPlane(ns, ctx.index).mode === 'ambient' && sidecarNamespacesSeeing(o, ns, ctx.index).length === 0;
}

/** Whether some namespace of the input runs sidecars (a Service-attached route in the Service's namespace applies to every client). */
function sidecarsAnywhere(ctx: RuleContext): boolean {
  return ctx.index.ofKind('Namespace').some((n) => namespaceDataPlane(n.metadata.name, ctx.index).mode === 'sidecar');
}

/** A GAMMA route (parentRef a Service) for an ambient Service with no waypoint: only a waypoint (or a sidecar client) applies it. */
function gatewayApiRoute(route: GatewayRoute, ctx: RuleContext): Finding[] {
  if (sidecarsAnywhere(ctx)) return [];
  const ns = route.metadata.namespace ?? 'default';
  const out: Finding[] = [];
  for (const p of route.spec?.parentRefs ?? []) {
    if (p.kind !== 'Service' || (p.group ?? '') !== '') continue;
    const svc = ctx.index.get(`Service/${p.namespace ?? ns}/${p.name}`)?.object as Service | undefined;
    if (
      !svc ||
      out.some((f) => f.related.some((r) => r.name === svc.metadata.name && r.namespace === svc.metadata.namespace))
    )
      continue;
    const plane = serviceDataPlane(svc, ctx.index);
    if (plane.mode !== 'ambient' || plane.waypoint) continue;
    out.push(
      report(
        MM402.messages.GatewayApiRouteWithoutWaypoint,
        { route: describeRef(refOf(route)), service: describeRef(refOf(svc)), namespace: svc.metadata.namespace ?? '' },
        { resource: refOf(route), related: [refOf(svc)], fix: noFix(FIX), claim: CLAIM },
      ),
    );
  }
  return out;
}

/** L7 configuration (a mesh VirtualService, a DestinationRule) for an ambient Service that no waypoint serves: ztunnel applies none of it. */
export const mm402: Rule = {
  ...MM402,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    if (!onlyAmbientClients(subject, ctx)) return [];
    const ns = subject.metadata.namespace ?? 'default';
    if (subject.kind === 'VirtualService') {
      const vs = subject as VirtualService;
      const gateways = vs.spec?.gateways ?? [];
      if (gateways.length > 0 && !gateways.includes('mesh')) return [];
      return ambientServicesWithoutWaypoint(vs.spec?.hosts ?? [], ns, ctx).map(({ host, svc }) =>
        report(
          MM402.messages.RouteWithoutWaypoint,
          {
            vs: describeRef(refOf(vs)),
            host,
            namespace: svc.metadata.namespace ?? '',
            service: describeRef(refOf(svc)),
          },
          { resource: refOf(vs), related: [refOf(svc)], fix: noFix(FIX), claim: CLAIM },
        ),
      );
    }
    if (subject.kind !== 'DestinationRule') return gatewayApiRoute(subject as GatewayRoute, ctx);
    const dr = subject as DestinationRule;
    if (dr.spec?.workloadSelector) return [];
    const host = dr.spec?.host;
    return ambientServicesWithoutWaypoint(host ? [host] : [], ns, ctx).map(({ host: h, svc }) =>
      report(
        MM402.messages.PolicyWithoutWaypoint,
        {
          dr: describeRef(refOf(dr)),
          host: h,
          namespace: svc.metadata.namespace ?? '',
          service: describeRef(refOf(svc)),
        },
        { resource: refOf(dr), related: [refOf(svc)], fix: noFix(FIX), claim: CLAIM },
      ),
    );
  },
};
