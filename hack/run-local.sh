#!/usr/bin/env bash
# `make run`: the local control plane plus controller, cainjector and webhook, all on loopback.
# Ctrl-C stops everything. Ports can be moved with the variables below.
set -euo pipefail
cd "$(dirname "$0")/.."

METRICS_CONTROLLER=${METRICS_CONTROLLER:-127.0.0.1:9402}
HEALTHZ_CONTROLLER=${HEALTHZ_CONTROLLER:-127.0.0.1:9403}
METRICS_CAINJECTOR=${METRICS_CAINJECTOR:-127.0.0.1:9412}
METRICS_WEBHOOK=${METRICS_WEBHOOK:-127.0.0.1:9422}
WEBHOOK_SECURE_PORT=${WEBHOOK_SECURE_PORT:-10250}
WEBHOOK_HEALTHZ_PORT=${WEBHOOK_HEALTHZ_PORT:-6080}
NAMESPACE=cert-manager

ENVTEST_BIN_DIR="$(hack/install-envtest.sh | tail -n1)"
export ENVTEST_BIN_DIR
cargo build -q -p controller -p cainjector -p webhook -p testkit --bins
BIN=target/debug

RUN="$(mktemp -d)"
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT INT TERM

"$BIN/local-control-plane" --crds charts/cert-manager-rs/crds --namespace "$NAMESPACE" \
  --kubeconfig-out "$RUN/kubeconfig" &
pids+=($!)
for _ in $(seq 600); do [[ -f "$RUN/kubeconfig" ]] && break; sleep 0.1; done
[[ -f "$RUN/kubeconfig" ]] || { echo "the control plane did not start" >&2; exit 1; }

"$BIN/controller" --kubeconfig "$RUN/kubeconfig" --cluster-resource-namespace "$NAMESPACE" \
  --metrics-listen-address "$METRICS_CONTROLLER" --internal-healthz-listen-address "$HEALTHZ_CONTROLLER" &
pids+=($!)
"$BIN/cainjector" --kubeconfig "$RUN/kubeconfig" --metrics-listen-address "$METRICS_CAINJECTOR" &
pids+=($!)
"$BIN/webhook" --kubeconfig "$RUN/kubeconfig" --bind-address 127.0.0.1 \
  --secure-port "$WEBHOOK_SECURE_PORT" --healthz-port "$WEBHOOK_HEALTHZ_PORT" \
  --metrics-listen-address "$METRICS_WEBHOOK" \
  --dynamic-serving-ca-secret-namespace "$NAMESPACE" --dynamic-serving-ca-secret-name cert-manager-webhook-ca \
  --dynamic-serving-dns-names cert-manager-webhook,cert-manager-webhook.$NAMESPACE,cert-manager-webhook.$NAMESPACE.svc &
pids+=($!)

cat >&2 <<MSG

  local control plane and components running; try:
    export KUBECONFIG=$RUN/kubeconfig
    kubectl get crds
    curl -s http://$METRICS_CONTROLLER/metrics | grep kubeclient_
    curl -s http://$HEALTHZ_CONTROLLER/readyz
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
echo "a component exited; stopping" >&2
