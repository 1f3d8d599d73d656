import { MM210 } from '../catalogue/rules/mm210.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import { routeDestinations } from '../model/route-destinations.js';
import { isWildcard, resolveHost } from '../model/hosts.js';
import type {
  DestinationRule,
  KubeObject,
  Service,
  ServiceEntry,
  Subset,
  VirtualService,
  WorkloadEntrySpec,
} from '../model/types.js';
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

/** An endpoint label meshmedic cannot know offline (a symbol: a label may well have the value "unknown"). */
const UNKNOWABLE = Symbol('unknowable');

/**
 * The value Istio gives an endpoint's label `key` (pod labels augmented with the node's topology,
 * pilot/pkg/serviceregistry/util/label AugmentLabels): a string, absent (undefined), or unknowable.
 */
function endpointLabel(w: Workload, key: string, index: MeshIndex): string | undefined | typeof UNKNOWABLE {
  const own = Object.hasOwn(w.labels, key) ? w.labels[key] : undefined;
  if (key === CLUSTER) return UNKNOWABLE;
  if (key === NETWORK) return own ?? UNKNOWABLE;
  const node = w.isPod ? w.spec?.nodeName : undefined;
  if (key === HOSTNAME) return node ? node : UNKNOWABLE;
  const nodeKeys = LOCALITY.get(key);
  if (!nodeKeys) return own;
  if (!node || Object.hasOwn(w.labels, LOCALITY_LABEL)) return UNKNOWABLE;
  const nodeObject = index.get(`Node//${node}`)?.object;
  if (!nodeObject) return UNKNOWABLE;
  const fromNode = nodeKeys.map((k) => nodeObject.metadata.labels?.[k]).find((v) => !!v);
  // an empty locality part is not added; the pod's own label stays
  return fromNode ? fromNode : own;
}

function matches(w: Workload, labels: Readonly<Record<string, string>>, index: MeshIndex): Match {
  let result: Match = 'yes';
  for (const [k, v] of Object.entries(labels)) {
    const got = endpointLabel(w, k, index);
    if (got === UNKNOWABLE) result = 'unknown';
    else if (got !== v) return 'no';
  }
  return result;
}

const NO_EDS = {
  kind: 'inexpressible',
  reason: 'a cluster without endpoints is an EDS fact; the oracle reads listeners, clusters and routes, not endpoints',
} as const;

/** The VirtualServices of the snapshot that route to the subset of the host. */
function routesTo(host: string, subset: string, index: MeshIndex): VirtualService[] {
  return index
    .virtualServicesRoutingTo(host)
    .filter((vs) =>
      routeDestinations(vs, index.domain).some((d) => d.host === host && d.destination.subset === subset),
    );
}

function subsetFinding(
  dr: DestinationRule,
  svc: Service,
  subset: Subset,
  ctx: RuleContext,
  args: { service: string; host: string; workloads: string },
): Finding {
  const routes = routesTo(args.host, subset.name, ctx.index);
  const base = { dr: describeRef(refOf(dr)), subset: subset.name, labels: describeLabels(subset.labels), ...args };
  const related = [refOf(svc), ...routes.map(refOf)];
  const r = {
    resource: refOf(dr),
    related,
    fix: noFix(
      'no automatic fix: either the subset labels or the pod labels are wrong; fix the subset labels, or label the pods that should serve it',
    ),
    claim: NO_EDS,
  };
  if (routes.length === 0) return report(MM210.messages.UnroutedSubsetSelectsNoPod, base, r);
  const type = ctx.complete ? MM210.messages.SubsetSelectsNoPod : MM210.messages.SubsetSelectsNoPodInInput;
  return report(type, { ...base, routes: routes.map((vs) => describeRef(refOf(vs))).join(', ') }, r);
}

/** Labels Istio sets on an entry's endpoints from what meshmedic does not read (locality, cluster, network). */
const TOPOLOGY = new Set([...LOCALITY.keys(), HOSTNAME, CLUSTER, NETWORK]);

/**
 * The endpoints the host's ServiceEntries list inline, when that is all of them: resolution STATIC or DNS,
 * no workloadSelector (which would add pods and WorkloadEntries), at least one endpoint each.
 */
function inlineEndpoints(
  host: string,
  index: MeshIndex,
): { entries: ServiceEntry[]; endpoints: WorkloadEntrySpec[] } | undefined {
  const entries = index
    .entriesForHost(host)
    .filter((se) =>
      (se.spec?.hosts ?? []).some(
        (h) => !isWildcard(h) && resolveHost(h, se.metadata.namespace, index.domain) === host,
      ),
    );
  if (entries.length === 0) return undefined;
  const inline = entries.every(
    (se) =>
      (se.spec?.resolution === 'STATIC' || se.spec?.resolution === 'DNS') &&
      !se.spec.workloadSelector &&
      (se.spec.endpoints ?? []).length > 0,
  );
  return inline ? { entries, endpoints: entries.flatMap((se) => se.spec?.endpoints ?? []) } : undefined;
}

function endpointMatches(ep: WorkloadEntrySpec, labels: Readonly<Record<string, string>>): Match {
  let result: Match = 'yes';
  for (const [k, v] of Object.entries(labels)) {
    if (TOPOLOGY.has(k)) result = 'unknown';
    else if (ep.labels?.[k] !== v) return 'no';
  }
  return result;
}

function entryFindings(dr: DestinationRule, subsets: readonly Subset[], host: string, ctx: RuleContext): Finding[] {
  const inline = inlineEndpoints(host, ctx.index);
  if (!inline) return [];
  const service = inline.entries.map((se) => describeRef(refOf(se))).join(', ');
  const shown =
    inline.endpoints
      .slice(0, 3)
      .map((ep) => `${ep.address ?? '?'} ${describeLabels(ep.labels)}`)
      .join('; ') + (inline.endpoints.length > 3 ? ` and ${inline.endpoints.length - 3} more` : '');
  const out: Finding[] = [];
  for (const subset of subsets) {
    if (inline.endpoints.some((ep) => endpointMatches(ep, subset.labels ?? {}) !== 'no')) continue;
    const routes = routesTo(host, subset.name, ctx.index);
    const base = {
      dr: describeRef(refOf(dr)),
      subset: subset.name,
      labels: describeLabels(subset.labels),
      service,
      workloads: shown,
      host,
    };
    const r = {
      resource: refOf(dr),
      related: [...inline.entries, ...routes].map(refOf),
      fix: noFix(
        "no automatic fix: either the subset labels or the endpoint labels are wrong; fix the subset labels, or label the entry's endpoints",
      ),
      claim: NO_EDS,
    };
    if (routes.length === 0) out.push(report(MM210.messages.UnroutedSubsetSelectsNoEndpoint, base, r));
    else
      out.push(
        report(
          ctx.complete ? MM210.messages.SubsetSelectsNoEndpoint : MM210.messages.SubsetSelectsNoEndpointInInput,
          { ...base, routes: routes.map((vs) => describeRef(refOf(vs))).join(', ') },
          r,
        ),
      );
  }
  return out;
}

/** Parity with istioctl IST0173: a subset whose labels select none of the host's Service's pods (or entry's endpoints). */
export const mm210: Rule = {
  ...MM210,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const dr = subject as DestinationRule;
    const subsets = (dr.spec?.subsets ?? []).filter((s) => Object.keys(s.labels ?? {}).length > 0);
    if (subsets.length === 0) return [];
    const host = ctx.index.drHost(dr);
    const svc = ctx.index.serviceForHost(host);
    if (!svc) return entryFindings(dr, subsets, host, ctx);
    if (!ctx.index.hasWorkloads()) return [];
    const selector = svc?.spec?.selector;
    // A Service without a selector has its endpoints written by hand (EndpointSlices): not judged.
    if (!selector || Object.keys(selector).length === 0) return [];
    const pods = ctx.index.workloadsMatching(selector, svc.metadata.namespace ?? '');
    const service = describeRef(refOf(svc));
    if (pods.length === 0) {
      // Offline, the input simply may not hold this Service's workloads.
      if (!ctx.complete) return [];
      const args = {
        dr: describeRef(refOf(dr)),
        subsets: subsets.map((s) => s.name).join(', '),
        service,
        selector: describeLabels(selector),
        host,
      };
      return [
        report(MM210.messages.ServiceSelectsNoPod, args, {
          resource: refOf(dr),
          related: [refOf(svc)],
          fix: noFix('no automatic fix: deploy the workloads of the Service, or fix its selector'),
          claim: NO_EDS,
        }),
      ];
    }
    const unmatched = subsets.filter((subset) =>
      pods.every((w) => matches(w, subset.labels ?? {}, ctx.index) === 'no'),
    );
    return unmatched.map((subset) =>
      subsetFinding(dr, svc, subset, ctx, { service, host, workloads: describeWorkloads(pods) }),
    );
  },
};

/** What the input says of one subset's endpoints, as MM210 judges them (its access-log form, src/evidence). */
export type SubsetSelection =
  | { selects: 'none'; service: Service | ServiceEntry; workloads: string; subset: Subset; endpoints?: true }
  | { selects: 'some'; workloads: string; subset: Subset }
  | { selects: 'unknown'; why: string };

/**
 * Whether subset `name` of `dr` selects a pod of the host's Service in the input: 'none' only where MM210
 * would report it (a Service with a selector, some of its workloads in the input, none with the labels).
 */
export function subsetSelection(dr: DestinationRule, name: string, index: MeshIndex): SubsetSelection {
  const subset = (dr.spec?.subsets ?? []).find((s) => s.name === name);
  if (!subset) return { selects: 'unknown', why: `${describeRef(refOf(dr))} defines no subset ${name}` };
  const host = index.drHost(dr);
  const svc = index.serviceForHost(host);
  if (!svc) return entrySelection(host, subset, index);
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0)
    return {
      selects: 'unknown',
      why: `${describeRef(refOf(svc))} has no selector (its endpoints are written by hand)`,
    };
  const pods = index.workloadsMatching(selector, svc.metadata.namespace ?? '');
  if (pods.length === 0)
    return { selects: 'unknown', why: `the input holds no workload of ${describeRef(refOf(svc))}` };
  const labels = subset.labels ?? {};
  const selected = pods.filter((w) => matches(w, labels, index) !== 'no');
  if (Object.keys(labels).length === 0 || selected.length > 0)
    return { selects: 'some', workloads: describeWorkloads(selected.length > 0 ? selected : pods), subset };
  return { selects: 'none', service: svc, workloads: describeWorkloads(pods), subset };
}

/** A ServiceEntry host: judged only when its entries list all their endpoints inline, as MM210 does. */
function entrySelection(host: string, subset: Subset, index: MeshIndex): SubsetSelection {
  const inline = inlineEndpoints(host, index);
  const first = inline?.entries[0];
  if (!inline || !first)
    return {
      selects: 'unknown',
      why: 'the input holds no Service, nor a ServiceEntry listing its endpoints, for the host',
    };
  const labels = subset.labels ?? {};
  const shown = inline.endpoints
    .slice(0, 3)
    .map((ep) => `${ep.address ?? '?'} ${describeLabels(ep.labels)}`)
    .join('; ');
  if (Object.keys(labels).length === 0 || inline.endpoints.some((ep) => endpointMatches(ep, labels) !== 'no'))
    return { selects: 'some', workloads: shown, subset };
  return { selects: 'none', service: first, workloads: shown, subset, endpoints: true };
}
