import { K8S_GATEWAY } from '../../model/kinds.js';
import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const UNATTACHED = 'Istio does not attach the route to it, so requests for {hostnames} find no route there';

export const MM302 = defineRule({
  id: 'MM302',
  name: 'gateway-api-route-not-attached',
  summary:
    "A Gateway API route's parentRef names a Gateway (or Service) that does not exist, a listener it lacks, or one whose hostname, allowedRoutes namespaces or kinds exclude the route (404 NR).",
  docs: {
    symptom:
      '404 NR at the gateway (route_not_found), or no listener for TCP/TLS routes: the route is never programmed on that parent (status Accepted=False: NoMatchingParent, NoMatchingListenerHostname, NotAllowedByListeners).',
    cause:
      "Istio attaches a route to a parent Gateway listener only when the parentRef's sectionName and port select it, one route hostname matches the listener hostname (wildcards either way), the listener's allowedRoutes.namespaces (Same by default, All, or a Selector over the namespace's labels) admits the route's namespace, and the listener's protocol and allowedRoutes.kinds take the route's kind (pilot/pkg/config/kube/gateway/conversion.go referenceAllowed, namespacesFromSelector, generateSupportedKinds). A parentRef to a Gateway or Service that does not exist attaches nowhere. Only Istio ingress Gateways (GatewayClass controller istio.io/gateway-controller) are judged; Gateways of other controllers, waypoints and east-west gateways are not.",
    fix: "None automatic: whether the route or the Gateway is wrong is the owners' decision (widening allowedRoutes opens the Gateway to other namespaces).",
    seeds: ['Istio Gateway API route status Accepted=False', 'Gateway API spec, ParentReference and AllowedRoutes'],
    versions:
      'All Istio versions that serve the Gateway API. TLS listeners take TLSRoute, and TCPRoute when terminating, in current Istio (TCPRoute only in older ones): both are accepted here.',
    verify:
      "inexpressible: the oracle's simulated gateways receive no listener from a Gateway API Gateway (a call through its port finds none), so its routes cannot be called.",
  },
  parameters: [],
  subjects: ['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute'],
  reads: [K8S_GATEWAY, 'GatewayClass', 'Namespace', 'Service'],
  messages: {
    ParentNotFound: message({
      severity: 'error',
      symptom: '404 NR',
      detail: 'route_not_found',
      template: `{route} is attached to {parent}, which does not exist: ${UNATTACHED}.`,
      certainty: 'The snapshot is the whole mesh and holds no such parent: the route is programmed nowhere through it.',
    }),
    ParentNotInInput: message({
      severity: 'warning',
      symptom: '404 NR',
      detail: 'route_not_found',
      template: `{route} is attached to {parent}, which the input does not hold: unless it is applied from elsewhere, ${UNATTACHED} (pass --complete if the input is the whole mesh).`,
      certainty: 'Offline manifests are often part of what is applied: the parent may exist elsewhere.',
    }),
    NoSuchListener: message({
      severity: 'error',
      symptom: '404 NR',
      detail: 'route_not_found',
      template: `{route} names {section} of {parent}, which has no such listener (it has {listeners}): ${UNATTACHED}.`,
      certainty: 'The Gateway is in the snapshot and no listener has that name or port.',
    }),
    HostnameNotAccepted: message({
      severity: 'error',
      symptom: '404 NR',
      detail: 'route_not_found',
      template: `{route} has hostnames {hostnames}, which no listener of {parent} it can attach to accepts (listener hostnames {listenerHosts}): Istio does not attach the route to it, so requests for those hostnames find no route there.`,
      certainty:
        'Istio attaches a route to a listener only when a route hostname matches the listener hostname (NoMatchingListenerHostname).',
    }),
    NamespaceNotAllowed: message({
      severity: 'error',
      symptom: '404 NR',
      detail: 'route_not_found',
      template: `{route} is in namespace {namespace}, which the allowedRoutes.namespaces of {parent} do not admit ({allowed}): ${UNATTACHED}.`,
      certainty:
        "allowedRoutes.namespaces (Same by default) decides which namespaces may attach routes; the route's is not one of them (NotAllowedByListeners).",
    }),
    KindNotAllowed: message({
      severity: 'error',
      symptom: '404 NR',
      detail: 'route_not_found',
      template: `{route} is a {kind}, which no listener of {parent} it can attach to takes ({takes}): ${UNATTACHED}.`,
      certainty:
        'A listener takes the route kinds of its protocol, narrowed by allowedRoutes.kinds (NotAllowedByListeners).',
    }),
  },
});
