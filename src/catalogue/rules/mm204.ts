import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const RESOLVES = '(a name without "namespace/" resolves in {namespace}; the legacy "name.namespace" form in that namespace)';

export const MM204 = defineRule({
  id: 'MM204',
  name: 'virtualservice-missing-gateway',
  summary: 'A VirtualService names a Gateway that does not exist: its routes are never served (404 NR).',
  docs: {
    symptom: '404 NR at the gateway (route_not_found): no route for the VirtualService\'s hosts.',
    cause: 'spec.gateways names a Gateway no namespace holds (Istio resolves "name" in the VirtualService\'s namespace, "ns/name", and the legacy "name.ns" and "name.ns.svc.cluster.local"), or a name validation rejects ("./name").',
    fix: 'None automatic: the intended Gateway is unknown. Name it as namespace/name.',
    seeds: ['istioctl IST0101 (gateway)', 'Kiali KIA1102'],
    versions: 'All versions; legacy forms are served with a validation warning (pilot/pkg/model/config.go resolveGatewayName).',
  },
  parameters: [],
  subjects: ['VirtualService'],
  reads: ['Gateway'],
  messages: {
    GatewayNotFound: message({
      severity: 'error',
      symptom: '404 NR',
      template: `{vs} is bound to gateway {gateways}, which does not exist ${RESOLVES}: requests for {hosts} find no route.`,
      certainty: 'The snapshot is the whole mesh (the cluster, or analyze --complete) and holds no such Gateway: no gateway proxy serves these routes.',
    }),
    GatewayNotInInput: message({
      severity: 'warning',
      symptom: '404 NR',
      template: `{vs} is bound to gateway {gateways}, which the input does not hold ${RESOLVES}: unless it is applied from elsewhere, requests for {hosts} find no route (--complete: the input is the whole mesh).`,
      certainty: 'Offline manifests are often part of what is applied: the Gateway may exist elsewhere.',
    }),
    InvalidGatewayName: message({
      severity: 'error',
      symptom: '404 NR',
      template: "{vs} names gateway {gateways}, which Istio's validation rejects: the VirtualService is refused at admission, and requests for {hosts} find no route.",
      certainty: 'Validation rejects the name whatever else the mesh holds.',
    }),
  },
});
