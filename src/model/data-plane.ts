import { K8S_GATEWAY } from './kinds.js';
import { exportScope } from './visibility.js';
import type { MeshIndex } from './mesh-index.js';
import type { KubeObject, Pod, Service } from './types.js';
import { workloadOf, type Workload } from './workloads.js';

/**
 * Which data plane carries a namespace's or a Service's traffic, as the input's labels tell, with Istio's
 * semantics (istio.io/istio, 1.31):
 * - ambient: the istio-cni enablement selector (cni/pkg/util/enablement_selector.go `Matches`) takes a pod
 *   labelled `istio.io/dataplane-mode: ambient`, or a pod of a namespace so labelled unless the pod says
 *   `istio.io/dataplane-mode: none`; a pod with an injected sidecar (sidecar.istio.io/status) or on the host
 *   network is never enrolled ("Ztunnel and sidecar for a single pod is currently not supported; opt out").
 * - waypoint: `istio.io/use-waypoint` on the object, else on its namespace
 *   (pilot/pkg/serviceregistry/ambient/waypoints.go `fetchWaypointForTarget`); the value `none` opts out;
 *   `istio.io/use-waypoint-namespace` names the waypoint's namespace (default: the labelled object's).
 * - sidecar: Istio's injection webhooks (namespace `istio-injection: enabled` or `istio.io/rev`, pod
 *   `sidecar.istio.io/inject: "true"`), or a pod that runs istio-proxy.
 */
export const DATAPLANE_MODE = 'istio.io/dataplane-mode';
export const USE_WAYPOINT = 'istio.io/use-waypoint';
export const USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';
const INJECT = 'sidecar.istio.io/inject';
const SIDECAR_STATUS = 'sidecar.istio.io/status';

export interface WaypointRef {
  namespace: string;
  name: string;
  /** Which object's label named it. */
  labelledOn: KubeObject;
}

export type DataPlane =
  | { mode: 'sidecar'; why: string }
  | { mode: 'ambient'; waypoint?: WaypointRef; why: string }
  | { mode: 'none'; why: string }
  | { mode: 'unknown'; why: string };

const labelsOf = (o: KubeObject | undefined): Readonly<Record<string, string>> => o?.metadata.labels ?? {};

/** The waypoint an object's own labels name: a ref, 'none' (opted out), or undefined (no label). */
export function useWaypointOf(
  o: KubeObject,
  defaultNamespace: string,
): Omit<WaypointRef, 'labelledOn'> | 'none' | undefined {
  const l = labelsOf(o);
  const name = l[USE_WAYPOINT];
  if (name === undefined) return undefined;
  if (name === 'none') return 'none';
  return { name, namespace: l[USE_WAYPOINT_NAMESPACE] ?? defaultNamespace };
}

/** The waypoint of an object: its own label, else its namespace's (Istio's fetchWaypointForTarget). */
export function waypointFor(o: KubeObject, index: MeshIndex): WaypointRef | undefined {
  const ns = o.kind === 'Namespace' ? o.metadata.name : (o.metadata.namespace ?? 'default');
  const own = useWaypointOf(o, ns);
  if (own === 'none') return undefined;
  if (own) return { ...own, labelledOn: o };
  const nsObject = namespaceObject(ns, index);
  if (!nsObject || nsObject === o) return undefined;
  const inherited = useWaypointOf(nsObject, ns);
  return inherited && inherited !== 'none' ? { ...inherited, labelledOn: nsObject } : undefined;
}

/** A Gateway API Gateway of that name: Istio binds only to a Gateway (waypoints.go WaypointsCollection). */
export function waypointExists(ref: Pick<WaypointRef, 'namespace' | 'name'>, index: MeshIndex): boolean {
  return index.get(`${K8S_GATEWAY}/${ref.namespace}/${ref.name}`) !== undefined;
}

function namespaceObject(ns: string, index: MeshIndex): KubeObject | undefined {
  return index.get(`Namespace//${ns}`)?.object;
}

function sidecarInjectedNamespace(labels: Readonly<Record<string, string>>): boolean {
  return (
    labels['istio-injection'] === 'enabled' ||
    (labels['istio.io/rev'] !== undefined && labels['istio-injection'] !== 'disabled')
  );
}

/** The data plane of a namespace's pods, from the Namespace's labels. */
export function namespaceDataPlane(namespace: string, index: MeshIndex): DataPlane {
  const ns = namespaceObject(namespace, index);
  if (!ns) return { mode: 'unknown', why: `the input has no Namespace ${namespace}` };
  const l = labelsOf(ns);
  if (sidecarInjectedNamespace(l))
    return { mode: 'sidecar', why: `namespace ${namespace} is labelled for sidecar injection` };
  if (l[DATAPLANE_MODE] === 'ambient') {
    const waypoint = waypointFor(ns, index);
    return {
      mode: 'ambient',
      ...(waypoint ? { waypoint } : {}),
      why: `namespace ${namespace} is labelled ${DATAPLANE_MODE}: ambient`,
    };
  }
  if (l['istio-injection'] === 'disabled')
    return { mode: 'none', why: `namespace ${namespace} is labelled istio-injection: disabled` };
  return { mode: 'unknown', why: `namespace ${namespace} has no data-plane label` };
}

function hasSidecar(w: Workload): boolean {
  if (w.annotations[SIDECAR_STATUS] !== undefined) return true;
  const spec = w.spec as { containers?: { name: string }[]; initContainers?: { name: string }[] } | undefined;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].some((c) => c.name === 'istio-proxy');
}

/** The data plane of a pod, or of the pods a workload's template makes: a sidecar, its own dataplane-mode label, else its namespace's. */
export function workloadDataPlane(w: Workload, index: MeshIndex): DataPlane {
  const ns = w.namespace;
  const what = `${w.object.kind === 'Pod' ? 'pod' : `the pods of ${w.object.kind}`} ${ns}/${w.object.metadata.name}`;
  if (hasSidecar(w)) return { mode: 'sidecar', why: `${what} run istio-proxy` };
  const nsPlane = namespaceDataPlane(ns, index);
  const hostNetwork = (w.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork === true;
  const mode = w.labels[DATAPLANE_MODE];
  if (mode === 'none') return { mode: 'none', why: `${what} are labelled ${DATAPLANE_MODE}: none` };
  if ((mode === 'ambient' || nsPlane.mode === 'ambient') && !hostNetwork) {
    const labelled = useWaypointOf({ ...w.object, metadata: { ...w.object.metadata, labels: { ...w.labels } } }, ns);
    const waypoint =
      labelled === 'none'
        ? undefined
        : labelled
          ? { ...labelled, labelledOn: w.object }
          : nsPlane.mode === 'ambient'
            ? nsPlane.waypoint
            : undefined;
    return {
      mode: 'ambient',
      ...(waypoint ? { waypoint } : {}),
      why: mode === 'ambient' ? `${what} are labelled ${DATAPLANE_MODE}: ambient` : nsPlane.why,
    };
  }
  if (w.labels[INJECT] === 'true' || w.annotations[INJECT] === 'true')
    return { mode: 'sidecar', why: `${what} are labelled ${INJECT}: "true"` };
  return nsPlane;
}

/** The data plane of one Pod. */
export function podDataPlane(pod: Pod, index: MeshIndex): DataPlane {
  return workloadDataPlane(workloadOf(pod) as Workload, index);
}

/**
 * The data plane of a Service's pods (the Pods and workload templates of the input it selects), and its
 * waypoint: Istio binds a Service to the waypoint its own labels or its namespace's name (services.go
 * fetchWaypointForService). Without workloads in the input, the namespace's labels decide.
 */
export function serviceDataPlane(svc: Service, index: MeshIndex): DataPlane {
  const ns = svc.metadata.namespace ?? 'default';
  const selector = svc.spec?.selector;
  const planes = selector ? index.workloadsMatching(selector, ns).map((w) => workloadDataPlane(w, index)) : [];
  const base: DataPlane =
    planes.length === 0
      ? namespaceDataPlane(ns, index)
      : planes.every((p) => p.mode === planes[0]?.mode)
        ? (planes[0] as DataPlane)
        : { mode: 'unknown', why: `the pods of ${ns}/${svc.metadata.name} run different data planes` };
  if (base.mode !== 'ambient') return base;
  const waypoint = waypointFor(svc, index);
  return { mode: 'ambient', ...(waypoint ? { waypoint } : {}), why: base.why };
}

/** A short phrase for findings: "sidecar", "ambient (ztunnel, no waypoint)", "ambient (waypoint ns/name)". */
export function describeDataPlane(p: DataPlane): string {
  if (p.mode === 'ambient')
    return p.waypoint
      ? `ambient (waypoint ${p.waypoint.namespace}/${p.waypoint.name})`
      : 'ambient (ztunnel, no waypoint)';
  if (p.mode === 'none') return 'no proxy';
  return 'sidecar';
}

const EXPORTED_KINDS: ReadonlySet<string> = new Set(['VirtualService', 'DestinationRule', 'ServiceEntry']);

/**
 * The namespaces of the input, other than `namespace`, that run sidecars and see the object (its exportTo):
 * sidecar clients there apply it whatever the data plane of its own namespace.
 */
export function sidecarNamespacesSeeing(o: KubeObject, namespace: string, index: MeshIndex): string[] {
  if (!EXPORTED_KINDS.has(o.kind)) return [];
  const scope = exportScope((o.spec as { exportTo?: string[] } | undefined)?.exportTo, namespace);
  return index
    .ofKind('Namespace')
    .map((n) => n.metadata.name)
    .filter(
      (name) =>
        name !== namespace &&
        (scope === 'all' || scope.has(name)) &&
        namespaceDataPlane(name, index).mode === 'sidecar',
    );
}
