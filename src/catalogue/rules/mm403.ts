import { K8S_GATEWAY } from '../../model/kinds.js';
import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM403 = defineRule({
  id: 'MM403',
  name: 'waypoint-serviceentry-without-address',
  summary:
    'A ServiceEntry bound to a waypoint has no address ztunnel can match (no spec.addresses, and resolution NONE or auto-allocation turned off): its traffic never reaches the waypoint.',
  docs: {
    symptom:
      "No 503 from this by itself: connections to the entry's hosts leave without the waypoint, so the L7 routes, policies and telemetry meant for it do not happen (istio#53620, istio#54981).",
    cause:
      "ztunnel redirects to a Service's waypoint by the destination address: a ServiceEntry's addresses are its spec.addresses or the ones istiod auto-allocates (pilot/pkg/serviceregistry/ambient/services.go serviceEntryServices). Istio never auto-allocates for resolution NONE or with the label networking.istio.io/enable-autoallocate-ip=false (pkg/networking/serviceentry/ip_autoallocation.go shouldV2AutoAllocateIPFromPieces), so such an entry without spec.addresses has nothing ztunnel can match. With auto-allocation (and ambient DNS capture, on by default since 1.25) it works and is not flagged.",
    fix: "None automatic: the address is the service's. Set spec.addresses (or use resolution DNS/STATIC and let Istio allocate one).",
    seeds: ['istio#53620', 'istio#54981'],
    versions: 'Ambient mode; IP auto-allocation v2 since 1.23 (PILOT_ENABLE_IP_AUTOALLOCATE, default on).',
    verify: "inexpressible: the oracle simulates sidecars and gateways, not ztunnel's redirection to waypoints.",
  },
  parameters: [],
  subjects: ['ServiceEntry'],
  reads: ['Namespace', K8S_GATEWAY],
  dataPlanes: ['ztunnel', 'waypoint'],
  messages: {
    NoAddressForWaypoint: message({
      severity: 'warning',
      symptom: 'waypoint bypassed',
      template:
        '{se} is bound to waypoint {waypoint} but has no spec.addresses, and Istio allocates none ({why}): ztunnel cannot match its traffic to redirect it, so the waypoint never sees it. Set spec.addresses.',
      certainty:
        "From the entry alone: no address can exist. No request fails by itself, but the waypoint's L7 configuration does not apply.",
    }),
  },
});
