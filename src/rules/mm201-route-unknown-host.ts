import { isClusterLocal } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, VirtualService } from '../model/types.js';
import { routeDestinations } from '../model/route-destinations.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import { routeClaim } from './mm104-external-host-passthrough.js';
import type { Finding, Rule, RuleContext } from './types.js';

/** Parity with istioctl IST0101 / Kiali KIA1101: a route to an in-cluster host no Service or entry declares. */
export const mm201: Rule = {
  id: 'MM201',
  name: 'route-unknown-host',
  summary: 'A VirtualService routes to a cluster-local host that no Service or ServiceEntry declares (503 NC).',
  subjects: ['VirtualService'],
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
    return [...missing].map((host) => ({
      rule: 'MM201',
      severity: 'error' as const,
      resource: refOf(vs),
      related: [],
      symptom: '503 NC',
      message: `503 NC (cluster_not_found): ${describeRef(refOf(vs))} routes to ${host}, but no Service or ServiceEntry declares it. Check the name and namespace of the destination (short names resolve in ${vs.metadata.namespace}).`,
      fix: { patches: [], create: [], notes: ['no automatic fix: the intended destination is unknown'] },
      ...(claims.get(host) ? { claim: claims.get(host) as FindingClaim } : {}),
    }));
  },
};
