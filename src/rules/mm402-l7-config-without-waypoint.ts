import { MM402 } from '../catalogue/rules/mm402.js';
import { namespaceDataPlane, serviceDataPlane, sidecarNamespacesSeeing } from '../model/data-plane.js';
import { resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { DestinationRule, KubeObject, Service, VirtualService } from '../model/types.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const FIX = 'no automatic fix: a waypoint is a new proxy (istioctl waypoint apply -n NS --enroll-namespace); bind the Service to one or remove the configuration';
const CLAIM = { kind: 'inexpressible', reason: 'the oracle simulates sidecars and gateways, not ztunnel' } as const;

/** The Services of the subject's hosts that run ambient with no waypoint. */
function ambientServicesWithoutWaypoint(hosts: readonly string[], namespace: string, ctx: RuleContext): { host: string; svc: Service }[] {
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
        report(MM402.messages.RouteWithoutWaypoint, { vs: describeRef(refOf(vs)), host, namespace: svc.metadata.namespace ?? '', service: describeRef(refOf(svc)) }, { resource: refOf(vs), related: [refOf(svc)], fix: noFix(FIX), claim: CLAIM }),
      );
    }
    const dr = subject as DestinationRule;
    if (dr.spec?.workloadSelector) return [];
    const host = dr.spec?.host;
    return ambientServicesWithoutWaypoint(host ? [host] : [], ns, ctx).map(({ host: h, svc }) =>
      report(MM402.messages.PolicyWithoutWaypoint, { dr: describeRef(refOf(dr)), host: h, namespace: svc.metadata.namespace ?? '', service: describeRef(refOf(svc)) }, { resource: refOf(dr), related: [refOf(svc)], fix: noFix(FIX), claim: CLAIM }),
    );
  },
};
