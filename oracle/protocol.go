// Package oracle puts Istio configurations to Istio's own config generator (the code istiod runs to
// build every listener, cluster and route) and to the traffic simulation Istio's tests use, and
// reports what Envoy would receive, in Envoy's terms.
//
// It is a Go test (the simulation takes a *testing.T), compiled once with `go test -c` and run as a
// program: the request comes as JSON in the file named by MESHMEDIC_ORACLE_INPUT ("-" for stdin),
// the answer goes as JSON to the file named by MESHMEDIC_ORACLE_OUTPUT. See README.md beside this file.
package oracle

// Request is the whole input: several independent cases, each judged on its own fake istiod.
type Request struct {
	Cases []Case `json:"cases"`
}

// Case is one set of manifests (multi-document YAML, Istio and Kubernetes objects mixed, as
// `kubectl apply -f` takes them) with the mesh config and the questions to ask about it.
type Case struct {
	ID         string  `json:"id"`
	YAML       string  `json:"yaml"`
	MeshConfig string  `json:"meshConfig,omitempty"` // the `mesh` key of the istio ConfigMap, as YAML
	Queries    []Query `json:"queries"`
}

// Query asks one proxy one thing: where a call lands, and/or what some clusters look like.
type Query struct {
	ID       string   `json:"id"`
	Proxy    Proxy    `json:"proxy"`
	Call     *Call    `json:"call,omitempty"`
	Clusters []string `json:"clusters,omitempty"`
	// ListenerPort lists the listeners the proxy gets on this port (0: none asked).
	ListenerPort int `json:"listenerPort,omitempty"`
}

// Proxy describes the Envoy that is asked: a sidecar of a pod, or a gateway.
type Proxy struct {
	Type      string            `json:"type"` // "sidecar" (default) or "router" (a gateway)
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels,omitempty"`
	IP        string            `json:"ip,omitempty"`
	// Pod: also create a running Pod with this IP and labels (plus security.istio.io/tlsMode: istio),
	// so that Services selecting those labels make this proxy one of their endpoints (inbound side).
	Pod             bool   `json:"pod,omitempty"`
	DNSCapture      bool   `json:"dnsCapture,omitempty"`
	DNSAutoAllocate bool   `json:"dnsAutoAllocate,omitempty"`
	IstioVersion    string `json:"istioVersion,omitempty"`
}

// Call is one request or connection, as the simulation sends it.
type Call struct {
	Address  string `json:"address,omitempty"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol,omitempty"` // http (default), http2, tcp
	TLS      string `json:"tls,omitempty"`      // plaintext (default), tls, mtls
	Host     string `json:"host,omitempty"`     // HTTP Host header
	Path     string `json:"path,omitempty"`
	SNI      string `json:"sni,omitempty"`
	Mode     string `json:"mode,omitempty"` // outbound (default), inbound, gateway
}

// Response is the whole output, one CaseResult per Case in order.
type Response struct {
	Istio string       `json:"istio"`
	Cases []CaseResult `json:"cases"`
}

// CaseResult says what was admitted and what each query found.
type CaseResult struct {
	ID string `json:"id"`
	// Error: the case could not be judged at all (unparsable YAML, a generator failure).
	Error string `json:"error,omitempty"`
	// Rejected lists objects Istio's validation (the admission webhook) would refuse; they are left out.
	Rejected []ObjectNote `json:"rejected,omitempty"`
	// Warnings are validation warnings on admitted objects.
	Warnings []ObjectNote `json:"warnings,omitempty"`
	// Ignored lists objects the generator does not read (Deployments, CRDs, ...).
	Ignored []ObjectNote `json:"ignored,omitempty"`
	// AutoAllocated lists the addresses the emulated IP auto-allocation controller gave ServiceEntries.
	AutoAllocated []AutoAddress `json:"autoAllocated,omitempty"`
	Queries       []QueryResult `json:"queries"`
}

// ObjectNote names one input object and what was said about it.
type ObjectNote struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Message   string `json:"message"`
}

// AutoAddress is one address status.addresses would hold.
type AutoAddress struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Host      string `json:"host"`
	Address   string `json:"address"`
}

// QueryResult answers one Query.
type QueryResult struct {
	ID        string                 `json:"id"`
	Error     string                 `json:"error,omitempty"`
	Call      *CallResult            `json:"call,omitempty"`
	Clusters  map[string]ClusterInfo `json:"clusters,omitempty"`
	Listeners []ListenerInfo         `json:"listeners,omitempty"`
}

// CallResult is where the simulated call went: the listener, filter chain, route and cluster it hit,
// or the error Envoy would give it.
type CallResult struct {
	Error       string       `json:"error,omitempty"`
	Listener    string       `json:"listener,omitempty"`
	FilterChain string       `json:"filterChain,omitempty"`
	RouteConfig string       `json:"routeConfig,omitempty"`
	VirtualHost string       `json:"virtualHost,omitempty"`
	Route       string       `json:"route,omitempty"`
	Cluster     string       `json:"cluster,omitempty"`
	RouteAction *RouteAction `json:"routeAction,omitempty"`
	// ClusterInfo describes Cluster as the proxy received it (Exists false: Envoy answers 503 NC).
	ClusterInfo *ClusterInfo `json:"clusterInfo,omitempty"`
}

// RouteAction is the part of the matched route that decides timeouts and retries.
type RouteAction struct {
	TimeoutMs     *int64 `json:"timeoutMs,omitempty"` // nil: Envoy's 15 s default; 0: disabled
	Retries       *int   `json:"retries,omitempty"`
	PerTryMs      *int64 `json:"perTryTimeoutMs,omitempty"`
	RetryOn       string `json:"retryOn,omitempty"`
	DirectStatus  int    `json:"directResponseStatus,omitempty"`
	WeightedTotal int    `json:"weightedClusters,omitempty"`
}

// ClusterInfo is an Envoy cluster reduced to what meshmedic's rules reason about.
type ClusterInfo struct {
	Exists    bool       `json:"exists"`
	Type      string     `json:"type,omitempty"` // EDS, STRICT_DNS, ORIGINAL_DST, ...
	Transport *Transport `json:"transport,omitempty"`
	// TransportMatches: auto mTLS, a transport socket chosen per endpoint (tlsMode label).
	TransportMatches []TransportMatch `json:"transportMatches,omitempty"`
	AutoSNI          bool             `json:"autoSni,omitempty"`
	Outlier          *Outlier         `json:"outlier,omitempty"`
	IdleTimeoutMs    *int64           `json:"idleTimeoutMs,omitempty"`
	ConnectTimeoutMs *int64           `json:"connectTimeoutMs,omitempty"`
}

// Transport is one upstream transport socket.
type Transport struct {
	Kind string   `json:"kind"` // plaintext, istio-mtls, tls
	SNI  string   `json:"sni,omitempty"`
	SANs []string `json:"sans,omitempty"`
	// Credential: where the client certificate comes from (SDS secret name), for tls/istio-mtls.
	Credential string `json:"credential,omitempty"`
}

// TransportMatch is one entry of transport_socket_matches.
type TransportMatch struct {
	Name      string            `json:"name"`
	Match     map[string]string `json:"match,omitempty"`
	Transport Transport         `json:"transport"`
}

// Outlier is outlier_detection as Envoy receives it (unset fields: Envoy's defaults).
type Outlier struct {
	Consecutive5xx        *uint32 `json:"consecutive5xx,omitempty"`
	ConsecutiveGateway    *uint32 `json:"consecutiveGatewayFailure,omitempty"`
	EnforcingConsecutive5 *uint32 `json:"enforcingConsecutive5xx,omitempty"`
	EnforcingGateway      *uint32 `json:"enforcingConsecutiveGatewayFailure,omitempty"`
	MaxEjectionPercent    *uint32 `json:"maxEjectionPercent,omitempty"`
	IntervalMs            *int64  `json:"intervalMs,omitempty"`
	BaseEjectionTimeMs    *int64  `json:"baseEjectionTimeMs,omitempty"`
}

// ListenerInfo is one listener on the asked port with its filter chains.
type ListenerInfo struct {
	Name         string            `json:"name"`
	Address      string            `json:"address"`
	FilterChains []FilterChainInfo `json:"filterChains"`
}

// FilterChainInfo is one filter chain: what it matches and where it sends.
type FilterChainInfo struct {
	Name          string   `json:"name,omitempty"`
	ServerNames   []string `json:"serverNames,omitempty"`
	Destination   []string `json:"destinationCidrs,omitempty"`
	TransportProt string   `json:"transportProtocol,omitempty"`
	Cluster       string   `json:"cluster,omitempty"` // tcp_proxy target
	HTTP          bool     `json:"http,omitempty"`    // an HTTP connection manager
}
