import { MM201 } from '../catalogue/rules/mm201.js';
import { isClusterLocal, resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, Service, ServiceEntry, VirtualService } from '../model/types.js';
import { routeDestinations, type RouteDestinationRef } from '../model/route-destinations.js';
import { declarationsOf, routeClientNamespaces, serviceExportTo, serviceVisibleFrom } from '../model/visibility.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import { routeClaim } from './mm104-external-host-passthrough.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

interface Problem {
  host: string;
  /** Objects that declare the host but are not exported to the route's namespaces (empty: nothing declares it). */
  hidden: (Service | ServiceEntry)[];
  claim: FindingClaim;
}

/**
 * Parity with istioctl IST0101 / Kiali KIA1101: a route to a host that no Service or entry visible to the
 * route's namespaces declares (cluster-local hosts; for other hosts only when an entry declares them but is not
 * exported there: an undeclared external host is MM104's).
 */
export const mm201: Rule = {
  ...MM201,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const clients = routeClientNamespaces(vs, ctx.index);
    if (clients.length === 0) return [];
    const problems = new Map<string, Problem>();
    for (const d of routeDestinations(vs, ctx.index.domain)) {
      if (problems.has(d.host)) continue;
      const declared = declarationsOf(d.host, ctx.index);
      if (declared.length === 0 && !isClusterLocal(d.host, ctx.index.domain)) continue;
      const visibleNs = clients.find((ns) => declared.some((o) => serviceVisibleFrom(o, ns, ctx.index)));
      if (visibleNs !== undefined) continue;
      problems.set(d.host, { host: d.host, hidden: declared, claim: claimFor(vs, d, clients[0] as string, ctx) });
    }
    return [...problems.values()].map((p) => finding(vs, p, clients, ctx));
  },
};

function finding(vs: VirtualService, p: Problem, clients: string[], ctx: RuleContext): Finding {
  const base = { vs: describeRef(refOf(vs)), host: p.host };
  const fix = noFix('no automatic fix: the intended destination is unknown');
  if (p.hidden.length === 0) {
    const type = ctx.complete ? MM201.messages.HostNotFound : MM201.messages.HostNotInInput;
    return report(
      type,
      { ...base, namespace: vs.metadata.namespace ?? '' },
      { resource: refOf(vs), fix, claim: p.claim },
    );
  }
  const type = ctx.complete ? MM201.messages.HostNotExported : MM201.messages.HostNotExportedInInput;
  const exact = p.hidden.filter(
    (o) =>
      o.kind === 'Service' ||
      (o as ServiceEntry).spec?.hosts.some((h) => resolveHost(h, o.metadata.namespace, ctx.index.domain) === p.host),
  );
  const shown = exact.length > 0 ? exact : p.hidden;
  const declared = shown
    .map((o) => `${describeRef(refOf(o))} (exportTo ${(serviceExportTo(o, ctx.index) ?? ['*']).join(',')})`)
    .join(', ');
  return report(
    type,
    { ...base, declared, clients: clients.join(', ') },
    {
      resource: refOf(vs),
      related: shown.map(refOf),
      fix: noFix(
        "no automatic fix: widening exportTo changes what other namespaces see; export the host to the route's namespaces or move the route",
      ),
      claim: p.claim,
    },
  );
}

/** The route's no-cluster claim, from a sidecar of the first namespace that runs the route. */
function claimFor(vs: VirtualService, d: RouteDestinationRef, clientNs: string, ctx: RuleContext): FindingClaim {
  const claim = routeClaim(
    vs,
    d.kind,
    d.routeIndex,
    outboundCluster(d.host, d.destination.port?.number ?? 80, d.destination.subset),
    ctx,
  );
  if (claim.kind !== 'no-cluster' || claim.client.type !== 'sidecar') return claim;
  return { ...claim, client: { ...claim.client, namespace: clientNs } };
}
