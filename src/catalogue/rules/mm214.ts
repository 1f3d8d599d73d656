import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM214 = defineRule({
  id: 'MM214',
  name: 'inbound-port-protocol-conflict',
  summary:
    "Services that send one pod port both HTTP and a TCP protocol: the sidecar serves the port with one of them, and the other's connections fail.",
  docs: {
    symptom:
      'Connection reset (the inbound HTTP codec refuses a non-HTTP stream) for the clients of the Service that lost.',
    cause:
      'A sidecar builds one inbound filter chain per target port; when several Services target the port, the oldest Service\'s protocol is used (pilot/pkg/networking/core/listener_inbound.go getFilterChainsByServicePort: "If there is a conflict, we will use the oldest Service. This impacts the protocol used as well."). When that is HTTP (port name or appProtocol http, http2, grpc, grpc-web), the raw TCP (tcp, tls, https, mysql, mongo, redis) of another Service\'s clients meets an HTTP codec.',
    fix: 'None automatic: give the ports one protocol, or the Services different target ports.',
    seeds: [
      'istioctl IST0116 (DeploymentAssociatedToMultipleServices)',
      'istioctl IST0137 (DeploymentConflictingPorts)',
    ],
    versions:
      "All versions. Unlike istioctl, the conflict is judged per target port (what the sidecar keys on) and by Istio's protocol (port name, appProtocol), not the Service port and its Kubernetes protocol field; two Service ports on one target port with one protocol (IST0137 alone) fail nothing: the inbound cluster is inbound|TARGET||. A port whose protocol is detected (unnamed) serves both. Judged only for workloads known to have a sidecar (the namespace's istio-injection or istio.io/rev label, or the pod's sidecar.istio.io/inject).",
    verify:
      "inexpressible: which Service wins depends on creation order, which the oracle's generated cluster does not reproduce.",
  },
  parameters: [],
  subjects: ['Deployment', 'StatefulSet', 'DaemonSet'],
  reads: ['Service', 'Namespace'],
  dataPlanes: ['sidecar', 'waypoint'],
  messages: {
    HttpWinsOverTcp: message({
      severity: 'error',
      symptom: 'connection reset',
      detail: 'HTTP codec on a TCP stream',
      template:
        "{workload} port {port} is targeted as HTTP by {winner} (the oldest Service, whose protocol the sidecar uses) and as {protocol} by {losers}: their clients' connections meet the inbound HTTP codec and are reset.",
      certainty:
        'Creation times say which Service is oldest: its HTTP protocol is the one the sidecar serves the port with.',
    }),
    ProtocolConflict: message({
      severity: 'warning',
      symptom: 'connection reset',
      detail: 'HTTP codec on a TCP stream',
      template:
        "{workload} port {port} is targeted as HTTP by {http} and as {protocol} by {tcp}: the sidecar serves the port with the protocol of the oldest of these Services, and if that is an HTTP one, the other's connections are reset.",
      certainty:
        'Which Service is oldest (creationTimestamp) is not known from the input: if a TCP one is, HTTP requests pass through its TCP proxy and nothing fails.',
    }),
  },
});
