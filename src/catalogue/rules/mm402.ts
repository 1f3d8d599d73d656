import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const ZTUNNEL =
  'ztunnel is an L4 proxy: it applies no VirtualService, DestinationRule or Service-attached (GAMMA) HTTPRoute/GRPCRoute; in ambient mode they are applied by the waypoint the destination Service is bound to (istio.io/use-waypoint), and by sidecar or gateway clients.';

export const MM402 = defineRule({
  id: 'MM402',
  name: 'l7-config-without-waypoint',
  summary:
    'A mesh VirtualService, a DestinationRule or a Service-attached HTTPRoute/GRPCRoute for a Service of an ambient namespace without a waypoint: ztunnel applies neither, so its routes, timeouts, retries, subsets and traffic policy do nothing.',
  docs: {
    symptom:
      'The configured routing, timeouts, retries, fault injection, subsets, load balancing, connection pools and outlier detection silently do not happen for ambient clients.',
    cause: `${ZTUNNEL} A Service of an ambient namespace (istio.io/dataplane-mode=ambient) with no istio.io/use-waypoint label on it or its namespace has no waypoint. Judged only when no namespace of the input that sees the object runs sidecars (sidecar clients there apply it).`,
    fix: 'None automatic: deploy a waypoint (istioctl waypoint apply -n NS --enroll-namespace) or label the Service istio.io/use-waypoint with an existing one.',
    seeds: ['Istio ambient L7 (waypoints)'],
    versions: 'Ambient mode (GA in 1.24).',
    verify: 'inexpressible: the oracle simulates sidecars and gateways, not ztunnel.',
  },
  parameters: [],
  subjects: ['VirtualService', 'DestinationRule', 'HTTPRoute', 'GRPCRoute'],
  reads: ['Service', 'Namespace', 'Pod'],
  dataPlanes: ['ztunnel'],
  messages: {
    RouteWithoutWaypoint: message({
      severity: 'warning',
      symptom: 'L7 config not applied',
      template:
        '{vs} routes {host}, a Service of the ambient namespace {namespace} with no waypoint: ztunnel applies no VirtualService, so its routes, timeouts and retries do nothing for ambient clients. Bind {service} to a waypoint (istio.io/use-waypoint) or remove the VirtualService.',
      certainty:
        'The labels show ambient and no waypoint; no 503 follows, but the configuration the user wrote does not take effect.',
    }),
    GatewayApiRouteWithoutWaypoint: message({
      severity: 'warning',
      symptom: 'L7 config not applied',
      template:
        '{route} is attached to {service}, a Service of the ambient namespace {namespace} with no waypoint: ztunnel applies no HTTP route, so its matches, filters and backends do nothing for ambient clients. Bind {service} to a waypoint (istio.io/use-waypoint) or remove the route.',
      certainty:
        'The labels show ambient and no waypoint, and no namespace of the input runs sidecars; no 503 follows, but the configuration the user wrote does not take effect.',
    }),
    PolicyWithoutWaypoint: message({
      severity: 'warning',
      symptom: 'L7 config not applied',
      template:
        '{dr} configures {host}, a Service of the ambient namespace {namespace} with no waypoint: ztunnel applies no DestinationRule, so its traffic policy and subsets do nothing for ambient clients. Bind {service} to a waypoint (istio.io/use-waypoint) or remove the DestinationRule.',
      certainty:
        'The labels show ambient and no waypoint; no 503 follows, but the configuration the user wrote does not take effect.',
    }),
  },
});
