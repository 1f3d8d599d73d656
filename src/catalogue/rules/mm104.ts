import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const NO_CLUSTER =
  'Envoy has no cluster {cluster}: every call the route takes fails (HTTP: 503 NC; TCP or TLS: the connection is closed), whatever the outbound traffic policy';
const FIX = 'Fix: a MESH_EXTERNAL ServiceEntry for {host} ({ports}) with resolution DNS.';

export const MM104 = defineRule({
  id: 'MM104',
  name: 'external-host-passthrough',
  summary:
    'A route (or traffic) reaches an external host that no ServiceEntry declares: 503 NC, or 503 UF/UC through PassthroughCluster.',
  docs: {
    symptom:
      '503 NC (cluster_not_found) for the calls a route to the host takes; 503 UF/UC in access logs for traffic through PassthroughCluster.',
    cause:
      'No ServiceEntry declares the external host. A route to it still names the cluster outbound|PORT||HOST (pilot/pkg/networking/core/route/route.go GetDestinationCluster builds it whether or not the host is in the registry; networkfilter.go does the same for TCP and TLS routes), which CDS does not hold: NC under ALLOW_ANY and REGISTRY_ONLY alike. Traffic no route takes leaves through PassthroughCluster (ALLOW_ANY), reusing the connections and IPs the application resolved, which fail once DNS, an ELB or an egress firewall moves on (the access-log form).',
    fix: 'A MESH_EXTERNAL ServiceEntry with the host, the routed (or observed) ports and protocols, resolution DNS; propose-only in Enforce (it creates an object).',
    seeds: ['seed 002'],
    versions:
      'All versions; checked against Istio master (~1.31): the route names the cluster without a registry lookup, and neither outboundTrafficPolicy mode substitutes PassthroughCluster or BlackHoleCluster for it.',
    verify: 'expressible (static form): the call that takes the route finds its cluster missing from CDS (503 NC).',
  },
  parameters: ['defaultRouteTimeout'],
  subjects: ['VirtualService'],
  // ServiceEntry decides the verdict; Service and Gateway pick the call its claim makes (src/rules/route-call.ts).
  reads: ['ServiceEntry', 'Service', 'Gateway'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    HostNotDeclared: message({
      severity: 'error',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template: `{vs} routes to {host}, which no ServiceEntry declares: ${NO_CLUSTER}. ${FIX}`,
      certainty:
        'The snapshot is the whole mesh and no entry declares the host: Envoy has no cluster for the route whatever the outbound traffic policy; the oracle confirms the 503 NC where it can pick the call.',
    }),
    HostNotInInput: message({
      severity: 'warning',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template: `{vs} routes to {host}, which no ServiceEntry in the input declares: unless one is applied from elsewhere, ${NO_CLUSTER} (pass --complete if the input is the whole mesh). ${FIX}`,
      certainty: 'Offline manifests are often part of what is applied: the ServiceEntry may exist elsewhere.',
    }),
    ForeignLocalHost: message({
      severity: 'warning',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template: `{vs} routes to {host}, a .local name outside the cluster domain {domain} (a federation's imported services, another mesh) that meshmedic cannot see declared: if nothing declares it, ${NO_CLUSTER}. ${FIX}`,
      certainty:
        'A .local name outside the cluster domain is declared where meshmedic cannot see (federation imports), even in the operator: the failure is not known.',
    }),
  },
});
