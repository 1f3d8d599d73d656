package oracle

import (
	"sort"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tcpproxy "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpopts "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	envoycore "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

const httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// describeCluster reduces an Envoy cluster to what the rules reason about.
func describeCluster(c *cluster.Cluster) ClusterInfo {
	if c == nil {
		return ClusterInfo{Exists: false}
	}
	info := ClusterInfo{Exists: true, Type: clusterType(c)}
	if ts := c.GetTransportSocket(); ts != nil || len(c.GetTransportSocketMatches()) == 0 {
		t := describeTransport(ts)
		info.Transport = &t
	}
	for _, m := range c.GetTransportSocketMatches() {
		tm := TransportMatch{Name: m.GetName(), Transport: describeTransport(m.GetTransportSocket())}
		if fields := m.GetMatch().GetFields(); len(fields) > 0 {
			tm.Match = map[string]string{}
			for k, v := range fields {
				tm.Match[k] = v.GetStringValue()
			}
		}
		info.TransportMatches = append(info.TransportMatches, tm)
	}
	if opts, ok := c.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey]; ok {
		h := &httpopts.HttpProtocolOptions{}
		if err := opts.UnmarshalTo(h); err == nil {
			info.AutoSNI = h.GetUpstreamHttpProtocolOptions().GetAutoSni()
			info.IdleTimeoutMs = millis(h.GetCommonHttpProtocolOptions().GetIdleTimeout())
		}
	}
	info.ConnectTimeoutMs = millis(c.GetConnectTimeout())
	if od := c.GetOutlierDetection(); od != nil {
		info.Outlier = &Outlier{
			Consecutive5xx:        u32(od.GetConsecutive_5Xx()),
			ConsecutiveGateway:    u32(od.GetConsecutiveGatewayFailure()),
			EnforcingConsecutive5: u32(od.GetEnforcingConsecutive_5Xx()),
			EnforcingGateway:      u32(od.GetEnforcingConsecutiveGatewayFailure()),
			MaxEjectionPercent:    u32(od.GetMaxEjectionPercent()),
			IntervalMs:            millis(od.GetInterval()),
			BaseEjectionTimeMs:    millis(od.GetBaseEjectionTime()),
		}
	}
	return info
}

func clusterType(c *cluster.Cluster) string {
	if ct := c.GetClusterType(); ct != nil {
		return ct.GetName()
	}
	return c.GetType().String()
}

// describeTransport tells Istio mTLS (the workload certificate by SDS "default", validated against
// ROOTCA), other TLS, and plaintext apart.
func describeTransport(ts *envoycore.TransportSocket) Transport {
	if ts == nil || ts.GetTypedConfig() == nil || strings.Contains(ts.GetName(), "raw_buffer") {
		return Transport{Kind: "plaintext"}
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return Transport{Kind: "other:" + ts.GetName()}
	}
	t := Transport{Kind: "tls", SNI: ctx.GetSni()}
	common := ctx.GetCommonTlsContext()
	if certs := common.GetTlsCertificateSdsSecretConfigs(); len(certs) > 0 {
		t.Credential = certs[0].GetName()
	}
	validation := common.GetCombinedValidationContext()
	rootName := validation.GetValidationContextSdsSecretConfig().GetName()
	for _, san := range validation.GetDefaultValidationContext().GetMatchSubjectAltNames() {
		t.SANs = append(t.SANs, san.GetExact()+san.GetPrefix()+san.GetSuffix()+san.GetContains())
	}
	// Istio mTLS: the workload certificate by SDS "default", validated against ROOTCA.
	if t.Credential == "default" && rootName == "ROOTCA" {
		t.Kind = "istio-mtls"
	}
	return t
}

// describeRoute reads the timeout and retry budget of a matched route.
func describeRoute(r *route.Route) *RouteAction {
	if r == nil {
		return nil
	}
	out := &RouteAction{}
	if dr := r.GetDirectResponse(); dr != nil {
		out.DirectStatus = int(dr.GetStatus())
		return out
	}
	ra := r.GetRoute()
	if ra == nil {
		return out
	}
	out.TimeoutMs = millis(ra.GetTimeout())
	if wc := ra.GetWeightedClusters(); wc != nil {
		out.WeightedTotal = len(wc.GetClusters())
	}
	if rp := ra.GetRetryPolicy(); rp != nil {
		n := int(1)
		if rp.GetNumRetries() != nil {
			n = int(rp.GetNumRetries().GetValue())
		}
		out.Retries = &n
		out.PerTryMs = millis(rp.GetPerTryTimeout())
		out.RetryOn = rp.GetRetryOn()
	} else {
		zero := 0
		out.Retries = &zero
	}
	return out
}

// findRoute finds the route the simulation reported: by route config, virtual host and name, and (route
// names are often empty) the first such route that sends to the matched cluster and accepts the path.
func findRoute(routes []*route.RouteConfiguration, rcName, vhName, rName, clusterName, path string) *route.Route {
	var rc *route.RouteConfiguration
	for _, r := range routes {
		if r.GetName() == rcName {
			rc = r
			break
		}
	}
	for _, vh := range rc.GetVirtualHosts() {
		if vh.GetName() != vhName {
			continue
		}
		for _, r := range vh.GetRoutes() {
			if r.GetName() == rName && sendsTo(r, clusterName) && acceptsPath(r, path) {
				return r
			}
		}
	}
	return nil
}

func sendsTo(r *route.Route, clusterName string) bool {
	ra := r.GetRoute()
	if ra == nil {
		return clusterName == ""
	}
	if ra.GetCluster() == clusterName {
		return true
	}
	for _, w := range ra.GetWeightedClusters().GetClusters() {
		if w.GetName() == clusterName {
			return true
		}
	}
	return false
}

func acceptsPath(r *route.Route, path string) bool {
	if path == "" {
		path = "/"
	}
	switch m := r.GetMatch().GetPathSpecifier().(type) {
	case *route.RouteMatch_Prefix:
		return strings.HasPrefix(path, m.Prefix)
	case *route.RouteMatch_Path:
		return path == m.Path
	case *route.RouteMatch_PathSeparatedPrefix:
		return path == m.PathSeparatedPrefix || strings.HasPrefix(path, m.PathSeparatedPrefix+"/")
	default:
		return true
	}
}

// describeListener lists a listener's filter chains: their match and where they send.
func describeListener(l *listener.Listener) ListenerInfo {
	info := ListenerInfo{Name: l.GetName(), Address: l.GetAddress().GetSocketAddress().GetAddress()}
	chains := append([]*listener.FilterChain{}, l.GetFilterChains()...)
	if l.GetDefaultFilterChain() != nil {
		chains = append(chains, l.GetDefaultFilterChain())
	}
	for _, fc := range chains {
		fi := FilterChainInfo{Name: fc.GetName()}
		m := fc.GetFilterChainMatch()
		fi.ServerNames = m.GetServerNames()
		fi.TransportProt = m.GetTransportProtocol()
		for _, cidr := range m.GetPrefixRanges() {
			fi.Destination = append(fi.Destination, cidr.GetAddressPrefix())
		}
		for _, f := range fc.GetFilters() {
			switch f.GetName() {
			case "envoy.filters.network.tcp_proxy":
				tp := &tcpproxy.TcpProxy{}
				if err := f.GetTypedConfig().UnmarshalTo(tp); err == nil {
					fi.Cluster = tp.GetCluster()
				}
			case "envoy.filters.network.http_connection_manager":
				fi.HTTP = true
			}
		}
		info.FilterChains = append(info.FilterChains, fi)
	}
	sort.SliceStable(info.FilterChains, func(a, b int) bool { return info.FilterChains[a].Name < info.FilterChains[b].Name })
	return info
}

func millis(d *durationpb.Duration) *int64 {
	if d == nil {
		return nil
	}
	ms := d.AsDuration().Milliseconds()
	return &ms
}

func u32(v *wrapperspb.UInt32Value) *uint32 {
	if v == nil {
		return nil
	}
	x := v.GetValue()
	return &x
}
