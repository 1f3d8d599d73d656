import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM201 = defineRule({
  id: 'MM201',
  name: 'route-unknown-host',
  summary:
    'A VirtualService routes to a cluster-local host that no Service or ServiceEntry declares, or to one not exported to the namespaces running it (503 NC).',
  docs: {
    symptom: '503 NC (cluster_not_found) for the requests the route takes.',
    cause:
      'Envoy has no cluster for a destination host no Service or ServiceEntry declares, or that the ones declaring it do not export to the proxy\'s namespace (ServiceEntry exportTo, the Service annotation networking.istio.io/exportTo, meshConfig.defaultServiceExportTo); short names resolve in the VirtualService\'s namespace. The namespaces that run a route are those its exportTo names (its own for none or "*", as istioctl looks it up) and those of the Gateways it binds.',
    fix: 'None automatic: the intended destination is unknown. Check the name and namespace.',
    seeds: ['istioctl IST0101 (host)', 'Kiali KIA1101'],
    versions: 'All versions.',
    verify:
      'expressible when a call can be picked that takes the route: it finds its cluster missing from CDS (503 NC), from a sidecar of the first namespace that runs the route (for the exportTo forms, a namespace the host is not exported to).',
  },
  parameters: [],
  subjects: ['VirtualService'],
  reads: ['Service', 'ServiceEntry', 'ConfigMap'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    HostNotFound: message({
      severity: 'error',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template:
        '{vs} routes to {host}, but no Service or ServiceEntry declares it. Check the name and namespace of the destination (short names resolve in {namespace}).',
      certainty: 'The snapshot is the whole mesh: Envoy has no cluster for the host.',
    }),
    HostNotInInput: message({
      severity: 'warning',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template:
        '{vs} routes to {host}, which no Service or ServiceEntry in the input declares: unless one is applied from elsewhere, Envoy has no cluster for it. Check the name and namespace of the destination (short names resolve in {namespace}; --complete: the input is the whole mesh).',
      certainty: 'Offline manifests are often part of what is applied: the Service may exist elsewhere.',
    }),
    HostNotExported: message({
      severity: 'error',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template:
        '{vs} routes to {host}, declared only by {declared}, none exported to the namespaces that run the route ({clients}): proxies there have no cluster for it. Export the host to those namespaces, or route to a host they see.',
      certainty:
        'The snapshot is the whole mesh: no other Service or ServiceEntry exports the host to those namespaces.',
    }),
    HostNotExportedInInput: message({
      severity: 'warning',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template:
        '{vs} routes to {host}, declared in the input only by {declared}, none exported to the namespaces that run the route ({clients}). Unless another Service or ServiceEntry applied from elsewhere exports it there, proxies there have no cluster for it (pass --complete if the input is the whole mesh).',
      certainty: 'Offline manifests are often part of what is applied: another declaration of the host may export it.',
    }),
  },
});
