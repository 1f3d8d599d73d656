import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, VirtualService } from '../model/types.js';
import { routeDestinations } from '../model/route-destinations.js';
import { outboundCluster } from './claims.js';
import { routeClaim } from './mm104-external-host-passthrough.js';
import type { Finding, Rule, RuleContext } from './types.js';

function portOf(host: string, ctx: RuleContext): number {
  return ctx.index.serviceForHost(host)?.spec?.ports?.[0]?.port ?? ctx.index.entriesForHost(host)[0]?.spec?.ports?.[0]?.number ?? 80;
}

/** Parity with istioctl IST0101 (subset) / Kiali KIA1107: a route to a subset no DestinationRule defines. */
export const mm202: Rule = {
  id: 'MM202',
  name: 'route-unknown-subset',
  summary: 'A VirtualService routes to a subset that no applicable DestinationRule defines (503 NC).',
  subjects: ['VirtualService'],
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const ns = vs.metadata.namespace ?? '';
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const d of routeDestinations(vs, ctx.index.domain)) {
      const subset = d.destination.subset;
      if (!subset || seen.has(`${d.host}|${subset}`)) continue;
      seen.add(`${d.host}|${subset}`);
      const svcNs = ctx.index.serviceForHost(d.host)?.metadata.namespace ?? ctx.index.entriesForHost(d.host)[0]?.metadata.namespace;
      const drs = ctx.index.destinationRulesFor(d.host, ns, svcNs);
      if (drs.some((dr) => dr.spec?.subsets?.some((s) => s.name === subset))) continue;
      findings.push({
        rule: 'MM202',
        severity: 'error',
        resource: refOf(vs),
        related: drs.map(refOf),
        symptom: '503 NC',
        message: `503 NC (cluster_not_found): ${describeRef(refOf(vs))} routes to subset ${subset} of ${d.host}, but ${drs.length ? `the DestinationRule that applies (${drs.map((r) => describeRef(refOf(r))).join(', ')}) does not define it` : 'no DestinationRule defines subsets for it'}: there is no cluster outbound|…|${subset}|${d.host}.`,
        fix: { patches: [], create: [], notes: ['no automatic fix: the subset labels are unknown; define the subset in the DestinationRule or fix the name'] },
        claim: routeClaim(vs, d.kind, d.routeIndex, outboundCluster(d.host, d.destination.port?.number ?? portOf(d.host, ctx), subset), ctx),
      });
    }
    return findings;
  },
};
