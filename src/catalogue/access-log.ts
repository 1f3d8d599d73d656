import { message } from './message-type.js';
import { defineMessages } from './rule-entry.js';

/** The access-log forms of MM104–MM106 (`meshmedic explain`, the operator's evidence): findings built from what proxies logged. */
export const MM104_LOG = defineMessages('MM104', {
  PassthroughStaleConnections: message({
    severity: 'error',
    symptom: '503 UF/UC',
    detail: 'through PassthroughCluster',
    template:
      "{requests} to {host}{upstream} left the mesh through PassthroughCluster because no ServiceEntry declares {host}; Envoy keeps reusing the connections and the IP the application resolved, which fail once DNS, an ELB or an egress firewall moves on. Fix: a MESH_EXTERNAL ServiceEntry for {host} ({ports}) with resolution DNS, so Envoy resolves the name itself.",
    certainty: 'The proxies logged the failures: they happened.',
  }),
});

const SEMANTICS = "route timeouts are disabled by default since Istio 1.0 (15 s was Envoy's default before), so a 504 UT means a timeout or perTryTimeout is set somewhere";
const HEAD = '{requests} to {host} {were} cut after {p50} ms (p50) ≈ {rounded}';

export const MM105_LOG = defineMessages('MM105', {
  RouteTimeoutCut: message({
    severity: 'warning',
    symptom: '504 UT',
    template: `${HEAD}, the {matched}; ${SEMANTICS}. Fix: {target} (the policy's defaultRouteTimeout).`,
    certainty: 'The requests were cut by a timeout the manifests set; whether a longer wait is acceptable is a decision: a risk.',
  }),
  TimeoutWithoutRoute: message({
    severity: 'warning',
    symptom: '504 UT',
    template: `${HEAD}{passthrough}; ${SEMANTICS} (an old proxy default, an EnvoyFilter or the client's x-envoy-upstream-rq-timeout-ms). Fix: a VirtualService for {host} with timeout {target} (the policy's defaultRouteTimeout){withEntry}.`,
    certainty: 'No manifest sets the timeout that fired: where it comes from is not known.',
  }),
});

export const MM106_LOG = defineMessages('MM106', {
  KeepAliveRace: message({
    severity: 'warning',
    symptom: '503 UC',
    detail: 'inbound',
    template:
      "on inbound cluster {targets}: {requests} hit a connection the application had closed (keep-alive race: upstream_reset_before_response_started, connection_termination); {what}, not below the applications' {assumed}keep-alive {keepAlive}, and the DestinationRule's pool also applies to the server's inbound cluster. Fix (propose only): connectionPool.http.idleTimeout {target}{retry}.",
    certainty: 'The race depends on timing and on the application: the logged resets point at it, they do not prove it.',
  }),
});
