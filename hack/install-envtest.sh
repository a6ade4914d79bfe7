#!/usr/bin/env bash
# Builds the project's local Kubernetes control plane for integration tests:
#   cm-envtest-apiserver (hack/envtest, on the real k8s.io/apiserver libraries) and etcd.
#
# Nothing is installed system-wide: the Go toolchain, the Kubernetes Go sources and etcd come
# from Debian sid packages that are downloaded with a private apt configuration and unpacked
# with `dpkg -x` into the cache. /etc/apt and the dpkg database are never touched.
#
# Usage: hack/install-envtest.sh
#   Progress goes to stderr; the last line on stdout is the folder holding the binaries.
#   ENVTEST_CACHE   cache folder (default $HOME/.cache/cert-manager-rs/envtest)
#   ENVTEST_FORCE=1 rebuild even if the binaries are up to date
#
# Second runs only hash the Go sources and exit when nothing changed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/envtest"
CACHE="${ENVTEST_CACHE:-${HOME:-/root}/.cache/cert-manager-rs/envtest}"
BIN="$CACHE/bin"
ROOT="$CACHE/root"
APTDIR="$CACHE/apt"

# Top-level packages; apt resolves the rest. Bump ROOT_VERSION to force a fresh root.
PACKAGES=(
  golang-1.26-go
  golang-k8s-apiserver-dev
  golang-k8s-apiextensions-apiserver-dev
  golang-k8s-client-go-dev
  golang-k8s-kms-dev
  golang-k8s-component-base-dev
  golang-etcd-server-dev
  etcd-server
  kube-openapi
)
ROOT_VERSION=1
GO_VERSION_DIR=go-1.26
K8S_GIT_VERSION=v1.36.4

log() { printf '[install-envtest] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$CACHE"
# Several test binaries may call this at once: one builder at a time, the others wait.
exec 9>"$CACHE/.lock"
flock 9

# Hash of everything that determines the built binaries.
src_hash() {
  {
    printf '%s\n' "$ROOT_VERSION" "${PACKAGES[*]}" "$K8S_GIT_VERSION"
    sha256sum "${BASH_SOURCE[0]}"
    (cd "$SRC" && find . -type f \( -name '*.go' -o -name '*.txt' \) -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}
HASH="$(src_hash)"

if [[ "${ENVTEST_FORCE:-}" != 1 && -x "$BIN/cm-envtest-apiserver" && -x "$BIN/etcd" &&
      "$(cat "$BIN/.stamp" 2>/dev/null)" == "$HASH" ]]; then
  echo "$BIN"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# 1. The unpacked sid root (toolchain + Go sources + etcd).
root_stamp="$ROOT_VERSION ${PACKAGES[*]}"

make_root() {
  command -v apt-get >/dev/null && command -v dpkg >/dev/null || die "needs apt-get and dpkg (Debian/Ubuntu)"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -r $keyring ]] || die "$keyring missing: apt-get install debian-archive-keyring"

  mkdir -p "$APTDIR"/{etc/empty,state/lists/partial,cache/archives/partial,debs}
  : >"$APTDIR/state/status"
  echo "deb [signed-by=$keyring] http://deb.debian.org/debian sid main" >"$APTDIR/etc/sources.list"
  # APT_CONFIG is read before /etc/apt/apt.conf.d; pointing Parts/Main elsewhere keeps the
  # host's apt configuration (hooks, extra index targets) out of this private instance.
  # Valid-Until is not checked because mirrors and snapshots may serve a Release file older
  # than its validity window; the signature still is.
  cat >"$APTDIR/apt.conf" <<EOF
Dir::Etc::Parts "$APTDIR/etc/empty";
Dir::Etc::Main "/dev/null";
Dir::Etc::SourceList "$APTDIR/etc/sources.list";
Dir::Etc::SourceParts "$APTDIR/etc/empty";
Dir::Etc::Preferences "$APTDIR/etc/preferences";
Dir::Etc::PreferencesParts "$APTDIR/etc/empty";
Dir::State "$APTDIR/state";
Dir::State::status "$APTDIR/state/status";
Dir::Cache "$APTDIR/cache";
Dir::Log "$APTDIR/log";
APT::Architecture "$(dpkg --print-architecture)";
APT::Architectures { "$(dpkg --print-architecture)"; };
APT::Default-Release "sid";
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
Acquire::Retries "3";
APT::Sandbox::User "$(id -un)";
EOF
  # Only sid is configured, so a pin is not strictly needed; keep it low anyway.
  printf 'Package: *\nPin: release a=unstable\nPin-Priority: 100\n' >"$APTDIR/etc/preferences"
  export APT_CONFIG="$APTDIR/apt.conf"

  log "apt-get update (private sid index in $APTDIR)"
  apt-get -q update >&2 || die "apt-get update of sid failed"

  log "resolving dependencies"
  # Every Go library the sources import is a dependency of the top-level -dev packages. Binary
  # packages (libc, systemd, ...) are skipped: the build is CGO-free, and the two sid binaries
  # used (etcd, openapi-gen) only need glibc >= 2.34 (bookworm has 2.36).
  mapfile -t selected < <(
    apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances "${PACKAGES[@]}" |
      grep -v '^[ <]' | sort -u |
      grep -E '^golang-.*-dev$|^golang-1\.26-(go|src)$|^etcd-server$|^kube-openapi$'
  )
  (( ${#selected[@]} > 50 )) || die "dependency resolution returned only ${#selected[@]} packages"
  log "downloading ${#selected[@]} packages"
  # Skip packages already downloaded by an interrupted run (apt-get download names files
  # <pkg>_<version with ':' as %3a>_<arch>.deb).
  mapfile -t debs < <(apt-cache show --no-all-versions "${selected[@]}" |
    awk '/^Package:/{p=$2} /^Version:/{v=$2; gsub(":","%3a",v)} /^Architecture:/{print p "_" v "_" $2 ".deb"}')
  todo=()
  for i in "${!selected[@]}"; do
    [[ -s "$APTDIR/debs/${debs[$i]}" ]] || todo+=("${selected[$i]}")
  done
  if (( ${#todo[@]} )); then
    (cd "$APTDIR/debs" && apt-get -q download "${todo[@]}" >&2) || die "apt-get download failed"
  fi

  log "unpacking into $ROOT"
  rm -rf "$ROOT.tmp"
  mkdir -p "$ROOT.tmp"
  for deb in "${debs[@]}"; do
    dpkg -x "$APTDIR/debs/$deb" "$ROOT.tmp"
  done
  # Packages link into /usr/share/... with absolute symlinks; make them point into the root.
  while IFS= read -r -d '' l; do
    target="$(readlink "$l")"
    ln -sfn "$ROOT$target" "$l"
  done < <(find "$ROOT.tmp" -type l -lname '/*' -print0)
  # The links were rewritten for $ROOT, so move the tree there before using it.
  rm -rf "$ROOT"
  mv "$ROOT.tmp" "$ROOT"
  echo "$root_stamp" >"$ROOT/.stamp"
  # The .debs and indexes are not needed any more; the unpacked root is the cache.
  unset APT_CONFIG
  rm -rf "$APTDIR"
}

# ---------------------------------------------------------------------------------------------
# 2. Build.
export GOROOT="$ROOT/usr/lib/$GO_VERSION_DIR"
GOPATH_OWN="$CACHE/gopath"
export GOPATH="$GOPATH_OWN:$ROOT/usr/share/gocode"
export GO111MODULE=off GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0
export GOCACHE="$CACHE/gocache"
export GOTELEMETRY=off GOFLAGS=
export PATH="$GOROOT/bin:$PATH"

PKG=cmenvtest
rm -rf "$GOPATH_OWN/src/$PKG"
mkdir -p "$GOPATH_OWN/src/$PKG" "$BIN"
cp -r "$SRC/." "$GOPATH_OWN/src/$PKG/"

build() {
  [[ -x "$GOROOT/bin/go" ]] || { log "no Go toolchain at $GOROOT"; return 1; }
  # OpenAPI definitions of every built-in type served (server-side apply needs them).
  # Generated here rather than committed: the output is large and follows the packaged API.
  # Cached outside the source copy; regenerated only when the package list changes.
  OPENAPI_DIR="$CACHE/openapi"
  openapi_hash="$(sha256sum "$SRC/openapi-packages.txt" "$ROOT/.stamp" | sha256sum | cut -d' ' -f1)"
  if [[ "$(cat "$OPENAPI_DIR/.stamp" 2>/dev/null)" != "$openapi_hash" ]]; then
    log "generating OpenAPI definitions"
    mapfile -t openapi_pkgs < <(grep -v '^\s*#' "$SRC/openapi-packages.txt" | grep -v '^\s*$')
    rm -rf "$OPENAPI_DIR"
    mkdir -p "$OPENAPI_DIR"
    : >"$CACHE/empty-header.txt"
    (cd "$GOPATH_OWN/src/$PKG" &&
      "$ROOT/usr/bin/openapi-gen" \
        --go-header-file "$CACHE/empty-header.txt" \
        --output-dir "$OPENAPI_DIR" \
        --output-pkg "$PKG/generated/openapi" \
        --output-file zz_generated.openapi.go \
        --report-filename /dev/null \
        "${openapi_pkgs[@]}" >&2) || { log "openapi-gen failed"; return 1; }
    echo "$openapi_hash" >"$OPENAPI_DIR/.stamp"
  fi
  mkdir -p "$GOPATH_OWN/src/$PKG/generated/openapi"
  cp "$OPENAPI_DIR/zz_generated.openapi.go" "$GOPATH_OWN/src/$PKG/generated/openapi/"

  log "building cm-envtest-apiserver (first build takes several minutes)"
  ldflags="-s -w"
  ldflags+=" -X k8s.io/component-base/version.gitVersion=$K8S_GIT_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=$(echo "$K8S_GIT_VERSION" | sed -E 's/^v([0-9]+)\..*/\1/')"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_GIT_VERSION" | sed -E 's/^v[0-9]+\.([0-9]+).*/\1/')"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  (cd "$GOPATH_OWN/src/$PKG" && go build -trimpath -gcflags=all=-dwarf=false -ldflags "$ldflags" -o "$BIN/cm-envtest-apiserver.tmp" .) || return 1
  mv "$BIN/cm-envtest-apiserver.tmp" "$BIN/cm-envtest-apiserver"
}

# After a successful build the root is reduced to what the build needs (the Go packages the
# server imports, the toolchain, openapi-gen and etcd): ~2.3 GB -> a few hundred MB. If a later
# source change imports a package that was pruned, the build fails and the root is recreated.
prune_root() {
  [[ "${ENVTEST_NO_PRUNE:-}" == 1 || -e "$ROOT/.pruned" ]] && return 0
  log "pruning $ROOT to the packages the build uses"
  local keep
  keep="$(cd "$GOPATH_OWN/src/$PKG" && go list -deps \
    -f '{{if not .Standard}}{{.Dir}}{{range .EmbedFiles}} {{$.Dir}}/{{.}}{{end}}{{end}}' . 2>/dev/null)" || return 0
  local gocode="$ROOT/usr/share/gocode/src" new="$ROOT.pruned"
  rm -rf "$new"
  mkdir -p "$new/usr/bin" "$new/usr/lib" "$new/usr/share/gocode/src"
  local dir f up
  local -A seen=()
  for dir in $keep; do
    case "$dir" in
      "$gocode"/*) ;;
      *) continue ;;
    esac
    if [[ -d "$dir" ]]; then
      mkdir -p "$new${dir#"$ROOT"}"
      find "$dir" -maxdepth 1 -type f ! -name '*_test.go' -exec cp -p -t "$new${dir#"$ROOT"}/" {} +
    elif [[ -f "$dir" ]]; then # an embedded file
      mkdir -p "$(dirname "$new${dir#"$ROOT"}")"
      cp -p "$dir" "$new${dir#"$ROOT"}"
      continue
    fi
    # GOPATH mode resolves ".../v2/..." imports only next to a go.mod of the importing module
    # ("minimal module compatibility"), so keep the go.mod files of all enclosing modules.
    up="$dir"
    while [[ "$up" != "$gocode" && -z "${seen[$up]:-}" ]]; do
      seen[$up]=1
      if [[ -f "$up/go.mod" ]]; then
        mkdir -p "$new${up#"$ROOT"}"
        cp -p "$up/go.mod" "$new${up#"$ROOT"}/"
      fi
      up="$(dirname "$up")"
    done
  done
  mv "$ROOT/usr/lib/$GO_VERSION_DIR" "$new/usr/lib/"
  mkdir -p "$new/usr/share"
  mv "$ROOT/usr/share/$GO_VERSION_DIR" "$new/usr/share/"
  for f in etcd openapi-gen; do mv "$ROOT/usr/bin/$f" "$new/usr/bin/"; done
  cp "$ROOT/.stamp" "$new/.stamp"
  touch "$new/.pruned"
  rm -rf "$ROOT"
  mv "$new" "$ROOT"
}

if [[ "$(cat "$ROOT/.stamp" 2>/dev/null)" != "$root_stamp" ]]; then
  make_root
fi
if ! build; then
  [[ -e "$ROOT/.pruned" ]] || die "build failed"
  log "build failed on the pruned root; recreating the full root and retrying"
  rm -rf "$ROOT" "$CACHE/openapi"
  make_root
  build || die "build failed"
fi
prune_root

cp "$ROOT/usr/bin/etcd" "$BIN/etcd.tmp"
mv "$BIN/etcd.tmp" "$BIN/etcd"

echo "$HASH" >"$BIN/.stamp"
log "done"
echo "$BIN"
