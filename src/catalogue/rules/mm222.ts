import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const NEVER =
  'its JWT claim match ({key}) is a dynamic-metadata match on the jwt_authn filter, which no RequestAuthentication with jwtRules puts on {workloads}: {effect}';

export const MM222 = defineRule({
  id: 'MM222',
  name: 'jwt-claim-route-without-request-authentication',
  summary:
    'A gateway VirtualService routes on JWT claims (@request.auth.claims) but no RequestAuthentication applies to the gateway pods: the claim match never matches.',
  docs: {
    symptom:
      'Requests that carry the claim skip the claim route: they fall through to a later route, or get 404 NR (route_not_found) when none is left; a withoutHeaders claim match always matches instead.',
    cause:
      "Istio turns a headers (or withoutHeaders) key @request.auth.claims.<name> or @request.auth.claims[<name>] into a dynamic-metadata matcher on the envoy.filters.http.jwt_authn payload, not a header match (pilot/pkg/networking/core/route/route.go:1064-1078 TranslateRouteMatch, :1194-1200 translateMetadataMatch; pkg/jwt/routing.go:37-57 ToRoutingClaim). That metadata is written only by the jwt_authn filter, which Istio adds to a proxy only when a RequestAuthentication with jwtRules applies to it (pilot/pkg/security/authn/policy_applier.go:98-100, :168 PayloadInMetadata). A RequestAuthentication applies from the pod's namespace or the root namespace (pilot/pkg/model/authentication.go:282-305); for an Istio gateway pod by its selector, and one with a targetRef is ignored; for a Gateway API gateway pod (label gateway.networking.k8s.io/gateway-name) by a targetRef to its Gateway in the same namespace, or by its selector when it has no targetRef (pilot/pkg/model/policyattachment.go:122-201). Claim routes are only programmed on gateways: validation refuses them on a mesh-only VirtualService (pkg/config/validation/validation.go:1802-1808), so mesh bindings are not judged, as istioctl does (pkg/config/analysis/analyzers/virtualservice/jwtclaimroute.go:80-84). The gateway pods are those of the input the Gateway's selector picks; offline, when the input holds no proxy's workload at all (application manifests without the gateway deployment), the pods are taken to carry just the selector's labels, in any namespace, as istioctl analyzes with a dummy ingress gateway pod (pkg/config/analysis/local/defaults.go).",
    fix: 'None automatic: adding authentication policy is a security decision (which issuers and keys to trust, and whether requests without a token are still allowed). Apply a RequestAuthentication with the jwtRules of your token issuer to the gateway pods (spec.selector with their labels in their namespace or the root namespace, or a targetRef to the Gateway API Gateway).',
    seeds: ['istioctl IST0149 (JwtClaimBasedRoutingWithoutRequestAuthN)'],
    versions:
      'Istio 1.16 and later (JWT claim routing). istioctl counts any RequestAuthentication whose selector matches, including one with a targetRef or no jwtRules; meshmedic follows pilot, which ignores those, so it can report where istioctl does not. With ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY=false, Gateway API gateways ignore selector policies; meshmedic assumes the default (true).',
    verify:
      "inexpressible: the route Istio generates is the same with or without the RequestAuthentication (a metadata matcher on the jwt_authn payload); what differs is the gateway listener's jwt_authn HTTP filter, which no claim kind reads, and a simulated call carries no JWT.",
  },
  parameters: [],
  subjects: ['VirtualService'],
  reads: ['Gateway', 'RequestAuthentication', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  dataPlanes: ['gateway'],
  messages: {
    NoRequestAuthentication: message({
      severity: 'error',
      symptom: 'claim route never matches',
      detail: '404 NR / wrong route',
      template: `{vs} is bound to {gateway}; ${NEVER}.`,
      certainty:
        "The snapshot is the whole mesh: no RequestAuthentication with jwtRules in the gateway pods' namespace or the root namespace applies to them.",
    }),
    NoRequestAuthenticationInInput: message({
      severity: 'warning',
      symptom: 'claim route never matches',
      detail: '404 NR / wrong route',
      template: `{vs} is bound to {gateway}; unless a RequestAuthentication is applied from elsewhere, ${NEVER} (pass --complete if the input is the whole mesh).`,
      certainty:
        'No RequestAuthentication in the input applies to the gateway pods; security policy is often applied apart from the routing manifests.',
    }),
  },
});
