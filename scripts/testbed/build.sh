#!/usr/bin/env bash
# Builds (once) the real control plane that meshmedic's integration tests run against:
#   kube-apiserver  from k8s.io/kubernetes       (wrapper module: scripts/testbed/kube-apiserver)
#   etcd            from go.etcd.io/etcd/server/v3 (wrapper module: scripts/testbed/etcd)
#   istio-crds      from istio.io/api            (pin: scripts/testbed/istio-api), with the Gateway API's
#                   standard-channel CRDs from sigs.k8s.io/gateway-api at the version Istio requires (oracle/go.mod)
#   istioctl        from istio.io/istio          (pin: oracle/go.mod, the same module as the oracle)
#   oracle          meshmedic's oracle (oracle/): Istio's config generator and traffic simulation,
#                   a Go test binary built with `go test -c` from istio.io/istio
#   helm            from helm.sh/helm/v4         (wrapper module: scripts/testbed/helm), for the chart test
# Versions live in those go.mod files (verified against their go.sum). Results are cached in
#   ${MESHMEDIC_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/meshmedic/testbed}/<component>-<version>/
# and reused while their .complete marker matches the pinning files.
#
# Usage: build.sh [COMPONENT...]          build what is missing, then print KEY=VALUE lines
#        build.sh --paths [COMPONENT...]  print those lines only if the components are built; else exit 3
# COMPONENT: kube-apiserver, etcd, istio-crds, istioctl, oracle, helm (default: the first three, the test bed)
# Env:   MESHMEDIC_TESTBED_CACHE, MESHMEDIC_TESTBED_JOBS (go build -p, default: nproc)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${MESHMEDIC_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/meshmedic/testbed}
MODE=build
if [ "${1:-}" = --paths ]; then MODE=paths; shift; fi
COMPONENTS=("$@")
[ ${#COMPONENTS[@]} -gt 0 ] || COMPONENTS=(kube-apiserver etcd istio-crds)
for c in "${COMPONENTS[@]}"; do
  case "$c" in
    kube-apiserver|etcd|istio-crds|istioctl|oracle|helm) ;;
    *) echo "usage: $0 [--paths] [kube-apiserver|etcd|istio-crds|istioctl|oracle|helm]..." >&2; exit 2 ;;
  esac
done
wanted() { [[ " ${COMPONENTS[*]} " == *" $1 "* ]]; }

log() { printf '[testbed] %s\n' "$*" >&2; }

modversion() { # modversion DIR MODULE -> version pinned in DIR/go.mod (replace wins)
  awk -v m="$2" '{ sub(/^require[ \t]+/, "") } $1 == m && $2 ~ /^v/ { v = $2 } $1 == m && $2 == "=>" { r = $4 } END { print (r != "" ? r : v) }' "$1/go.mod"
}
stamp() { cat "$@" | sha256sum | cut -c1-16; }

K8S_VERSION=$(modversion "$HERE/kube-apiserver" k8s.io/kubernetes)
ETCD_VERSION=$(modversion "$HERE/etcd" go.etcd.io/etcd/server/v3)
ISTIO_API_VERSION=$(modversion "$HERE/istio-api" istio.io/api)
GATEWAY_API_VERSION=$(modversion "$HERE/../../oracle" sigs.k8s.io/gateway-api)
ORACLE_SRC=$(cd "$HERE/../../oracle" && pwd)
ISTIO_VERSION=$(modversion "$ORACLE_SRC" istio.io/istio)
ISTIO_REV=${ISTIO_VERSION##*-}
HELM_VERSION=$(modversion "$HERE/helm" helm.sh/helm/v4)
KAS_DIR="$CACHE/kube-apiserver-$K8S_VERSION"
ETCD_DIR="$CACHE/etcd-$ETCD_VERSION"
CRDS_DIR="$CACHE/istio-crds-$ISTIO_API_VERSION-gateway-api-$GATEWAY_API_VERSION"
ISTIOCTL_DIR="$CACHE/istioctl-$ISTIO_VERSION"
ORACLE_DIR="$CACHE/oracle-$ISTIO_VERSION"
HELM_DIR="$CACHE/helm-$HELM_VERSION"

# /version must report the real release, as upstream's build sets it.
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
KAS_LDFLAGS="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  KAS_LDFLAGS="$KAS_LDFLAGS -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
ETCD_LDFLAGS="-s -w"
KAS_STAMP=$(echo "$KAS_LDFLAGS" | stamp "$HERE/kube-apiserver/go.mod" "$HERE/kube-apiserver/go.sum" -)
ETCD_STAMP=$(echo "$ETCD_LDFLAGS" | stamp "$HERE/etcd/go.mod" "$HERE/etcd/go.sum" -)
CRDS_STAMP=$( { cat "$HERE/istio-api/go.mod" "$HERE/istio-api/go.sum"; echo "sigs.k8s.io/gateway-api $GATEWAY_API_VERSION"; } | sha256sum | cut -c1-16)
# istioctl as Istio's report_build_info.sh stamps it; the oracle with -tags=vtprotobuf only
# (disable_pgv breaks pilot/test/xdstest). Both -trimpath, so they share one build cache.
ISTIOCTL_TAGS=vtprotobuf,disable_pgv
ISTIOCTL_LDFLAGS="-s -w -X istio.io/istio/pkg/version.buildVersion=1.31-dev -X istio.io/istio/pkg/version.buildGitRevision=$ISTIO_REV"
ORACLE_TAGS=vtprotobuf
ISTIOCTL_STAMP=$(echo "$ISTIOCTL_TAGS $ISTIOCTL_LDFLAGS" | stamp "$ORACLE_SRC/go.mod" "$ORACLE_SRC/go.sum" -)
ORACLE_STAMP=$(echo "$ORACLE_TAGS" | stamp "$ORACLE_SRC/go.mod" "$ORACLE_SRC/go.sum" "$ORACLE_SRC"/*.go -)
# helm as its Makefile stamps a release (`helm version` reports it); the module zip carries no commit.
HELM_LDFLAGS="-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
HELM_STAMP=$(echo "$HELM_LDFLAGS" | stamp "$HERE/helm/go.mod" "$HERE/helm/go.sum" -)

fresh() { [ -f "$1/.complete" ] && [ "$(head -n1 "$1/.complete")" = "$2" ]; }

print_paths() {
  cat <<EOF
TESTBED_CACHE=$CACHE
KUBERNETES_VERSION=$K8S_VERSION
ETCD_VERSION=$ETCD_VERSION
ISTIO_API_VERSION=$ISTIO_API_VERSION
KUBE_APISERVER=$KAS_DIR/bin/kube-apiserver
ETCD=$ETCD_DIR/bin/etcd
ISTIO_CRDS=$CRDS_DIR/istio-crds.yaml
GATEWAY_API_CRDS=$CRDS_DIR/gateway-api-crds.yaml
GATEWAY_API_VERSION=$GATEWAY_API_VERSION
ISTIO_VERSION=$ISTIO_VERSION
ISTIOCTL=$ISTIOCTL_DIR/bin/istioctl
ORACLE=$ORACLE_DIR/bin/oracle.test
HELM_VERSION=$HELM_VERSION
HELM=$HELM_DIR/bin/helm
EOF
}

if [ "$MODE" = paths ]; then
  if { ! wanted kube-apiserver || fresh "$KAS_DIR" "$KAS_STAMP"; } &&
     { ! wanted etcd || fresh "$ETCD_DIR" "$ETCD_STAMP"; } &&
     { ! wanted istio-crds || fresh "$CRDS_DIR" "$CRDS_STAMP"; } &&
     { ! wanted istioctl || fresh "$ISTIOCTL_DIR" "$ISTIOCTL_STAMP"; } &&
     { ! wanted oracle || fresh "$ORACLE_DIR" "$ORACLE_STAMP"; } &&
     { ! wanted helm || fresh "$HELM_DIR" "$HELM_STAMP"; }; then
    print_paths
    exit 0
  fi
  log "not built yet (or pins changed): run $0 ${COMPONENTS[*]}"
  exit 3
fi

# ---- Go environment: everything under the cache root, nothing written to the repository ----
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null 2>&1 || { log "Go >= 1.26 is required (etcd $ETCD_VERSION needs it)"; exit 1; }
export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
export GOFLAGS="-modcacherw -buildvcs=false -mod=readonly" GOTOOLCHAIN=local CGO_ENABLED=0
JOBS=${MESHMEDIC_TESTBED_JOBS:-$(nproc 2>/dev/null || echo 2)}
mkdir -p "$CACHE"

# One build at a time per cache (two test runs starting together share the result). helm has a lock
# of its own: its module, wrapper and output are its own, and Go's module and build caches are safe
# for concurrent use, so it need not wait for an Istio build of minutes.
others=0
for c in "${COMPONENTS[@]}"; do [ "$c" = helm ] || others=1; done
if [ "$others" = 1 ]; then
  exec 9>"$CACHE/.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
fi
if wanted helm; then
  exec 8>"$CACHE/.lock-helm"
  if command -v flock >/dev/null 2>&1; then flock 8; fi
fi

# build_go NAME DIR STAMP WRAPPER PACKAGE LDFLAGS [go build flags...]: go build PACKAGE from WRAPPER into DIR/bin/NAME
# (GO_VERB=test builds a test binary with `go test -c` instead)
build_go() {
  local name=$1 dir=$2 stampv=$3 wrapper=$4 pkg=$5 ldflags=$6 start secs
  shift 6
  if fresh "$dir" "$stampv"; then log "$name: cached in $dir"; return; fi
  log "$name: building $pkg (go $(go env GOVERSION), -p $JOBS); a cold build takes minutes"
  start=$(date +%s)
  rm -rf "$dir.tmp" "$dir"
  mkdir -p "$dir.tmp/bin"
  if [ "${GO_VERB:-build}" = test ]; then
    (cd "$wrapper" && go test -c -vet=off -trimpath -p "$JOBS" "$@" -ldflags "$ldflags" -o "$dir.tmp/bin/$name" "$pkg")
  else
    (cd "$wrapper" && go build -trimpath -p "$JOBS" "$@" -ldflags "$ldflags" -o "$dir.tmp/bin/$name" "$pkg")
  fi
  secs=$(( $(date +%s) - start ))
  printf '%s\nbuilt %s in %ss with %s\n' "$stampv" "$(date -u +%FT%TZ)" "$secs" "$(go env GOVERSION)" > "$dir.tmp/.complete"
  mv "$dir.tmp" "$dir"
  log "$name: built in ${secs}s -> $dir/bin/$name"
}

t0=$(date +%s)

if wanted kube-apiserver; then
  build_go kube-apiserver "$KAS_DIR" "$KAS_STAMP" "$HERE/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$KAS_LDFLAGS"
fi
if wanted etcd; then
  build_go etcd "$ETCD_DIR" "$ETCD_STAMP" "$HERE/etcd" go.etcd.io/etcd/server/v3 "$ETCD_LDFLAGS"
fi

if ! wanted istio-crds; then
  :
elif fresh "$CRDS_DIR" "$CRDS_STAMP"; then
  log "istio-crds: cached in $CRDS_DIR"
else
  log "istio-crds: extracting from istio.io/api@$ISTIO_API_VERSION"
  rm -rf "$CRDS_DIR"; mkdir -p "$CRDS_DIR.tmp"
  src=$(cd "$HERE/istio-api" && go mod download -json istio.io/api | awk -F'"' '$2 == "Dir" { print $4 }')
  cp "$src/kubernetes/customresourcedefinitions.gen.yaml" "$CRDS_DIR.tmp/istio-crds.yaml"
  # The standard channel's CRDs only (its ValidatingAdmissionPolicy is not a CRD), verified against oracle/go.sum.
  gw=$(cd "$ORACLE_SRC" && go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" | awk -F'"' '$2 == "Dir" { print $4 }')
  for f in "$gw"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
    printf -- '---\n'; cat "$f"
  done > "$CRDS_DIR.tmp/gateway-api-crds.yaml"
  printf '%s\nfrom istio.io/api@%s kubernetes/customresourcedefinitions.gen.yaml and sigs.k8s.io/gateway-api@%s config/crd/standard\n' \
    "$CRDS_STAMP" "$ISTIO_API_VERSION" "$GATEWAY_API_VERSION" > "$CRDS_DIR.tmp/.complete"
  mv "$CRDS_DIR.tmp" "$CRDS_DIR"
fi

if wanted istioctl; then
  build_go istioctl "$ISTIOCTL_DIR" "$ISTIOCTL_STAMP" "$ORACLE_SRC" istio.io/istio/istioctl/cmd/istioctl "$ISTIOCTL_LDFLAGS" -tags="$ISTIOCTL_TAGS"
fi
if wanted oracle; then
  GO_VERB=test build_go oracle.test "$ORACLE_DIR" "$ORACLE_STAMP" "$ORACLE_SRC" . "-s -w" -tags="$ORACLE_TAGS"
fi
if wanted helm; then
  build_go helm "$HELM_DIR" "$HELM_STAMP" "$HERE/helm" helm.sh/helm/v4/cmd/helm "$HELM_LDFLAGS"
fi

log "ready in $(( $(date +%s) - t0 ))s (cache: $CACHE)"
print_paths
