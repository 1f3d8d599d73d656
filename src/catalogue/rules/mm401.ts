import { K8S_GATEWAY } from '../../model/kinds.js';
import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const UNBOUND =
  'Istio binds the object to no waypoint (status WaypointIsNotReady, pilot/pkg/serviceregistry/ambient/waypoints.go fetchWaypointForTarget) and ztunnel sends its traffic straight to the pods: L4 only, so the HTTPRoutes, VirtualServices and waypoint AuthorizationPolicies meant for the waypoint are not applied.';

export const MM401 = defineRule({
  id: 'MM401',
  name: 'use-waypoint-not-found',
  summary:
    'An istio.io/use-waypoint label (Namespace, Service, ServiceEntry, Pod or pod template) names a waypoint Gateway that does not exist: traffic bypasses the waypoint and its L7 policy.',
  docs: {
    symptom:
      'No 503: requests reach the pods over ztunnel (L4), but the L7 routing, retries, timeouts and L7 authorization meant for the waypoint do not happen.',
    cause: `The label istio.io/use-waypoint (with istio.io/use-waypoint-namespace, default the labelled object's namespace) names a Gateway API Gateway (class istio-waypoint) that istiod looks up; the value "none" opts out. When no such Gateway exists, ${UNBOUND} A label on the object wins over its namespace's.`,
    fix: 'None automatic: creating a waypoint deploys a proxy and starts applying L7 policy. Create it (istioctl waypoint apply -n NS --name NAME) or correct/remove the label.',
    seeds: ['Istio ambient (pilot/pkg/serviceregistry/ambient/waypoints.go)'],
    versions: 'Ambient mode (GA in 1.24); istio.io/use-waypoint-namespace since 1.22.',
    verify: 'inexpressible: the oracle simulates sidecars and gateways, not ztunnel or waypoint binding.',
  },
  parameters: [],
  subjects: ['Namespace', 'Service', 'ServiceEntry', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet'],
  reads: [K8S_GATEWAY, 'Namespace'],
  messages: {
    WaypointNotFound: message({
      severity: 'warning',
      symptom: 'waypoint bypassed',
      template:
        '{object} is labelled istio.io/use-waypoint={waypoint}, but no Gateway {waypoint} exists: Istio binds it to no waypoint and ztunnel sends its traffic straight to the pods, so the L7 routes and policies meant for the waypoint are not applied. Create the waypoint or correct the label.',
      certainty: `The snapshot is the whole mesh: the Gateway is missing. Not an error: ${UNBOUND} Requests still succeed.`,
    }),
    WaypointNotInInput: message({
      severity: 'info',
      symptom: 'waypoint bypassed',
      template:
        '{object} is labelled istio.io/use-waypoint={waypoint}, but the input has no Gateway {waypoint}: unless it is applied from elsewhere, traffic bypasses the waypoint and its L7 routes and policies (pass --complete if the input is the whole mesh).',
      certainty:
        'Offline manifests are often part of what is applied (waypoints are often made by istioctl waypoint apply), and a missing waypoint fails no request.',
    }),
  },
});
