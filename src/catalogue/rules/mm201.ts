import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM201 = defineRule({
  id: 'MM201',
  name: 'route-unknown-host',
  summary: 'A VirtualService routes to a cluster-local host that no Service or ServiceEntry declares (503 NC).',
  docs: {
    symptom: '503 NC (cluster_not_found) for the requests the route takes.',
    cause: 'Envoy has no cluster for a destination host no Service or ServiceEntry declares; short names resolve in the VirtualService\'s namespace.',
    fix: 'None automatic: the intended destination is unknown. Check the name and namespace.',
    seeds: ['istioctl IST0101 (host)', 'Kiali KIA1101'],
    versions: 'All versions.',
  },
  parameters: [],
  subjects: ['VirtualService'],
  reads: ['Service', 'ServiceEntry'],
  messages: {
    HostNotFound: message({
      severity: 'error',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template: '{vs} routes to {host}, but no Service or ServiceEntry declares it. Check the name and namespace of the destination (short names resolve in {namespace}).',
      certainty: 'The snapshot is the whole mesh: Envoy has no cluster for the host.',
    }),
    HostNotInInput: message({
      severity: 'warning',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template: '{vs} routes to {host}, which no Service or ServiceEntry in the input declares: unless one is applied from elsewhere, Envoy has no cluster for it. Check the name and namespace of the destination (short names resolve in {namespace}; --complete: the input is the whole mesh).',
      certainty: 'Offline manifests are often part of what is applied: the Service may exist elsewhere.',
    }),
  },
});
