#!/usr/bin/env bash
# `make e2e-kind`: builds the images, creates a kind cluster with the WatchList feature gate on
# the API server (e2e/kind-config.yaml), loads the images into it and runs the e2e suite
# against it (the suite installs the chart with helm). Needs docker and kind on PATH.
#
#   KIND_CLUSTER      cluster name (default cert-manager-rs-e2e); an existing one is reused
#   KIND_NODE_IMAGE   node image, e.g. kindest/node:v1.33.1 (default: kind's own default)
#   E2E_KEEP_CLUSTER  1: keep the cluster afterwards (default: delete it if this script made it)
#   IMAGE_REGISTRY, IMAGE_TAG   image names, as for `make images` (tag default: e2e)
#   E2E_SKIP_*        passed through to the suite (see e2e/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER=${KIND_CLUSTER:-cert-manager-rs-e2e}
IMAGE_REGISTRY=${IMAGE_REGISTRY:-ghcr.io/cert-manager-rs}
IMAGE_TAG=${IMAGE_TAG:-e2e}
IMAGES=(controller cainjector webhook)
[[ -f crates/acmesolver/Cargo.toml ]] && IMAGES+=(acmesolver)

die() { echo "e2e-kind: $*" >&2; exit 1; }
for tool in docker kind; do
  command -v "$tool" >/dev/null || die "$tool is not installed (the no-Docker path is \`make e2e\`)"
done

make images IMAGE_REGISTRY="$IMAGE_REGISTRY" IMAGE_TAG="$IMAGE_TAG" IMAGES="${IMAGES[*]}"

RUN="$(mktemp -d)"
created=0
cleanup() {
  if [[ $created == 1 && "${E2E_KEEP_CLUSTER:-0}" != 1 ]]; then
    kind delete cluster --name "$CLUSTER" || true
  fi
  rm -rf "$RUN"
}
trap cleanup EXIT

if ! kind get clusters | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --config e2e/kind-config.yaml \
    ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 120s
  created=1
fi
kind get kubeconfig --name "$CLUSTER" >"$RUN/kubeconfig"

for image in "${IMAGES[@]}"; do
  kind load docker-image --name "$CLUSTER" "$IMAGE_REGISTRY/$image:$IMAGE_TAG"
done

# Chart values for the images just loaded (never pulled).
image_values() { # <indent> <image>
  printf '%srepository: %s\n%stag: "%s"\n%spullPolicy: Never\n' \
    "$1" "$IMAGE_REGISTRY/$2" "$1" "$IMAGE_TAG" "$1"
}
{
  echo "image:"
  image_values "  " controller
  for image in "${IMAGES[@]}"; do
    [[ $image == controller ]] && continue
    printf '%s:\n  image:\n' "$image"
    image_values "    " "$image"
  done
} >"$RUN/images.yaml"

E2E_KUBECONFIG="$RUN/kubeconfig" E2E_HELM_VALUES="$RUN/images.yaml" \
  cargo nextest run -p e2e --run-ignored all --no-capture
