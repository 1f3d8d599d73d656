import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const NO_PROXY =
  'no gateway proxy gets its servers ({servers}), so nothing listens for them: connections are refused, or another gateway answers 404 NR for {hosts}';

export const MM211 = defineRule({
  id: 'MM211',
  name: 'gateway-selects-no-workload',
  summary: 'An Istio Gateway whose selector matches no pod in any namespace: its servers are programmed nowhere.',
  docs: {
    symptom: "Connection refused, or 404 NR (route_not_found) from another gateway, for the Gateway's hosts.",
    cause:
      "Istio gives a Gateway's servers to the gateway proxies whose pod labels include spec.selector, in any namespace (PILOT_SCOPE_GATEWAY_TO_NAMESPACE off, the default). A selector no pod matches (a typo, the labels of another install) programs no listener anywhere. Judged only when the input holds some proxy's workload (a pod or template with a container named istio-proxy): application manifests alone say nothing about the gateways installed beside them.",
    fix: "None automatic: the intended gateway pods are unknown. Set spec.selector to the labels of the gateway deployment's pods (e.g. istio: ingressgateway).",
    seeds: ['istioctl IST0101 (ReferencedResourceNotFound: selector)'],
    versions:
      "All versions. With PILOT_SCOPE_GATEWAY_TO_NAMESPACE=true only pods of the Gateway's namespace count; meshmedic looks in every namespace, so it reports no more than Istio would. An empty selector selects every gateway proxy.",
    verify:
      'inexpressible: the claim is that no pod carries the labels; the oracle builds the proxies it is asked about and cannot show that none exists.',
  },
  parameters: [],
  subjects: ['Gateway'],
  reads: ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  dataPlanes: ['gateway'],
  messages: {
    NoWorkload: message({
      severity: 'error',
      symptom: 'no listener',
      detail: 'connection refused / 404 NR',
      template: `{gateway} selects no pod in any namespace ({selector}): ${NO_PROXY}.`,
      certainty:
        "The snapshot is the whole mesh, proxies' workloads included, and no pod or pod template carries the selector's labels.",
    }),
    NoWorkloadInInput: message({
      severity: 'warning',
      symptom: 'no listener',
      detail: 'connection refused / 404 NR',
      template: `{gateway} selects none of the pods or workloads in the input ({selector}): unless its gateway is deployed from elsewhere, ${NO_PROXY} (pass --complete if the input is the whole mesh).`,
      certainty:
        "The input holds Istio proxies' workloads (a container named istio-proxy) but none with the selector's labels; a gateway deployment may still be installed apart from these manifests (istioctl, Helm).",
    }),
  },
});
