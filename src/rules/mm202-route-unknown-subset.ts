import { MM202 } from '../catalogue/rules/mm202.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, VirtualService } from '../model/types.js';
import { routeDestinations } from '../model/route-destinations.js';
import { outboundCluster } from './claims.js';
import { routeClaim } from './mm104-external-host-passthrough.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

function portOf(host: string, ctx: RuleContext): number {
  return (
    ctx.index.serviceForHost(host)?.spec?.ports?.[0]?.port ??
    ctx.index.entriesForHost(host)[0]?.spec?.ports?.[0]?.number ??
    80
  );
}

/** Parity with istioctl IST0101 (subset) / Kiali KIA1107: a route to a subset no DestinationRule defines. */
export const mm202: Rule = {
  ...MM202,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const ns = vs.metadata.namespace ?? '';
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const d of routeDestinations(vs, ctx.index.domain)) {
      const subset = d.destination.subset;
      if (!subset || seen.has(`${d.host}|${subset}`)) continue;
      seen.add(`${d.host}|${subset}`);
      const svcNs =
        ctx.index.serviceForHost(d.host)?.metadata.namespace ?? ctx.index.entriesForHost(d.host)[0]?.metadata.namespace;
      const drs = ctx.index.destinationRulesFor(d.host, ns, svcNs);
      if (drs.some((dr) => dr.spec?.subsets?.some((s) => s.name === subset))) continue;
      const type = !ctx.complete
        ? MM202.messages.SubsetNotInInput
        : drs.length > 0
          ? MM202.messages.SubsetNotDefined
          : MM202.messages.NoSubsetsForHost;
      const args = {
        vs: describeRef(refOf(vs)),
        subset,
        host: d.host,
        drs: drs.map((r) => describeRef(refOf(r))).join(', ') || 'none',
      };
      findings.push(
        report(type, args, {
          resource: refOf(vs),
          related: drs.map(refOf),
          fix: noFix(
            'no automatic fix: the subset labels are unknown; define the subset in the DestinationRule or fix the name',
          ),
          claim: routeClaim(
            vs,
            d.kind,
            d.routeIndex,
            outboundCluster(d.host, d.destination.port?.number ?? portOf(d.host, ctx), subset),
            ctx,
          ),
        }),
      );
    }
    return findings;
  },
};
