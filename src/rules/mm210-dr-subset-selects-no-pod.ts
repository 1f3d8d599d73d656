import { MM210 } from '../catalogue/rules/mm210.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import { routeDestinations } from '../model/route-destinations.js';
import type { DestinationRule, KubeObject, Service, Subset, VirtualService } from '../model/types.js';
import type { Workload } from '../model/workloads.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';
import { describeLabels, describeWorkloads } from './workload-helpers.js';

/** The locality labels Istio adds, and the node label each is read from, then its beta fallback (controller.go getPodLocality). */
const LOCALITY = new Map<string, readonly string[]>([
  ['topology.kubernetes.io/region', ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region']],
  ['topology.kubernetes.io/zone', ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone']],
  ['topology.istio.io/subzone', ['topology.istio.io/subzone']],
]);
const HOSTNAME = 'kubernetes.io/hostname';
/** Set by istiod from its own cluster id and network settings: not knowable from the objects. */
const CLUSTER = 'topology.istio.io/cluster';
const NETWORK = 'topology.istio.io/network';
/** A pod label that gives the locality instead of its node (pilot's getPodLocality). */
const LOCALITY_LABEL = 'istio-locality';

type Match = 'yes' | 'no' | 'unknown';

/**
 * The value Istio gives an endpoint's label `key` (pod labels augmented with the node's topology,
 * pilot/pkg/serviceregistry/util/label AugmentLabels): a string, absent (undefined), or unknowable.
 */
function endpointLabel(w: Workload, key: string, index: MeshIndex): string | undefined | 'unknown' {
  const own = Object.hasOwn(w.labels, key) ? w.labels[key] : undefined;
  if (key === CLUSTER) return 'unknown';
  if (key === NETWORK) return own ?? 'unknown';
  const node = w.isPod ? w.spec?.nodeName : undefined;
  if (key === HOSTNAME) return node ? node : 'unknown';
  const nodeKeys = LOCALITY.get(key);
  if (!nodeKeys) return own;
  if (!node || Object.hasOwn(w.labels, LOCALITY_LABEL)) return 'unknown';
  const nodeObject = index.get(`Node//${node}`)?.object;
  if (!nodeObject) return 'unknown';
  const fromNode = nodeKeys.map((k) => nodeObject.metadata.labels?.[k]).find((v) => !!v);
  // an empty locality part is not added; the pod's own label stays
  return fromNode ? fromNode : own;
}

function matches(w: Workload, labels: Readonly<Record<string, string>>, index: MeshIndex): Match {
  let result: Match = 'yes';
  for (const [k, v] of Object.entries(labels)) {
    const got = endpointLabel(w, k, index);
    if (got === 'unknown') result = 'unknown';
    else if (got !== v) return 'no';
  }
  return result;
}

const NO_EDS = { kind: 'inexpressible', reason: 'a cluster without endpoints is an EDS fact; the oracle reads listeners, clusters and routes, not endpoints' } as const;

/** The VirtualServices of the snapshot that route to the subset of the host. */
function routesTo(host: string, subset: string, index: MeshIndex): VirtualService[] {
  return index.virtualServicesRoutingTo(host).filter((vs) => routeDestinations(vs, index.domain).some((d) => d.host === host && d.destination.subset === subset));
}

function subsetFinding(dr: DestinationRule, svc: Service, subset: Subset, ctx: RuleContext, args: { service: string; host: string; workloads: string }): Finding {
  const routes = routesTo(args.host, subset.name, ctx.index);
  const base = { dr: describeRef(refOf(dr)), subset: subset.name, labels: describeLabels(subset.labels), ...args };
  const related = [refOf(svc), ...routes.map(refOf)];
  const r = {
    resource: refOf(dr),
    related,
    fix: noFix('no automatic fix: either the subset labels or the pod labels are wrong; fix the subset labels, or label the pods that should serve it'),
    claim: NO_EDS,
  };
  if (routes.length === 0) return report(MM210.messages.UnroutedSubsetSelectsNoPod, base, r);
  const type = ctx.complete ? MM210.messages.SubsetSelectsNoPod : MM210.messages.SubsetSelectsNoPodInInput;
  return report(type, { ...base, routes: routes.map((vs) => describeRef(refOf(vs))).join(', ') }, r);
}

/** Parity with istioctl IST0173: a subset whose labels select none of the host's Service's pods. */
export const mm210: Rule = {
  ...MM210,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const dr = subject as DestinationRule;
    const subsets = (dr.spec?.subsets ?? []).filter((s) => Object.keys(s.labels ?? {}).length > 0);
    if (subsets.length === 0 || !ctx.index.hasWorkloads()) return [];
    const host = ctx.index.drHost(dr);
    const svc = ctx.index.serviceForHost(host);
    const selector = svc?.spec?.selector;
    // A Service without a selector has its endpoints written by hand (EndpointSlices): not judged.
    if (!svc || !selector || Object.keys(selector).length === 0) return [];
    const pods = ctx.index.workloadsMatching(selector, svc.metadata.namespace ?? '');
    const service = describeRef(refOf(svc));
    if (pods.length === 0) {
      // Offline, the input simply may not hold this Service's workloads.
      if (!ctx.complete) return [];
      const args = { dr: describeRef(refOf(dr)), subsets: subsets.map((s) => s.name).join(', '), service, selector: describeLabels(selector), host };
      return [report(MM210.messages.ServiceSelectsNoPod, args, { resource: refOf(dr), related: [refOf(svc)], fix: noFix('no automatic fix: deploy the workloads of the Service, or fix its selector'), claim: NO_EDS })];
    }
    const unmatched = subsets.filter((subset) => pods.every((w) => matches(w, subset.labels ?? {}, ctx.index) === 'no'));
    return unmatched.map((subset) => subsetFinding(dr, svc, subset, ctx, { service, host, workloads: describeWorkloads(pods) }));
  },
};
