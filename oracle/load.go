package oracle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"

	apinetworking "istio.io/api/networking/v1alpha3"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/networking/serviceentry"
	"istio.io/istio/pkg/config"
	cfghost "istio.io/istio/pkg/config/host"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/resource"
	kubelib "istio.io/istio/pkg/kube"
)

// domain is what the kube config controller sets on every object; crd.ParseInputs leaves it empty,
// and with an empty domain short hosts ("reviews") are never resolved.
const domain = "cluster.local"

// kubeKinds are the Kubernetes kinds the fake istiod's registries read; other kinds are ignored.
var kubeKinds = map[string]bool{
	"Service": true, "Pod": true, "Namespace": true, "Endpoints": true, "EndpointSlice": true,
	"Secret": true, "ConfigMap": true, "Node": true,
}

// loaded is a case's input as the fake istiod receives it.
type loaded struct {
	configs       []config.Config
	kube          []runtime.Object
	rejected      []ObjectNote
	warnings      []ObjectNote
	ignored       []ObjectNote
	autoAllocated []AutoAddress
	nextClusterIP int
}

// load splits a manifest stream into Istio configs (validated one by one, as the admission webhook
// does) and Kubernetes objects (defaulted as the API server would).
func load(manifests string) (*loaded, error) {
	out := &loaded{}
	dec := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(manifests)), 512*1024)
	for {
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("cannot parse the manifests: %v", err)
		}
		if len(bytes.TrimSpace(raw.Raw)) == 0 || string(bytes.TrimSpace(raw.Raw)) == "null" {
			continue
		}
		if err := out.add(raw.Raw); err != nil {
			return nil, err
		}
	}
	out.dropDuplicates()
	out.allocateServiceEntryAddresses()
	return out, nil
}

// dropDuplicates keeps the last of several objects with one kind, namespace and name, as kubectl apply
// of the same stream would, and says so.
func (l *loaded) dropDuplicates() {
	seen := map[string]bool{}
	keepConfigs := make([]config.Config, 0, len(l.configs))
	for i := len(l.configs) - 1; i >= 0; i-- {
		c := l.configs[i]
		key := c.GroupVersionKind.Kind + "/" + c.Namespace + "/" + c.Name
		if seen[key] {
			l.warnings = append(l.warnings, ObjectNote{Kind: c.GroupVersionKind.Kind, Namespace: c.Namespace, Name: c.Name, Message: "duplicate: a later object with this kind, namespace and name replaces it"})
			continue
		}
		seen[key] = true
		keepConfigs = append([]config.Config{c}, keepConfigs...)
	}
	l.configs = keepConfigs
	keepKube := make([]runtime.Object, 0, len(l.kube))
	for i := len(l.kube) - 1; i >= 0; i-- {
		o := l.kube[i]
		m, err := meta.Accessor(o)
		if err != nil {
			continue
		}
		kind := reflect.TypeOf(o).Elem().Name() // decoded objects may carry no TypeMeta
		key := "kube/" + kind + "/" + m.GetNamespace() + "/" + m.GetName()
		if seen[key] {
			l.warnings = append(l.warnings, ObjectNote{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName(), Message: "duplicate: a later object with this kind, namespace and name replaces it"})
			continue
		}
		seen[key] = true
		keepKube = append([]runtime.Object{o}, keepKube...)
	}
	l.kube = keepKube
}

func (l *loaded) add(doc []byte) error {
	var obj crd.IstioKind
	if err := kubeyaml.Unmarshal(doc, &obj); err != nil {
		return fmt.Errorf("cannot parse an object: %v", err)
	}
	if reflect.DeepEqual(obj, crd.IstioKind{}) {
		return nil
	}
	gvk := obj.GroupVersionKind()
	note := ObjectNote{Kind: obj.Kind, Namespace: obj.Namespace, Name: obj.Name}
	if s, ok := collections.PilotGatewayAPI().FindByGroupVersionAliasesKind(resource.FromKubernetesGVK(&gvk)); ok {
		return l.addConfig(s, &obj, note)
	}
	if gvk.Group == "" && kubeKinds[gvk.Kind] {
		return l.addKube(doc, note)
	}
	note.Message = "not read by Istio's config generator"
	l.ignored = append(l.ignored, note)
	return nil
}

func (l *loaded) addConfig(s resource.Schema, obj *crd.IstioKind, note ObjectNote) error {
	if obj.Namespace == "" && !s.IsClusterScoped() {
		obj.Namespace = "default"
		note.Namespace = "default"
	}
	cfg, err := crd.ConvertObject(s, obj, domain)
	if err != nil {
		note.Message = err.Error()
		l.rejected = append(l.rejected, note)
		return nil
	}
	warn, err := s.ValidateConfig(*cfg)
	if err != nil {
		note.Message = err.Error()
		l.rejected = append(l.rejected, note)
		return nil
	}
	if warn != nil {
		w := note
		w.Message = warn.Error()
		l.warnings = append(l.warnings, w)
	}
	l.configs = append(l.configs, *cfg)
	return nil
}

func (l *loaded) addKube(doc []byte, note ObjectNote) error {
	o, _, err := kubelib.IstioCodec.UniversalDeserializer().Decode(doc, nil, nil)
	if err != nil {
		note.Message = err.Error()
		l.rejected = append(l.rejected, note)
		return nil
	}
	if svc, ok := o.(*corev1.Service); ok {
		l.defaultService(svc)
	}
	if pod, ok := o.(*corev1.Pod); ok && pod.Namespace == "" {
		pod.Namespace = "default"
	}
	l.kube = append(l.kube, o)
	return nil
}

// defaultService does what the API server does and the fake client does not: a namespace, a
// ClusterIP for a non-headless Service, targetPort = port, protocol TCP.
func (l *loaded) defaultService(svc *corev1.Service) {
	if svc.Namespace == "" {
		svc.Namespace = "default"
	}
	if svc.Spec.Type == "" {
		svc.Spec.Type = corev1.ServiceTypeClusterIP
	}
	if svc.Spec.ClusterIP == "" && svc.Spec.Type != corev1.ServiceTypeExternalName {
		l.nextClusterIP++
		svc.Spec.ClusterIP = fmt.Sprintf("10.96.%d.%d", l.nextClusterIP/250, l.nextClusterIP%250+1)
	}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0 {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
	}
}

// allocateServiceEntryAddresses emulates istiod's IP auto-allocation controller
// (pilot/pkg/controllers/ipallocate): with PILOT_ENABLE_IP_AUTOALLOCATE on, every ServiceEntry that
// should get addresses (resolution not NONE, no spec.addresses, no opt-out label) and has none in
// status gets one 240.240.0.0/16 address per kept host, written to status.addresses.
func (l *loaded) allocateServiceEntryAddresses() {
	if !features.EnableIPAutoallocate {
		return
	}
	prefix := netip.MustParsePrefix(features.IPAutoallocateIPv4Prefix)
	used := map[netip.Addr]bool{}
	for _, c := range l.configs {
		for _, addrs := range serviceentry.GetHostAddressesFromConfig(c) {
			for _, a := range addrs {
				used[a] = true
			}
		}
	}
	next := prefix.Addr().Next()
	alloc := func() string {
		for used[next] {
			next = next.Next()
		}
		used[next] = true
		return next.String()
	}
	// The controller allocates in creation order; input order stands in for it.
	for i := range l.configs {
		c := &l.configs[i]
		se, ok := c.Spec.(*apinetworking.ServiceEntry)
		if !ok || !serviceentry.ShouldV2AutoAllocateIPFromConfig(*c) {
			continue
		}
		if len(serviceentry.GetHostAddressesFromConfig(*c)) > 0 {
			continue // status already holds addresses (an object read from a cluster)
		}
		status := &apinetworking.ServiceEntryStatus{}
		if prev, ok := c.Status.(*apinetworking.ServiceEntryStatus); ok && prev != nil {
			status = prev
		}
		seen := map[string]bool{}
		for _, h := range se.Hosts {
			if seen[h] || (cfghost.Name(h).IsWildCarded() && se.Resolution != apinetworking.ServiceEntry_DYNAMIC_DNS) {
				continue
			}
			seen[h] = true
			a := alloc()
			status.Addresses = append(status.Addresses, &apinetworking.ServiceEntryAddress{Value: a, Host: h})
			l.autoAllocated = append(l.autoAllocated, AutoAddress{Namespace: c.Namespace, Name: c.Name, Host: h, Address: a})
		}
		c.Status = status
	}
}

// podFor makes the running Pod a Proxy with Pod: true stands for.
func podFor(p Proxy, name string) *corev1.Pod {
	labels := map[string]string{"security.istio.io/tlsMode": "istio"}
	for k, v := range p.Labels {
		labels[k] = v
	}
	pod := &corev1.Pod{}
	pod.Name = name
	pod.Namespace = p.Namespace
	pod.Labels = labels
	pod.Spec.ServiceAccountName = "default"
	pod.Spec.NodeName = "node"
	pod.Status.PodIP = p.IP
	pod.Status.PodIPs = []corev1.PodIP{{IP: p.IP}}
	pod.Status.Phase = corev1.PodRunning
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	return pod
}
