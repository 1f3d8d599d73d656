/**
 * The Kubernetes Gateway API as Istio reads it (pilot/pkg/config/kube/gateway/conversion.go): which
 * Gateways Istio programs, what a route's parentRefs and backendRefs name, which listeners accept a route,
 * and what a ReferenceGrant allows. Pure functions over the index.
 */
import { hostsMatch } from '../model/hosts.js';
import { K8S_GATEWAY, kindKey } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type {
  BackendObjectReference,
  GatewayClass,
  GatewayRoute,
  K8sGateway,
  KubeObject,
  LabelSelector,
  Listener,
  ParentReference,
  ReferenceGrant,
} from '../model/types.js';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute'] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

/** Istio's built-in GatewayClasses and their controllers (pilot/pkg/config/kube/gateway/gatewayclass.go). */
const BUILTIN_CLASSES: Readonly<Record<string, string>> = {
  istio: 'istio.io/gateway-controller',
  'istio-remote': 'istio.io/unmanaged-gateway',
  'istio-waypoint': 'istio.io/mesh-controller',
  'istio-east-west': 'istio.io/eastwest-controller',
};

/** The controller of a Gateway's class: the GatewayClass read, else Istio's built-in class of that name. */
export function gatewayController(gw: K8sGateway, index: MeshIndex): string | undefined {
  const name = gw.spec?.gatewayClassName ?? '';
  const cls = index.get(`GatewayClass//${name}`)?.object as GatewayClass | undefined;
  return cls ? cls.spec?.controllerName : BUILTIN_CLASSES[name];
}

/**
 * Istio deploys and programs the Gateway as an ingress (istio.io/gateway-controller). Waypoints and
 * east-west gateways take routes by other rules, remote ones are not programmed by this istiod, and
 * other controllers' Gateways are not Istio's business: none of them is judged here.
 */
export function isIstioIngress(gw: K8sGateway, index: MeshIndex): boolean {
  return gatewayController(gw, index) === 'istio.io/gateway-controller';
}

export function isRoute(o: KubeObject): o is GatewayRoute {
  return (
    kindKey(o) !== K8S_GATEWAY &&
    (ROUTE_KINDS as readonly string[]).includes(o.kind) &&
    o.apiVersion.startsWith(`${GATEWAY_API_GROUP}/`)
  );
}

/** A parentRef with its defaults (group/kind Gateway, namespace the route's). */
export interface Parent {
  ref: ParentReference;
  index: number;
  group: string;
  kind: string;
  namespace: string;
}

export function parentsOf(route: GatewayRoute): Parent[] {
  const ns = route.metadata.namespace ?? 'default';
  return (route.spec?.parentRefs ?? []).map((ref, index) => ({
    ref,
    index,
    group: ref.group ?? GATEWAY_API_GROUP,
    kind: ref.kind ?? 'Gateway',
    namespace: ref.namespace ?? ns,
  }));
}

export const isGatewayParent = (p: Parent): boolean => p.group === GATEWAY_API_GROUP && p.kind === 'Gateway';
/** A GAMMA mesh route's parent: a core Service. */
export const isServiceParent = (p: Parent): boolean => (p.group === '' || p.group === 'core') && p.kind === 'Service';

/**
 * Whether Istio programs the route somewhere: one of its parents is an Istio ingress Gateway that was read,
 * or a Service (a mesh route). Routes only for other controllers' Gateways are not judged.
 */
export function programmedByIstio(route: GatewayRoute, index: MeshIndex): boolean {
  return parentsOf(route).some((p) => {
    if (isServiceParent(p)) return true;
    if (!isGatewayParent(p)) return false;
    const gw = index.k8sGateway(p.namespace, p.ref.name);
    return gw !== undefined && isIstioIngress(gw, index);
  });
}

/** The first Istio ingress Gateway the route is attached to (its pods run the route). */
export function firstIngress(route: GatewayRoute, index: MeshIndex): K8sGateway | undefined {
  for (const p of parentsOf(route)) {
    if (!isGatewayParent(p)) continue;
    const gw = index.k8sGateway(p.namespace, p.ref.name);
    if (gw && isIstioIngress(gw, index)) return gw;
  }
  return undefined;
}

/** A backendRef with its defaults (group core, kind Service, namespace the route's), where it sits. */
export interface Backend {
  ref: BackendObjectReference;
  rule: number;
  index: number;
  group: string;
  kind: string;
  namespace: string;
  /** ref.namespace is set and differs from the route's: a ReferenceGrant must allow it. */
  crossNamespace: boolean;
}

/** The backendRefs Istio routes to: those of weight > 0 (weight-0 refs are dropped, conversion.go buildHTTPDestination). */
export function backendsOf(route: GatewayRoute): Backend[] {
  const ns = route.metadata.namespace ?? 'default';
  const out: Backend[] = [];
  (route.spec?.rules ?? []).forEach((rule, r) =>
    (rule.backendRefs ?? []).forEach((ref, i) => {
      if ((ref.weight ?? 1) === 0) return;
      out.push({
        ref,
        rule: r,
        index: i,
        group: ref.group ?? '',
        kind: ref.kind ?? 'Service',
        namespace: ref.namespace ?? ns,
        crossNamespace: ref.namespace !== undefined && ref.namespace !== ns,
      });
    }),
  );
  return out;
}

export const isServiceBackend = (b: Backend): boolean => (b.group === '' || b.group === 'core') && b.kind === 'Service';
export const isHostnameBackend = (b: Backend): boolean => b.group === 'networking.istio.io' && b.kind === 'Hostname';

/** "all requests of rules[0]" or "2 of 10 weight of rules[0]": the share of a rule's traffic a backend gets. */
export function shareOf(route: GatewayRoute, b: Backend): string {
  const refs = (route.spec?.rules?.[b.rule]?.backendRefs ?? []).filter((r) => (r.weight ?? 1) > 0);
  if (refs.length <= 1) return `every request of rules[${b.rule}]`;
  const total = refs.reduce((s, r) => s + (r.weight ?? 1), 0);
  return `${b.ref.weight ?? 1} of ${total} weight of rules[${b.rule}]`;
}

// ---- listeners ------------------------------------------------------------------------------------------

/** The route kinds a listener's protocol takes (conversion.go generateSupportedKinds; TLS: either, as Istio versions differ). */
function protocolKinds(l: Listener): readonly string[] | undefined {
  switch (l.protocol) {
    case 'HTTP':
    case 'HTTPS':
      return ['HTTPRoute', 'GRPCRoute'];
    case 'TCP':
      return ['TCPRoute'];
    case 'TLS':
      return ['TLSRoute', 'TCPRoute'];
    default:
      return undefined;
  }
}

/** Whether the listener takes routes of this kind: its protocol's kinds, narrowed by allowedRoutes.kinds. undefined: a protocol Istio does not program as an ingress. */
export function listenerTakesKind(l: Listener, kind: string): boolean | undefined {
  const byProtocol = protocolKinds(l);
  if (!byProtocol) return undefined;
  if (!byProtocol.includes(kind)) return false;
  const allowed = l.allowedRoutes?.kinds;
  if (!allowed || allowed.length === 0) return true;
  return allowed.some((k) => k.kind === kind && (k.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP);
}

/** Kubernetes label selector semantics (an unknown operator selects nothing, as LabelSelectorAsSelector fails). */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const val = labels[e.key];
    const inValues = val !== undefined && (e.values ?? []).includes(val);
    switch (e.operator) {
      case 'In':
        if (!inValues) return false;
        break;
      case 'NotIn':
        if (inValues) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/**
 * Whether the listener's allowedRoutes.namespaces admits routes of `namespace` (conversion.go
 * namespacesFromSelector): Same (default) the Gateway's namespace, All every one, Selector those whose
 * labels (with kubernetes.io/metadata.name) match; Istio reads any other value without a selector as all.
 * undefined: a Selector and the namespace's labels are not in the input.
 */
export function listenerAdmitsNamespace(
  l: Listener,
  gatewayNamespace: string,
  namespace: string,
  index: MeshIndex,
  complete: boolean,
): boolean | undefined {
  const ns = l.allowedRoutes?.namespaces;
  const from = ns?.from ?? 'Same';
  if (from === 'Same') return namespace === gatewayNamespace;
  if (from === 'All' || !ns?.selector) return true;
  const obj = index.get(`Namespace//${namespace}`)?.object;
  if (!obj && !complete) return undefined;
  return selectorMatches(ns.selector, { ...(obj?.metadata.labels ?? {}), 'kubernetes.io/metadata.name': namespace });
}

/** Whether one of the route's hostnames (none: "*") matches the listener's (none: "*"), wildcards either way (host.Name.Matches). */
export function listenerAcceptsHostnames(l: Listener, hostnames: readonly string[] | undefined): boolean {
  const listenerHost = l.hostname ?? '*';
  const routeHosts = hostnames && hostnames.length > 0 ? hostnames : ['*'];
  return routeHosts.some((h) => hostsMatch(listenerHost, h));
}

// ---- ReferenceGrant -------------------------------------------------------------------------------------

/**
 * Whether a ReferenceGrant in `toNamespace` lets objects of fromKind in fromNamespace refer to the object
 * of toGroup/toKind named `toName` (a grant's `to` without a name covers every name).
 */
export function referenceGranted(
  index: MeshIndex,
  from: { kind: string; namespace: string },
  to: { group: string; kind: string; name: string; namespace: string },
): ReferenceGrant | undefined {
  const core = (g: string): string => (g === 'core' ? '' : g);
  return index
    .inNamespace<ReferenceGrant>('ReferenceGrant', to.namespace)
    .find(
      (g) =>
        (g.spec?.from ?? []).some(
          (f) => f.group === GATEWAY_API_GROUP && f.kind === from.kind && f.namespace === from.namespace,
        ) &&
        (g.spec?.to ?? []).some(
          (t) =>
            core(t.group) === core(to.group) &&
            t.kind === to.kind &&
            (t.name === undefined || t.name === '' || t.name === to.name),
        ),
    );
}
