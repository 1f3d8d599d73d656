import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM219 = defineRule({
  id: 'MM219',
  name: 'conflicting-mesh-virtualservices',
  summary:
    "Several mesh VirtualServices declare one host for the sidecars of one namespace (only the first one's routes are used), or two catch-all routes serve one host on a Gateway.",
  docs: {
    symptom:
      "The other VirtualService's routes silently do nothing for that host: requests go where the first one sends them, or 404 NR when none of its routes match.",
    cause:
      "Sidecars do not merge VirtualServices (only delegates merge into their root): for each host and port the first VirtualService builds the virtual host and later ones with the same host are dropped as duplicate domains (pilot/pkg/networking/core/httproute.go buildVirtualHost). The order a sidecar of namespace N sees (pilot/pkg/model/virtualservice.go SelectVirtualServices): those of N exported to N only, then those of other namespaces exported to N by name, then those exported to all; each group by creationTimestamp, then name, then namespace. Wildcard hosts that merely overlap are not dropped (Envoy picks the most specific domain). A Gateway merges the VirtualServices bound to it for one host (pilot/pkg/networking/core/gateway.go vHostDedupMap) and moves catch-all routes last, keeping their order (route.go SortVHostRoutes): there only a catch-all after another VirtualService's catch-all is lost (the Gateway's namespace is taken as its pods').",
    fix: 'None automatic: merging two VirtualServices needs a decision on route order. Merge them into one, or use delegation.',
    seeds: ['istioctl IST0109 (ConflictingMeshGatewayVirtualServiceHosts)'],
    versions: 'All versions meshmedic judges.',
    verify: 'inexpressible: no claim kind checks which VirtualService a route comes from.',
  },
  parameters: [],
  subjects: ['VirtualService'],
  reads: ['VirtualService', 'ConfigMap'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    RoutesDropped: message({
      severity: 'warning',
      symptom: 'routes ignored',
      template:
        "{vs} and {others} declare host {host} for the sidecars of {scope}: there Istio uses only {winner} for it ({why}) and drops {vs}'s routes for that host. Merge them into one VirtualService or use delegation.",
      certainty:
        'The routes are dropped for certain; whether the requests they meant to take fail or reach another backend depends on the kept VirtualService.',
    }),
    GatewayCatchAllShadowed: message({
      severity: 'warning',
      symptom: 'route never matches',
      template:
        "{vs} and {winner} both serve {host} on {gateway} with a catch-all route: the gateway merges their routes and keeps catch-alls last in order, so {winner}'s catch-all takes every request the other routes leave and {vs}'s catch-all never matches. Merge them into one VirtualService or give the routes distinct matches.",
      certainty: 'The catch-all is unreachable for certain; whether its backend was meant to get traffic is intent.',
    }),
    ShadowsOthers: message({
      severity: 'warning',
      symptom: 'routes ignored',
      template:
        '{vs} and {others} declare host {host} for the sidecars of {scope}: Istio uses only {vs} for it there ({why}) and drops the routes of {others} for that host. Merge them into one VirtualService or use delegation.',
      certainty:
        "The other VirtualServices' routes are dropped for certain; whether their requests fail depends on this one's routes.",
    }),
  },
});
