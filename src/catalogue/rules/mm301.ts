import { K8S_GATEWAY } from '../../model/kinds.js';
import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const INEXPRESSIBLE =
  "inexpressible: the oracle's simulated gateways receive no listener from a Gateway API Gateway (a call through its port finds none), so its routes cannot be called.";

export const MM301 = defineRule({
  id: 'MM301',
  name: 'gateway-api-backend-not-found',
  summary:
    'An HTTPRoute, GRPCRoute, TCPRoute or TLSRoute sends traffic to a Service (or Istio Hostname) that does not exist, or to a port the Service does not have (500).',
  docs: {
    symptom:
      '500 NC (cluster_not_found) for the requests the backend gets: with Gateway API semantics Istio sets cluster_not_found_response_code INTERNAL_SERVER_ERROR; the route reports ResolvedRefs=False (BackendNotFound).',
    cause:
      "A backendRef (weight > 0) names a Service that is not in its namespace (the route's, or backendRef.namespace), a `networking.istio.io` `Hostname` no Service or ServiceEntry declares, or a port the Service does not declare: Istio keeps the destination (pilot/pkg/config/kube/gateway/conversion.go buildDestination) and Envoy has no cluster for it. Only routes attached to an Istio ingress Gateway read (GatewayClass controller istio.io/gateway-controller) or to a Service (GAMMA) are judged.",
    fix: 'None automatic: the intended backend is unknown. Check the name, namespace and port of the backendRef.',
    seeds: [
      'Istio Gateway API status ResolvedRefs=False (BackendNotFound)',
      'istioctl IST0101 (the Istio API form: MM201)',
    ],
    versions:
      'All Istio versions that serve the Gateway API (1.16 on); 500 rather than 503 since gateway semantics set cluster_not_found_response_code.',
    verify: INEXPRESSIBLE,
  },
  parameters: [],
  subjects: ['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute'],
  reads: ['Service', 'ServiceEntry', K8S_GATEWAY, 'GatewayClass'],
  messages: {
    BackendNotFound: message({
      severity: 'error',
      symptom: '500 NC',
      detail: 'cluster_not_found',
      template:
        '{route} sends {share} to {backend}, which does not exist: Istio marks the route ResolvedRefs=False and answers 500 for those requests. Check the name and namespace of the backendRef.',
      certainty: 'The snapshot is the whole mesh: Envoy has no cluster for the backend.',
    }),
    BackendNotInInput: message({
      severity: 'warning',
      symptom: '500 NC',
      detail: 'cluster_not_found',
      template:
        '{route} sends {share} to {backend}, which the input does not hold: unless it is applied from elsewhere, Istio answers 500 for those requests (pass --complete if the input is the whole mesh).',
      certainty: 'Offline manifests are often part of what is applied: the Service may exist elsewhere.',
    }),
    PortNotFound: message({
      severity: 'error',
      symptom: '500 NC',
      detail: 'cluster_not_found',
      template:
        "{route} sends {share} to port {port} of {backend}, which declares only {ports}: Envoy has no cluster for that port and Istio answers 500. Use one of the Service's ports.",
      certainty: 'The Service is in the snapshot and does not declare the port: there is no cluster for it.',
    }),
  },
});
