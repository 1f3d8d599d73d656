import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM202 = defineRule({
  id: 'MM202',
  name: 'route-unknown-subset',
  summary: 'A VirtualService routes to a subset that no applicable DestinationRule defines (503 NC).',
  docs: {
    symptom: '503 NC (cluster_not_found) for the requests the route takes.',
    cause:
      "Istio makes a cluster per subset of the DestinationRule that applies to the caller (its namespace first, then the host's, then the root namespace); a subset none of them defines has no cluster.",
    fix: "None automatic: the subset's labels are unknown. Define the subset or fix its name.",
    seeds: ['istioctl IST0101 (subset)', 'Kiali KIA1107'],
    versions: 'All versions.',
  },
  parameters: [],
  subjects: ['VirtualService'],
  reads: ['DestinationRule', 'Service', 'ServiceEntry'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    SubsetNotDefined: message({
      severity: 'error',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template:
        '{vs} routes to subset {subset} of {host}, but the DestinationRule that applies ({drs}) does not define it: there is no cluster outbound|…|{subset}|{host}.',
      certainty: 'The snapshot is the whole mesh and the DestinationRule that applies lacks the subset.',
    }),
    NoSubsetsForHost: message({
      severity: 'error',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template:
        '{vs} routes to subset {subset} of {host}, but no DestinationRule defines subsets for it: there is no cluster outbound|…|{subset}|{host}.',
      certainty: 'The snapshot is the whole mesh and no DestinationRule applies to the host.',
    }),
    SubsetNotInInput: message({
      severity: 'warning',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template:
        '{vs} routes to subset {subset} of {host}, which no DestinationRule in the input defines (those that apply: {drs}): unless one applied from elsewhere does, there is no cluster outbound|…|{subset}|{host} (pass --complete if the input is the whole mesh).',
      certainty:
        'Offline manifests are often part of what is applied: DestinationRules for one host merge their subsets, and another may define it.',
    }),
  },
});
