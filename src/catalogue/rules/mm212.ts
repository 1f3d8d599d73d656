import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const UNREACHABLE =
  'Istio binds the listener on port {port} of the gateway pods, which no Service port forwards to: clients of the gateway Service cannot reach the server for {hosts}';

export const MM212 = defineRule({
  id: 'MM212',
  name: 'gateway-port-not-on-service',
  summary:
    'An Istio Gateway server port that neither a port nor a target port of the Services selecting the gateway pods exposes.',
  docs: {
    symptom: "Connection refused or timed out at the gateway Service (the load balancer) for the server's port.",
    cause:
      'For a server port that is a port of a Service selecting the gateway pods, Istio listens on its targetPort; otherwise on the server port itself (pilot/pkg/model/gateway.go resolvePorts, legacy selector). A port that is neither a Service port nor a target port gets a listener no Service forwards to.',
    fix: 'None automatic: either the Gateway port is wrong or the Service lacks a port, and exposing a new port on the gateway Service (often a public load balancer) is a decision to make by hand.',
    seeds: ['istioctl IST0162 (GatewayPortNotDefinedOnService)'],
    versions:
      "All versions. Only TCP Service ports count (UDP ones serve HTTP/3 only). A named targetPort is resolved from the gateway pods' container ports; when it cannot be, the port is not judged.",
    verify:
      'inexpressible: Service port forwarding happens in kube-proxy, not Envoy; the oracle shows the gateway listener, which exists on the port.',
  },
  parameters: [],
  subjects: ['Gateway'],
  reads: ['Service', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  dataPlanes: ['gateway'],
  messages: {
    PortNotOnService: message({
      severity: 'error',
      symptom: 'connection refused',
      template: `{gateway} server port {port} is neither a port nor a target port of the Services selecting its gateway pods ({services}: {exposed}): ${UNREACHABLE}.`,
      certainty: 'The snapshot is the whole mesh: no Service selecting the gateway pods forwards to the port.',
    }),
    PortNotOnServiceInInput: message({
      severity: 'warning',
      symptom: 'connection refused',
      template: `{gateway} server port {port} is neither a port nor a target port of the Services in the input selecting its gateway pods ({services}: {exposed}): unless another Service applied from elsewhere exposes it, ${UNREACHABLE} (pass --complete if the input is the whole mesh).`,
      certainty:
        'Offline manifests are often part of what is applied: another Service (a NodePort, an internal load balancer) may select the gateway pods and expose the port.',
    }),
  },
});
