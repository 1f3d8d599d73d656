// Pins the Istio API module whose generated CRDs the integration test bed installs
// (kubernetes/customresourcedefinitions.gen.yaml: the same schemas that Istio 1.28.0 ships
// in manifests/charts/base/files/crd-all.gen.yaml). build.sh only downloads it, verified
// against go.sum; nothing here is compiled, so do not run `go mod tidy` (it would drop the pin).
module meshmedic.local/testbed/istio-api

go 1.24.0

require istio.io/api v1.28.0
