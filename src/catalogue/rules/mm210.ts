import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const NO_ENDPOINTS =
  'its cluster outbound|…|{subset}|{host} has no endpoints, so every request routed to the subset fails';

export const MM210 = defineRule({
  id: 'MM210',
  name: 'dr-subset-selects-no-pod',
  summary:
    "A DestinationRule subset whose labels select none of the Service's pods: its cluster has no endpoints (503 UH).",
  docs: {
    symptom: '503 UH (no_healthy_upstream) for the requests a VirtualService routes to the subset.',
    cause:
      "A subset's endpoints are the endpoints of the host's Service (the pods its selector picks in its namespace), or those a ServiceEntry lists inline, whose labels include the subset's labels (pilot/pkg/xds/endpoints/endpoint_builder.go: subsetLabels.SubsetOf(ep.Labels)). Istio adds the node's topology.kubernetes.io/region, topology.kubernetes.io/zone and topology.istio.io/subzone (when not empty) and kubernetes.io/hostname to a pod's labels (pilot/pkg/serviceregistry/util/label AugmentLabels), so a subset can select on them; an empty value never matches.",
    fix: "None automatic: either the subset's labels or the pods' labels are wrong, and which is unknown.",
    seeds: ['istioctl IST0173 (DestinationRuleSubsetNotSelectPods)'],
    versions:
      "All versions. Unlike istioctl, only the pods of the host's Service count (a pod of another Service with the labels gives the subset no endpoint), and a label meshmedic cannot know (topology.istio.io/cluster and network, a template's node, an unlisted Node) counts as matching.",
    verify:
      'inexpressible: a cluster without endpoints is an EDS fact; the oracle reads listeners, clusters and routes.',
  },
  parameters: [],
  subjects: ['DestinationRule'],
  reads: [
    'Service',
    'ServiceEntry',
    'VirtualService',
    'Pod',
    'Deployment',
    'StatefulSet',
    'DaemonSet',
    'ReplicaSet',
    'Node',
  ],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    SubsetSelectsNoPod: message({
      severity: 'error',
      symptom: '503 UH',
      detail: 'no_healthy_upstream',
      template: `{dr} subset {subset} ({labels}) selects none of the pods of {service} ({workloads}), and {routes} route to it: ${NO_ENDPOINTS}.`,
      certainty:
        "The snapshot is the whole mesh, workloads included: no pod or pod template the Service selects carries the subset's labels, and a VirtualService sends requests to it.",
    }),
    SubsetSelectsNoPodInInput: message({
      severity: 'warning',
      symptom: '503 UH',
      detail: 'no_healthy_upstream',
      template: `{dr} subset {subset} ({labels}) selects none of the pods of {service} in the input ({workloads}), and {routes} route to it: unless a workload applied from elsewhere carries these labels, ${NO_ENDPOINTS} (pass --complete if the input is the whole mesh).`,
      certainty:
        "The input holds workloads of the Service, none with the subset's labels; offline manifests are often part of what runs, and another workload (a canary, another release) may carry them.",
    }),
    UnroutedSubsetSelectsNoPod: message({
      severity: 'info',
      symptom: '(latent)',
      detail: '503 UH once routed',
      template:
        '{dr} subset {subset} ({labels}) selects none of the pods of {service} in the input ({workloads}); no VirtualService in the input routes to it: a route to it would find its cluster outbound|…|{subset}|{host} without endpoints.',
      certainty:
        'Nothing in the input routes to the subset, so no request fails now (a sample DestinationRule often defines subsets for versions not deployed yet).',
    }),
    SubsetSelectsNoEndpoint: message({
      severity: 'error',
      symptom: '503 UH',
      detail: 'no_healthy_upstream',
      template: `{dr} subset {subset} ({labels}) selects none of the endpoints {service} lists ({workloads}), and {routes} route to it: ${NO_ENDPOINTS}.`,
      certainty:
        "The snapshot is the whole mesh and the ServiceEntries of the host list their endpoints inline (no workloadSelector): none carries the subset's labels.",
    }),
    SubsetSelectsNoEndpointInInput: message({
      severity: 'warning',
      symptom: '503 UH',
      detail: 'no_healthy_upstream',
      template: `{dr} subset {subset} ({labels}) selects none of the endpoints {service} lists ({workloads}), and {routes} route to it: unless another ServiceEntry for the host applied from elsewhere adds one, ${NO_ENDPOINTS} (pass --complete if the input is the whole mesh).`,
      certainty:
        "The input's ServiceEntries of the host list their endpoints inline and none carries the labels; another entry for the host may exist elsewhere.",
    }),
    UnroutedSubsetSelectsNoEndpoint: message({
      severity: 'info',
      symptom: '(latent)',
      detail: '503 UH once routed',
      template:
        '{dr} subset {subset} ({labels}) selects none of the endpoints {service} lists ({workloads}); no VirtualService in the input routes to it: a route to it would find its cluster outbound|…|{subset}|{host} without endpoints.',
      certainty: 'Nothing in the input routes to the subset, so no request fails now.',
    }),
    ServiceSelectsNoPod: message({
      severity: 'error',
      symptom: '503 UH',
      detail: 'no_healthy_upstream',
      template:
        "{dr} defines subsets ({subsets}) of {service}, whose selector ({selector}) matches no pod or workload: the Service has no endpoints, nor has any subset's cluster (outbound|…|SUBSET|{host}), and every request to it fails.",
      certainty: 'The snapshot is the whole mesh, workloads included, and none of them is selected by the Service.',
    }),
  },
});
