import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM205 = defineRule({
  id: 'MM205',
  name: 'virtualservice-host-not-on-gateway',
  summary:
    "A VirtualService bound to a Gateway lists hosts none of the Gateway's servers accept: no virtual host for them (404 NR).",
  docs: {
    symptom:
      "404 NR at the gateway (route_not_found) for the VirtualService's hosts, or no listener at all when the Gateway has no server.",
    cause:
      'Istio gives a VirtualService bound to a Gateway a virtual host only for the hosts that intersect a server\'s hosts (pilot/pkg/networking/core/gateway.go: serverHosts.Intersection(virtualServiceHosts), "continue" when empty). ' +
      "A server host `ns/host` binds only VirtualServices of namespace ns, `./host` those of the Gateway's namespace, `*/host` and a bare `host` any namespace (pkg/config/host NamesForNamespace); `*` and `*.suffix` are wildcards.",
    fix: "None automatic: adding the host to a server changes what the gateway serves, and removing it from the VirtualService changes what it routes. Correct the VirtualService hosts, or the Gateway servers' hosts (and their namespace part).",
    seeds: ['istioctl IST0132 (VirtualServiceHostNotFoundInGateway)'],
    versions: 'All versions.',
    verify:
      'HostNotOnAnyGateway: a request for the host at a pod the first bound Gateway selects finds no listener, filter chain, virtual host or route. HostServedByOther is inexpressible (the simulation does not say which VirtualService a route came from). GatewayServesNoHost is inexpressible: the hosts are served through other gateways, and whether a request fails depends on which pods it is sent to.',
  },
  parameters: [],
  subjects: ['VirtualService'],
  reads: ['Gateway'],
  messages: {
    HostNotOnAnyGateway: message({
      severity: 'error',
      symptom: '404 NR',
      detail: 'route_not_found',
      template:
        '{vs} is bound to {gateways}, but no server of {them} accepts {hosts} for a VirtualService of namespace {namespace}: the gateway has no virtual host for them from this VirtualService, and requests for them find no route unless another VirtualService serves them. The servers accept {serverHosts}.',
      certainty:
        "The Gateways are in the input: Istio's gateway generator skips every host that intersects no server's hosts.",
    }),
    HostServedByOther: message({
      severity: 'warning',
      symptom: 'routes unused',
      template:
        "{vs} is bound to {gateways}, but no server of {them} accepts {hosts} for a VirtualService of namespace {namespace} (they accept {serverHosts}): this VirtualService's routes for them are never used at the gateway; requests for them there take the routes of {other} instead.",
      certainty:
        'Nothing answers 404: another VirtualService serves the hosts on the same gateway pods, so whether the traffic goes where it should depends on what that VirtualService routes to.',
    }),
    GatewayServesNoHost: message({
      severity: 'warning',
      symptom: '404 NR',
      detail: 'route_not_found',
      template:
        "{vs} is bound to {gateway}, but no server of it accepts any of {hosts} for a VirtualService of namespace {namespace} (it accepts {serverHosts}): the binding does nothing, and requests for these hosts sent to that Gateway's pods find no route. The VirtualService's other gateways (or the mesh) may serve them.",
      certainty:
        "The hosts are served through another bound Gateway: only requests sent to this Gateway's pods fail, which may never happen.",
    }),
  },
});
