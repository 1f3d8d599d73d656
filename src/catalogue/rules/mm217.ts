import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM217 = defineRule({
  id: 'MM217',
  name: 'serviceentry-protocol-conflict',
  summary:
    'Several ServiceEntries a namespace sees declare one host and port with different protocols: only one is used.',
  docs: {
    symptom:
      'Calls in the losing protocol fail: TLS into an HTTP listener, plaintext into a TLS one (connection reset, 400, 503).',
    cause:
      "A proxy has one service per host: ServiceEntries of one namespace for one host are merged port by port and the oldest entry's port wins (pilot/pkg/model/sidecar.go appendSidecarServices: a port number already present is not added again); entries in different namespaces are not merged and one of them is used whole. Either way one of the declared protocols is not what Envoy gets.",
    fix: 'None automatic: which protocol is right is a decision. Keep one declaration of the port, in one entry.',
    seeds: ['istioctl IST0177 (ConflictingServiceEntryProtocol)'],
    versions: 'All versions meshmedic judges.',
    verify: "inexpressible: which entry wins follows creation order, and no claim kind checks a listener's protocol.",
  },
  parameters: [],
  subjects: ['ServiceEntry'],
  reads: ['ServiceEntry', 'ConfigMap'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    ProtocolConflict: message({
      severity: 'warning',
      symptom: 'protocol ignored',
      template:
        "{se} declares {host} port {port} as {protocol} and {others} as {otherProtocols}, and proxies in {scope} see both: a proxy keeps one protocol for the port (the oldest entry's when they share a namespace), so calls in the other fail. Declare the port once.",
      certainty: 'One of the declared protocols is dropped; whether calls use it is not in the configuration.',
    }),
  },
});
