package oracle

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	apinetworking "istio.io/api/networking/v1alpha3"
)

const twoServices = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 8080}]}
`

// Two objects with one kind, namespace and name: the later wins (kubectl semantics) and it is said.
func TestLoadKeepsTheLaterDuplicateAndSaysSo(t *testing.T) {
	l, err := load(twoServices)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.kube) != 1 {
		t.Fatalf("want 1 Service, got %d", len(l.kube))
	}
	if len(l.warnings) != 1 || !strings.Contains(l.warnings[0].Message, "duplicate") {
		t.Fatalf("want one duplicate warning, got %+v", l.warnings)
	}
}

// Services get what the API server would give them: a ClusterIP and targetPort = port.
func TestLoadDefaultsServicesAsTheAPIServer(t *testing.T) {
	l, err := load(twoServices)
	if err != nil {
		t.Fatal(err)
	}
	svc, ok := l.kube[0].(*corev1.Service)
	if !ok {
		t.Fatalf("want a Service, got %T", l.kube[0])
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.Ports[0].TargetPort.IntValue() != 8080 {
		t.Fatalf("want a ClusterIP and targetPort 8080, got %q and %v", svc.Spec.ClusterIP, svc.Spec.Ports[0].TargetPort)
	}
}

const entries = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: demo}
spec: {hosts: [db.corp], ports: [{name: tcp, number: 3306, protocol: TCP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: optout, namespace: demo, labels: {networking.istio.io/enable-autoallocate-ip: "false"}}
spec: {hosts: [optout.corp], ports: [{name: tcp, number: 3307, protocol: TCP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: passthrough, namespace: demo}
spec: {hosts: [none.corp], ports: [{name: tcp, number: 3308, protocol: TCP}], resolution: NONE}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: bad, namespace: demo}
spec: {hosts: [bad.corp], ports: [{name: tcp, number: 0, protocol: TCP}], resolution: DNS}
`

// The emulated allocation controller gives an address only where istiod's would; the webhook's
// per-object validation leaves out what admission would refuse.
func TestLoadAllocatesLikeIstiodAndRejectsLikeTheWebhook(t *testing.T) {
	l, err := load(entries)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.autoAllocated) != 1 || l.autoAllocated[0].Host != "db.corp" || !strings.HasPrefix(l.autoAllocated[0].Address, "240.240.") {
		t.Fatalf("want one 240.240.x.x address for db.corp, got %+v", l.autoAllocated)
	}
	for _, c := range l.configs {
		st, _ := c.Status.(*apinetworking.ServiceEntryStatus)
		if c.Name != "db" && st != nil && len(st.GetAddresses()) > 0 {
			t.Fatalf("%s got an address", c.Name)
		}
	}
	if len(l.rejected) != 1 || l.rejected[0].Name != "bad" {
		t.Fatalf("want ServiceEntry bad rejected, got %+v", l.rejected)
	}
}
