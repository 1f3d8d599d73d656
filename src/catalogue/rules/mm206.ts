import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** The `{why}` of MM206's messages: why Istio cannot merge the two servers. */
export const MM206_WHY = {
  tlsHost: 'both have TLS settings for host {host}',
  protocols: '{first} and {second} on one plaintext port: only HTTP servers share one',
} as const;

const DROP = 'Istio merges the Gateways of one gateway workload oldest first and drops the later server';

export const MM206 = defineRule({
  id: 'MM206',
  name: 'conflicting-gateway-servers',
  summary:
    'Two Gateways on the same gateway pods declare servers Istio cannot merge on one port: the later server is dropped (404 NR).',
  docs: {
    symptom:
      "404 NR (or a TCP connection handled as HTTP) for the dropped server's hosts: its VirtualServices get no listener or filter chain on that port.",
    cause:
      'pilot/pkg/model/gateway.go mergeGateways merges every Gateway selecting a workload, oldest first (creationTimestamp, then name, then namespace). On a port whose first server is plaintext, a later server is dropped unless both are HTTP (canMergeProtocols, "conflict with existing server"; TCP servers cannot share a port at all, "could not build RDS name"). A later server with TLS settings that repeats a host of an earlier one on the same port and bind is dropped ("duplicate host names").',
    fix: 'None automatic: which server should own the port is a decision. Move one server to another port, give the hosts to one Gateway, or merge the Gateways.',
    seeds: ['istioctl IST0145 (ConflictingGateways)'],
    versions: 'All versions.',
    verify:
      "ServerDropped and ServerWins: a request for the dropped server's first host, at a pod both Gateways select, does not use the route config Istio would have built for it (http.PORT, or https.PORT.NAME.GATEWAY.NAMESPACE); inexpressible for a dropped TCP or TLS passthrough server (no route config tells it apart), when the input gives no creation order (ServersConflict, OrderDependent), and when no pod carries both selectors (MayConflict).",
  },
  parameters: [],
  subjects: ['Gateway'],
  reads: ['Gateway', 'Pod'],
  dataPlanes: ['gateway'],
  messages: {
    ServerDropped: message({
      severity: 'error',
      symptom: '404 NR',
      template: `{gw}'s server on {server} is dropped: {other} also selects these gateway pods ({selector}) and its server on {otherServer} cannot share the port ({why}); ${DROP}, and {other} is older. The VirtualServices bound to {gw} for that port find no route.`,
      certainty:
        "The input gives both creation times and the Gateways select the same pods: Istio's merge order is known.",
    }),
    ServerWins: message({
      severity: 'warning',
      symptom: '404 NR',
      template: `{gw}'s server on {server} and {other}'s server on {otherServer} select the same gateway pods ({selector}) and cannot share the port ({why}): ${DROP}, so {other}'s is dropped today and its VirtualServices find no route. Re-creating {gw} would drop this one instead.`,
      certainty: "This Gateway's own server is served; the other Gateway's is the one that fails.",
    }),
    ServersConflict: message({
      severity: 'error',
      symptom: '404 NR',
      template: `{gw}'s server on {server} and {other}'s server on {otherServer} select the same gateway pods ({selector}) and cannot share the port ({why}): ${DROP}, so whichever of the two was created later is not served and its VirtualServices find no route.`,
      certainty: 'One of the two servers is certainly dropped; the input has no creation times to tell which.',
    }),
    OrderDependent: message({
      severity: 'warning',
      symptom: '404 NR',
      template: `{gw}'s server on {server} and {other}'s server on {otherServer} select the same gateway pods ({selector}): if {older} was created first, Istio cannot merge them ({why}) and drops {younger}'s server.`,
      certainty: 'Whether a server is dropped depends on the creation order, which the input does not give.',
    }),
    MayConflict: message({
      severity: 'warning',
      symptom: '404 NR',
      template: `{gw}'s server on {server} and {other}'s server on {otherServer} cannot share the port ({why}), and one selector contains the other ({selector}): on gateway pods that carry both, ${DROP}.`,
      certainty: 'No pod of the input carries both selectors: whether any gateway pod does is not known.',
    }),
  },
});
