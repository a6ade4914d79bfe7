#!/usr/bin/env bash
# Builds cm-bench-probe (hack/bench/probe: client-go Secret informers, the benchmark's baseline
# peer, plus the workload loader) with the Go toolchain and k8s.io Go packages that
# hack/install-envtest.sh unpacked from Debian sid, offline, in GOPATH mode.
#
# Usage: hack/bench/build-probe.sh   (last stdout line: the path of the binary)
#   ENVTEST_CACHE  the control plane's cache (default $HOME/.cache/cert-manager-rs/envtest)
#   BENCH_CACHE    where the probe goes (default $HOME/.cache/cert-manager-rs/bench)
# Rebuilds only when the probe's sources or the envtest root changed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/probe"
ENVTEST_CACHE="${ENVTEST_CACHE:-${HOME:-/root}/.cache/cert-manager-rs/envtest}"
CACHE="${BENCH_CACHE:-${HOME:-/root}/.cache/cert-manager-rs/bench}"
ROOT="$ENVTEST_CACHE/root"
OUT="$CACHE/bin/cm-bench-probe"

log() { printf '[build-probe] %s\n' "$*" >&2; }

[[ -x "$ROOT/usr/lib/go-1.26/bin/go" ]] ||
  "$HERE/../install-envtest.sh" >/dev/null # unpacks the root (and builds the API server)

hash="$( { cat "$ROOT/.stamp"; cd "$SRC" && LC_ALL=C sha256sum ./*.go; } | sha256sum | cut -d' ' -f1)"
if [[ -x "$OUT" && "$(cat "$OUT.stamp" 2>/dev/null)" == "$hash" ]]; then
  echo "$OUT"
  exit 0
fi

export GOROOT="$ROOT/usr/lib/go-1.26"
export GOPATH="$CACHE/gopath:$ROOT/usr/share/gocode"
export GO111MODULE=off GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 GOTELEMETRY=off GOFLAGS=
export GOCACHE="$ENVTEST_CACHE/gocache" # shared with the API server build: most packages are there
PKG="$CACHE/gopath/src/cmbenchprobe"
rm -rf "$PKG"
mkdir -p "$PKG" "$CACHE/bin"
cp "$SRC"/*.go "$PKG/"
log "building $OUT"
(cd "$PKG" && "$GOROOT/bin/go" build -o "$OUT.tmp" .)
mv "$OUT.tmp" "$OUT"
echo "$hash" >"$OUT.stamp"
echo "$OUT"
