#!/usr/bin/env bash
# Peak RSS of the webhook under a burst of AdmissionReview requests (docs/benchmarks-webhook.md).
#
#   hack/bench/webhook-burst.sh [requests=1000] [concurrency=16]
#
# Builds the webhook in release mode, starts it against the local control plane with a dynamic
# serving CA, sends the requests straight to its HTTPS port (mixed valid/invalid Certificates and
# CertificateRequests with real CSRs, /validate and /mutate) twice: over keep-alive connections,
# then with a new TLS connection per request. Prints VmHWM/VmRSS (from /proc/<pid>/status) idle
# and after each phase, requests/s, latency percentiles and the webhook's CPU time per request.
# BURST_OUT=<file> also writes the figures as JSON.
set -euo pipefail
cd "$(dirname "$0")/../.."

export BURST_REQUESTS="${1:-1000}"
export BURST_CONCURRENCY="${2:-16}"
if [[ -z "${ENVTEST_BIN_DIR:-}" ]]; then
  ENVTEST_BIN_DIR="$(hack/install-envtest.sh | tail -n1)"
  export ENVTEST_BIN_DIR
fi

cargo build --release -p webhook
export WEBHOOK_BIN="$PWD/target/release/webhook"
# The driver is the ignored test `burst::burst_peak_rss` of crates/webhook/tests/integration.
cargo test -p webhook --test integration -- --ignored --exact burst::burst_peak_rss --nocapture
