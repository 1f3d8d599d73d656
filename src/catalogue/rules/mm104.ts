import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const ROUTES = '{vs} routes to {host}, which no ServiceEntry or Service';
const EFFECT = 'Envoy has no cluster outbound|{port}||{host}, and connections that leave through PassthroughCluster keep stale IPs (503 UF/UC). Fix: a MESH_EXTERNAL ServiceEntry for {host} with resolution DNS.';

export const MM104 = defineRule({
  id: 'MM104',
  name: 'external-host-passthrough',
  summary: 'A route (or traffic) reaches an external host that no ServiceEntry declares: 503 NC, or 503 UF/UC through PassthroughCluster.',
  docs: {
    symptom: '503 NC for a route to the host; 503 UF/UC in access logs for traffic through PassthroughCluster.',
    cause: 'No ServiceEntry declares the external host: a route to it has no cluster, and traffic that leaves through PassthroughCluster reuses the connections and IPs the application resolved, which fail once DNS, an ELB or an egress firewall moves on.',
    fix: 'A MESH_EXTERNAL ServiceEntry with the host, the routed (or observed) ports and protocols, resolution DNS; propose-only in Enforce (it creates an object).',
    seeds: ['seed 002'],
    versions: 'All versions.',
    verify: 'expressible (static form): the call that takes the route finds its cluster missing from CDS (503 NC) or leaves through PassthroughCluster.',
  },
  parameters: ['defaultRouteTimeout'],
  subjects: ['VirtualService'],
  reads: ['ServiceEntry', 'Service'],
  messages: {
    HostNotDeclared: message({
      severity: 'error',
      symptom: '503 NC',
      template: `${ROUTES} declares: ${EFFECT}`,
      certainty: 'The snapshot is the whole mesh: Envoy has no cluster for the route; the oracle confirms the 503 NC where it can pick the call.',
    }),
    HostNotInInput: message({
      severity: 'warning',
      symptom: '503 NC',
      template: `${ROUTES} in the input declares: unless one is applied from elsewhere, ${EFFECT} (--complete: the input is the whole mesh)`,
      certainty: 'Offline manifests are often part of what is applied: the ServiceEntry may exist elsewhere.',
    }),
    ForeignLocalHost: message({
      severity: 'warning',
      symptom: '503 NC',
      template: `${ROUTES} declares here; {host} is a .local name outside the cluster domain (a federation's imported services, another mesh), declared where meshmedic cannot see. If nothing declares it, ${EFFECT}`,
      certainty: 'A .local name outside the cluster domain is declared where meshmedic cannot see.',
    }),
  },
});
