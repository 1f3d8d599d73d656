import { MM403 } from '../catalogue/rules/mm403.js';
import { waypointFor } from '../model/data-plane.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, ServiceEntry } from '../model/types.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

/** Why Istio auto-allocates no address for the entry (ip_autoallocation.go), or undefined when it does. */
function noAutoAllocation(se: ServiceEntry): string | undefined {
  if (se.spec?.resolution === 'NONE') return 'resolution NONE';
  if (se.metadata.labels?.['networking.istio.io/enable-autoallocate-ip']?.toLowerCase() === 'false')
    return 'networking.istio.io/enable-autoallocate-ip=false';
  return undefined;
}

/** A ServiceEntry bound to a waypoint with no address ztunnel can match (istio#53620). */
export const mm403: Rule = {
  ...MM403,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const se = subject as ServiceEntry;
    if ((se.spec?.addresses ?? []).length > 0) return [];
    const waypoint = waypointFor(se, ctx.index);
    const why = noAutoAllocation(se);
    if (!waypoint || !why) return [];
    return [
      report(
        MM403.messages.NoAddressForWaypoint,
        { se: describeRef(refOf(se)), waypoint: `${waypoint.namespace}/${waypoint.name}`, why },
        {
          resource: refOf(se),
          related: [refOf(waypoint.labelledOn)],
          fix: noFix(
            "no automatic fix: the address is the service's; set spec.addresses or use resolution DNS/STATIC so Istio allocates one",
          ),
          claim: {
            kind: 'inexpressible',
            reason: "the oracle simulates sidecars and gateways, not ztunnel's redirection to waypoints",
          },
        },
      ),
    ];
  },
};
