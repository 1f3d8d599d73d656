import { MM201 } from '../catalogue/rules/mm201.js';
import { isClusterLocal } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, VirtualService } from '../model/types.js';
import { routeDestinations } from '../model/route-destinations.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import { routeClaim } from './mm104-external-host-passthrough.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

/** Parity with istioctl IST0101 / Kiali KIA1101: a route to an in-cluster host no Service or entry declares. */
export const mm201: Rule = {
  ...MM201,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const missing = new Set<string>();
    const claims = new Map<string, FindingClaim>();
    for (const d of routeDestinations(vs, ctx.index.domain)) {
      if (!isClusterLocal(d.host, ctx.index.domain)) continue;
      if (ctx.index.serviceForHost(d.host) || ctx.index.entriesForHost(d.host).length > 0) continue;
      missing.add(d.host);
      if (!claims.has(d.host)) claims.set(d.host, routeClaim(vs, d.kind, d.routeIndex, outboundCluster(d.host, d.destination.port?.number ?? 80, d.destination.subset), ctx));
    }
    const type = ctx.complete ? MM201.messages.HostNotFound : MM201.messages.HostNotInInput;
    return [...missing].map((host) => {
      const claim = claims.get(host);
      return report(type, { vs: describeRef(refOf(vs)), host, namespace: vs.metadata.namespace ?? '' }, {
        resource: refOf(vs),
        fix: noFix('no automatic fix: the intended destination is unknown'),
        ...(claim ? { claim } : {}),
      });
    });
  },
};
