import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM218 = defineRule({
  id: 'MM218',
  name: 'conflicting-sidecars',
  summary:
    'Several Sidecars apply to one workload (overlapping workloadSelector, or several without one in a namespace): only one is used.',
  docs: {
    symptom:
      "The ignored Sidecar's egress hosts, ports and outboundTrafficPolicy do nothing: calls it imports can leave through PassthroughCluster or be blackholed (502/503 NR) for the workloads it meant to configure.",
    cause:
      'A proxy gets one Sidecar: Istio does not merge them (pilot/pkg/model/push_context.go doGetSidecarScope, "we assume that there will be only one sidecar config for a namespace"): Sidecars with a workloadSelector come first, each group ordered by creationTimestamp then name, and the first whose selector matches the pod\'s labels (or that has none) is used.',
    fix: 'None automatic: merging two Sidecars is a decision. Keep one Sidecar per workload and one without workloadSelector per namespace.',
    seeds: [
      'istioctl IST0110 (ConflictingSidecarWorkloadSelectors)',
      'istioctl IST0111 (MultipleSidecarsWithoutWorkloadSelectors)',
    ],
    versions: 'All versions meshmedic judges.',
    verify:
      'inexpressible: which Sidecar the author meant to apply is intent; the generator applies one by creation order.',
  },
  parameters: [],
  subjects: ['Sidecar'],
  reads: ['Sidecar', 'Pod', 'Namespace'],
  dataPlanes: ['sidecar'],
  messages: {
    SameWorkload: message({
      severity: 'warning',
      symptom: 'Sidecar ignored',
      template:
        "{sidecars} in {namespace} all select pod {pod}: Istio uses only {winner} (the oldest, then by name) for it and ignores the others' egress and outboundTrafficPolicy. Keep one Sidecar per workload.",
      certainty:
        "A Sidecar's settings are dropped for the pod; whether its calls need them is not in the configuration.",
    }),
    SeveralNamespaceWide: message({
      severity: 'warning',
      symptom: 'Sidecar ignored',
      template:
        "{sidecars} in {namespace} have no workloadSelector: Istio uses only {winner} (the oldest, then by name) for the namespace's workloads and ignores the others. Merge them into one Sidecar.",
      certainty: "A Sidecar's settings are dropped; whether calls need them is not in the configuration.",
    }),
  },
});
