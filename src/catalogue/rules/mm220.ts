import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM220 = defineRule({
  id: 'MM220',
  name: 'route-destination-port',
  summary:
    "A route's destination port is one the Service does not declare, or a route without one goes to a port of a multi-port Service it lacks (503 NC).",
  docs: {
    symptom: '503 NC (cluster_not_found) for the requests the route takes.',
    cause:
      "The route's cluster is outbound|PORT|SUBSET|HOST with PORT the destination's port; without one, the Service's only port, and for a Service of several ports the port the request arrived on: the sidecar's listener port or the Gateway server's port (pilot/pkg/networking/core/route/route.go GetDestinationCluster). A port the Service does not declare has no cluster.",
    fix: 'A destination port the single-port Service does not have is set to that port; otherwise none automatic: set destination.port to the intended port of the Service.',
    seeds: ['istioctl IST0101 (host:port)', 'istioctl IST0112 (VirtualServiceDestinationPortSelectorRequired)'],
    versions: 'All versions.',
    verify:
      'expressible when a call can be picked that takes the route: the cluster the call is routed to is missing from CDS (503 NC); on the listener port the finding names for a route without a port.',
  },
  parameters: [],
  subjects: ['VirtualService'],
  reads: ['Service', 'ServiceEntry', 'Gateway'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    PortNotOnService: message({
      severity: 'error',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template:
        '{vs} routes to {host} port {port}, which {declared} does not declare (ports: {ports}): Envoy has no cluster {cluster}. Route to a port of the Service.',
      certainty: 'The Service is in the input with its ports, and its cluster exists only for those.',
    }),
    ListenerPortMissing: message({
      severity: 'error',
      symptom: '503 NC',
      detail: 'cluster_not_found',
      template:
        '{vs} routes to {host} without a destination port, and {host} has several ports ({ports}): requests the route takes on {where} go to {cluster}, a port {declared} does not declare, so Envoy has no cluster for them. Set destination.port.',
      certainty: 'The route is served on that port and the Service in the input lacks it.',
    }),
    PortSelectorRequired: message({
      severity: 'info',
      symptom: 'ambiguous port',
      template:
        '{vs} routes to {host} without a destination port while it declares several ports ({ports}): Envoy takes the port the request arrived on, and no port the route is served on is known here. Set destination.port to make it explicit.',
      certainty: 'Nothing fails while the route is only served on ports the Service declares.',
    }),
  },
});
