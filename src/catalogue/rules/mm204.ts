import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const RESOLVES =
  '(a name without "namespace/" resolves in {namespace}; the legacy "name.namespace" form in that namespace)';

export const MM204 = defineRule({
  id: 'MM204',
  name: 'virtualservice-missing-gateway',
  summary:
    'A VirtualService names a Gateway that does not exist, in spec.gateways or in a match: its routes (or that match) are never served (404 NR).',
  docs: {
    symptom: "404 NR at the gateway (route_not_found): no route for the VirtualService's hosts.",
    cause:
      'spec.gateways names a Gateway no namespace holds (Istio resolves "name" in the VirtualService\'s namespace, "ns/name", and the legacy "name.ns" and "name.ns.svc.cluster.local"), or a name validation rejects ("./name"). An http[].match[].gateways entry restricts that match to the gateways it names (pilot/pkg/networking/core/route sourceMatchHTTP): when none of them exists, the match never applies.',
    fix: 'None automatic: the intended Gateway is unknown. Name it as namespace/name.',
    verify: 'Inexpressible: the Gateway does not exist, so there is no gateway proxy to simulate.',
    seeds: ['istioctl IST0101 (gateway)', 'Kiali KIA1102'],
    versions:
      'All versions; legacy forms are served with a validation warning (pilot/pkg/model/config.go resolveGatewayName).',
  },
  parameters: [],
  subjects: ['VirtualService'],
  reads: ['Gateway'],
  dataPlanes: ['gateway'],
  messages: {
    GatewayNotFound: message({
      severity: 'error',
      symptom: '404 NR',
      template: `{vs} is bound to gateway {gateways}, which does not exist ${RESOLVES}: requests for {hosts} find no route.`,
      certainty:
        'The snapshot is the whole mesh (the cluster, or analyze --complete) and holds no such Gateway: no gateway proxy serves these routes.',
    }),
    GatewayNotInInput: message({
      severity: 'warning',
      symptom: '404 NR',
      template: `{vs} is bound to gateway {gateways}, which the input does not hold ${RESOLVES}: unless it is applied from elsewhere, requests for {hosts} find no route (pass --complete if the input is the whole mesh).`,
      certainty: 'Offline manifests are often part of what is applied: the Gateway may exist elsewhere.',
    }),
    MatchGatewayNotFound: message({
      severity: 'error',
      symptom: '404 NR',
      template: `{vs} http[{route}].match[{match}] applies only on gateway {gateways}, which does not exist ${RESOLVES}: the match never applies, and the requests it was written for fall through to later routes or find no route.`,
      certainty:
        'The snapshot is the whole mesh and holds none of the gateways the match names: no proxy ever applies it.',
    }),
    MatchGatewayNotInInput: message({
      severity: 'warning',
      symptom: '404 NR',
      template: `{vs} http[{route}].match[{match}] names gateway {gateways}, which the input does not hold ${RESOLVES}: unless it is applied from elsewhere, the match never applies there (pass --complete if the input is the whole mesh).`,
      certainty: 'Offline manifests are often part of what is applied: the Gateway may exist elsewhere.',
    }),
    MatchNamesMissingGateway: message({
      severity: 'warning',
      symptom: '404 NR',
      template: `{vs} http[{route}].match[{match}] names gateway {gateways}, which does not exist ${RESOLVES}; the match still applies on {others}. Remove or correct the name.`,
      certainty:
        'The match still applies on the other gateways it names: only requests meant for the missing one are not matched.',
    }),
    InvalidGatewayName: message({
      severity: 'error',
      symptom: '404 NR',
      template:
        "{vs} names gateway {gateways}, which Istio's validation rejects: the VirtualService is refused at admission, and requests for {hosts} find no route.",
      certainty: 'Validation rejects the name whatever else the mesh holds.',
    }),
  },
});
