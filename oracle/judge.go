package oracle

import (
	"encoding/json"
	"fmt"
	"testing"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/config/mesh"
	"k8s.io/apimachinery/pkg/runtime"
)

// judgeCase runs one case on a fresh fake istiod. t is a subtest: a Fatal inside Istio's code ends
// only this case, which is then reported with its error.
func judgeCase(t *testing.T, c Case) (res CaseResult) {
	res = CaseResult{ID: c.ID, Queries: []QueryResult{}}
	// A panic inside Istio's code ends this case only: the others are still judged.
	defer func() {
		if r := recover(); r != nil {
			res = CaseResult{ID: c.ID, Error: fmt.Sprintf("Istio's config generator panicked: %v", r), Queries: []QueryResult{}}
		}
	}()
	in, err := load(c.YAML)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Rejected, res.Warnings, res.Ignored, res.AutoAllocated = in.rejected, in.warnings, in.ignored, in.autoAllocated
	m := mesh.DefaultMeshConfig()
	if c.MeshConfig != "" {
		if m, err = mesh.ApplyMeshConfigDefaults(c.MeshConfig); err != nil {
			res.Error = fmt.Sprintf("mesh config: %v", err)
			return res
		}
	}
	kube := append([]runtime.Object{}, in.kube...)
	for i, q := range c.Queries {
		if q.Proxy.Pod {
			kube = append(kube, podFor(withDefaults(q.Proxy, i), fmt.Sprintf("meshmedic-probe-%d", i)))
		}
	}
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{Configs: in.configs, KubernetesObjects: kube, MeshConfig: m})
	// One simulation per distinct proxy: building a proxy's listeners, clusters and routes is the cost.
	sims := map[string]*probe{}
	for i, q := range c.Queries {
		p := withDefaults(q.Proxy, i)
		if !p.Pod {
			p.IP = "10.244.255.1" // proxies without a pod of their own are interchangeable
		}
		key, _ := json.Marshal(p)
		pr, ok := sims[string(key)]
		if !ok {
			sim := simulation.NewSimulation(t, s, s.SetupProxy(modelProxy(p)))
			pr = &probe{sim: sim, clusters: xdstest.ExtractClusters(sim.Clusters)}
			sims[string(key)] = pr
		}
		res.Queries = append(res.Queries, runQuery(pr, q))
	}
	return res
}

// withDefaults fills a proxy's namespace and a distinct IP per query.
func withDefaults(p Proxy, i int) Proxy {
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	if p.IP == "" {
		p.IP = fmt.Sprintf("10.244.%d.%d", i/250, i%250+10)
	}
	return p
}

// probe is one proxy's generated configuration, with its clusters by name.
type probe struct {
	sim      *simulation.Simulation
	clusters map[string]*cluster.Cluster
}

func runQuery(pr *probe, q Query) QueryResult {
	out := QueryResult{ID: q.ID}
	sim, byName := pr.sim, pr.clusters
	if q.Call != nil {
		r := sim.Run(simCall(*q.Call))
		cr := &CallResult{
			Listener: r.ListenerMatched, FilterChain: r.FilterChainMatched, RouteConfig: r.RouteConfigMatched,
			VirtualHost: r.VirtualHostMatched, Route: r.RouteMatched, Cluster: r.ClusterMatched,
		}
		if r.Error != nil {
			cr.Error = r.Error.Error()
		}
		if r.VirtualHostMatched != "" {
			cr.RouteAction = describeRoute(findRoute(sim.Routes, r.RouteConfigMatched, r.VirtualHostMatched, r.RouteMatched, r.ClusterMatched, q.Call.Path))
		}
		if r.ClusterMatched != "" {
			ci := describeCluster(byName[r.ClusterMatched])
			cr.ClusterInfo = &ci
		}
		out.Call = cr
	}
	if len(q.Clusters) > 0 {
		out.Clusters = map[string]ClusterInfo{}
		for _, name := range q.Clusters {
			out.Clusters[name] = describeCluster(byName[name])
		}
	}
	if q.ListenerPort > 0 {
		out.Listeners = []ListenerInfo{}
		for _, l := range sim.Listeners {
			if int(l.GetAddress().GetSocketAddress().GetPortValue()) == q.ListenerPort {
				out.Listeners = append(out.Listeners, describeListener(l))
			}
		}
	}
	return out
}

func modelProxy(p Proxy) *model.Proxy {
	labels := map[string]string{}
	for k, v := range p.Labels {
		labels[k] = v
	}
	typ := model.SidecarProxy
	if p.Type == "router" || p.Type == "gateway" {
		typ = model.Router
	} else {
		labels["security.istio.io/tlsMode"] = "istio"
	}
	md := &model.NodeMetadata{
		Namespace:       p.Namespace,
		Labels:          labels,
		DNSCapture:      model.StringBool(p.DNSCapture),
		DNSAutoAllocate: model.StringBool(p.DNSAutoAllocate),
		IstioVersion:    p.IstioVersion,
	}
	if md.IstioVersion == "" {
		md.IstioVersion = "1.31.0"
	}
	return &model.Proxy{
		Type:            typ,
		ConfigNamespace: p.Namespace,
		Labels:          labels,
		IPAddresses:     []string{p.IP},
		Metadata:        md,
		ID:              fmt.Sprintf("probe-%s.%s", p.IP, p.Namespace),
		DNSDomain:       p.Namespace + ".svc.cluster.local",
	}
}

func simCall(c Call) simulation.Call {
	sc := simulation.Call{
		Address: c.Address, Port: c.Port, Path: c.Path, HostHeader: c.Host, Sni: c.SNI,
		Protocol: simulation.HTTP, TLS: simulation.Plaintext, CallMode: simulation.CallModeOutbound,
	}
	switch c.Protocol {
	case "http2":
		sc.Protocol = simulation.HTTP2
	case "tcp":
		sc.Protocol = simulation.TCP
	}
	switch c.TLS {
	case "tls":
		sc.TLS = simulation.TLS
	case "mtls":
		sc.TLS = simulation.MTLS
	}
	switch c.Mode {
	case "inbound":
		sc.CallMode = simulation.CallModeInbound
	case "gateway":
		sc.CallMode = simulation.CallModeGateway
	}
	return sc
}
