#!/usr/bin/env bash
# One command on a laptop with Docker: a kind cluster with Istio (minimal profile) and meshmedic built from
# this checkout, installed from deploy/ (kustomize), ready, with a policy in Propose mode for namespaces
# labelled meshmedic.io/enabled=true. Then: kubectl apply -f examples/001-dr-overrides-mtls/ &&
# kubectl label namespace foo meshmedic.io/enabled=true && kubectl get mmr -A
#
# Needs docker, kind, kubectl and istioctl on PATH. Safe to run again: each step skips what exists.
# Environment: CLUSTER (default meshmedic), IMAGE (default meshmedic:<package.json version>),
# SKIP_ISTIO=1 (Istio is already installed), DOWN=1 (delete the cluster and exit).
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER="${CLUSTER:-meshmedic}"
VERSION="$(node -p 'require("./package.json").version')"
IMAGE="${IMAGE:-meshmedic:${VERSION}}"
say() { printf '[kind-up] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null || { say "$1 is not on PATH: $2"; exit 2; }; }

need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need kubectl "https://kubernetes.io/docs/tasks/tools/"

if [[ "${DOWN:-}" == 1 ]]; then
  kind delete cluster --name "$CLUSTER"
  exit 0
fi
need docker "kind runs its nodes in Docker"
[[ "${SKIP_ISTIO:-}" == 1 ]] || need istioctl "https://istio.io/latest/docs/setup/getting-started/#download"

if kind get clusters | grep -qx "$CLUSTER"; then
  say "cluster $CLUSTER exists: reusing it"
else
  say "creating cluster $CLUSTER (hack/kind-config.yaml)"
  kind create cluster --name "$CLUSTER" --config hack/kind-config.yaml
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

if [[ "${SKIP_ISTIO:-}" != 1 ]]; then
  if kubectl -n istio-system get deployment istiod >/dev/null 2>&1; then
    say "istiod is installed: skipping istioctl install"
  else
    say "installing Istio (istioctl install --set profile=minimal)"
    istioctl install --set profile=minimal -y
  fi
fi

say "building $IMAGE and loading it into the kind node"
docker build -t "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"

say "installing meshmedic (kubectl apply -k deploy/)"
kubectl apply -k deploy/
if [[ "$IMAGE" != "meshmedic:${VERSION}" ]]; then
  kubectl -n meshmedic-system set image deployment/meshmedic "meshmedic=$IMAGE"
fi
kubectl -n meshmedic-system rollout status deployment/meshmedic --timeout=180s
kubectl apply -f deploy/sample-policy.yaml

say "ready. Leader: $(kubectl -n meshmedic-system get lease meshmedic-leader -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || echo '(not elected yet)')"
cat >&2 <<NEXT
[kind-up] next (throwaway clusters only: example 001 sets the mesh config and mesh-wide STRICT mTLS):
  kubectl apply -f examples/001-dr-overrides-mtls/
  kubectl label namespace foo meshmedic.io/enabled=true
  kubectl get meshremediations -A
[kind-up] the review flow is in docs/operator.md#the-review-flow; delete everything: DOWN=1 hack/kind-up.sh
NEXT
