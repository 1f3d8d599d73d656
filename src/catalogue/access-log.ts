import { message } from './message-type.js';
import { defineMessages } from './rule-entry.js';

/** The access-log forms of MM104–MM106 and MM210 (`meshmedic explain`, the operator's evidence): findings built from what proxies logged. */
export const MM104_LOG = defineMessages('MM104', {
  PassthroughStaleConnections: message({
    severity: 'error',
    symptom: '503 UF/UC',
    detail: 'through PassthroughCluster',
    template:
      '{requests} to {host}{upstream} left the mesh through PassthroughCluster because no ServiceEntry declares {host}; Envoy keeps reusing the connections and the IP the application resolved, which fail once DNS, an ELB or an egress firewall moves on. Fix: a MESH_EXTERNAL ServiceEntry for {host} ({ports}) with resolution DNS, so Envoy resolves the name itself.',
    certainty: 'The proxies logged the failures: they happened.',
  }),
});

const SEMANTICS =
  "route timeouts are disabled by default since Istio 1.0 (15 s was Envoy's default before), so a 504 UT means a timeout or perTryTimeout is set somewhere";
const HEAD = '{requests} to {host} {were} cut after {p50} ms (p50) ≈ {rounded}';

export const MM105_LOG = defineMessages('MM105', {
  RouteTimeoutCut: message({
    severity: 'warning',
    symptom: '504 UT',
    template: `${HEAD}, the {matched}; ${SEMANTICS}. Fix: {target} (the policy's defaultRouteTimeout).`,
    certainty:
      'The requests were cut by a timeout the manifests set; whether a longer wait is acceptable is a decision: a risk.',
  }),
  TimeoutWithoutRoute: message({
    severity: 'warning',
    symptom: '504 UT',
    template: `${HEAD}{passthrough}; ${SEMANTICS} (an old proxy default, an EnvoyFilter or the client's x-envoy-upstream-rq-timeout-ms). Fix: a VirtualService for {host} with timeout {target} (the policy's defaultRouteTimeout){withEntry}.`,
    certainty: 'No manifest sets the timeout that fired: where it comes from is not known.',
  }),
});

const RACE =
  'on inbound cluster {targets}: {requests} hit a connection the application had closed (keep-alive race: upstream_reset_before_response_started, connection_termination)';
const BELOW =
  "not below the applications' {assumed}keep-alive {keepAlive}, and the DestinationRule's pool also applies to the server's inbound cluster. Fix (propose only): connectionPool.http.idleTimeout {target}{retry}.";
const RACE_CERTAINTY =
  'The race depends on timing and on the application: the logged resets point at it, they do not prove it.';

/** What Envoy does when no DestinationRule sets connectionPool.http.idleTimeout (Istio's DestinationRule docs: 1 hour). */
export const ENVOY_DEFAULT_IDLE = '1h (Envoy default)';

export const MM106_LOG = defineMessages('MM106', {
  /** The DestinationRule for the host is patched. */
  KeepAliveRace: message({
    severity: 'warning',
    symptom: '503 UC',
    detail: 'inbound',
    template: `${RACE}; {dr} keeps idle connections for {current}, ${BELOW}`,
    certainty: RACE_CERTAINTY,
  }),
  /** A broader DestinationRule (e.g. *.ns.svc.cluster.local) applies: a rule for the host is created, copying its policy. */
  KeepAliveRaceBroaderRule: message({
    severity: 'warning',
    symptom: '503 UC',
    detail: 'inbound',
    template: `${RACE}; {dr} (host {drHost}) applies and keeps idle connections for {current}, ${BELOW}`,
    certainty: RACE_CERTAINTY,
  }),
  /** No DestinationRule applies: one is created. */
  KeepAliveRaceNoRule: message({
    severity: 'warning',
    symptom: '503 UC',
    detail: 'inbound',
    template: `${RACE}; no DestinationRule sets an idle timeout for {host}, so Envoy keeps idle connections for its default 1h, ${BELOW}`,
    certainty: RACE_CERTAINTY,
  }),
});

/** The access-log form of MM210: 503 UH on a subset's cluster `outbound|port|subset|host`. */
export const MM210_LOG = defineMessages('MM210', {
  SubsetSelectsNoPodLogged: message({
    severity: 'error',
    symptom: '503 UH',
    detail: 'on a subset cluster',
    template:
      "{requests} on {cluster} found no healthy upstream: {dr} subset {subset} ({labels}) selects none of the pods of {service} in the input ({workloads}), so the subset's cluster has no endpoints. Fix (none automatic): correct the subset labels, or label the pods that should serve the subset.",
    certainty:
      "The proxies logged 503 UH on the subset's cluster, and no pod or pod template of the Service in the input carries the subset's labels.",
  }),
  SubsetSelectsNoEndpointLogged: message({
    severity: 'error',
    symptom: '503 UH',
    detail: 'on a subset cluster',
    template:
      "{requests} on {cluster} found no healthy upstream: {dr} subset {subset} ({labels}) selects none of the endpoints {service} lists ({workloads}), so the subset's cluster has no endpoints. Fix (none automatic): correct the subset labels, or label the entry's endpoints.",
    certainty:
      "The proxies logged 503 UH on the subset's cluster, and the host's ServiceEntries in the input list their endpoints inline, none with the subset's labels.",
  }),
});

/**
 * What a diagnosis says, in words, when the access-log form builds no finding for its groups. Fragments,
 * filled with `fill()` (src/catalogue/message-type.ts).
 */
export const ACCESS_LOG_WORDS = {
  /** MM104: an entry declares the host, yet traffic left through PassthroughCluster. */
  entryDeclared:
    "a ServiceEntry declares {host} ({entries}), yet the traffic went through PassthroughCluster: the port is not declared, the entry is not exported to the client's namespace, or a Sidecar hides it (MM108)",
  /** MM104: the client connected to an address, not a name. */
  passthroughToAddress:
    'the client connected to an IP address ({host}): no ServiceEntry with resolution DNS can be generated; declare the host name the application should use',
  /** MM105: no durations to match a timeout with. */
  noDurations: 'no durations were logged: cannot tell which timeout fired',
  /** MM105: the matching timeouts are already at least the policy's. */
  timeoutAlreadyLong: `504 UT: ${HEAD}: {settings} is already at least the policy's {target}; the upstream is slower than that (raise defaultRouteTimeout only if such waits are acceptable)`,
  /** MM105: VirtualServices route to the host, none with a matching timeout. */
  noMatchingRouteTimeout: `504 UT: ${HEAD}, but no route of {routes} sets a matching timeout; ${SEMANTICS}: look for a VirtualService not given here, an EnvoyFilter, or a client sending x-envoy-upstream-rq-timeout-ms`,
  /** MM105: an in-mesh host or an address without a VirtualService: none is generated. */
  noVirtualService: `504 UT: ${HEAD}; ${SEMANTICS}, but no VirtualService for {subject} is in the manifests given: look for one, an EnvoyFilter, or a client sending x-envoy-upstream-rq-timeout-ms`,
  /** MM106: the inbound cluster names no Kubernetes service. */
  inboundNotAService:
    "the inbound cluster does not name a Kubernetes service ({host}), so no DestinationRule can be proposed; lower the app's keep-alive handling instead",
  /** MM106: the rule's idle timeout is already below the keep-alive. */
  idleTimeoutAlreadyBelow:
    '{dr} already keeps idle connections for {current}, below the {assumed}keep-alive {keepAlive}: the app closes connections earlier than that, or after a number of requests; state its keep-alive in the policy',
  /** MM210: the subset selects pods of the input: the subset is not what fails. */
  subsetSelectsPods:
    '{dr} subset {subset} ({labels}) selects {workloads} in the input, so the subset is not to blame: its pods are not ready, outlierDetection ejected them (MM107), or what runs differs from the manifests',
  /** MM210: whether the subset selects pods cannot be told from the input. */
  subsetUnknown: 'whether subset {subset} of {host} selects any pod cannot be told from the input: {why}',
  /** 404 NR on a Gateway's port: no server of the Gateways on it accepts the host. */
  gatewayNoServerAccepts:
    'port {port} is a gateway listener (servers of {gateways}), and no server on it accepts {host} (they accept {serverHosts}): the gateway has no virtual host for {host}{vss}',
  /** 404 NR on a Gateway's port: a server accepts the host, no VirtualService bound to that Gateway lists it. */
  gatewayServerNoVirtualService:
    'port {port} is a gateway listener (servers of {gateways}); a server of {accepting} accepts {host}, but no VirtualService bound to it lists {host}{vss}: the server has no route for it',
  /** 404 NR on a Gateway's port: a VirtualService bound to an accepting server lists the host. */
  gatewayRoutesMiss:
    'port {port} is a gateway listener (servers of {gateways}), and {vss} serves {host} there: none of its http routes matched the request (uri, method, headers, port), or it has none',
  /** MM210: several DestinationRules define the subset, and they disagree. */
  subsetRulesDisagree:
    'several DestinationRules define subset {subset} of {host} ({drs}) and only some select no pod: which one the client uses depends on its namespace',
} as const;
