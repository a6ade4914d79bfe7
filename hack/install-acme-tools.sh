#!/usr/bin/env bash
# Installs the servers the ACME issuer's integration tests run on loopback:
#   pebble, pebble-challtestsrv   Let's Encrypt's ACME test server and its mock DNS/HTTP-01
#                                 server (Debian package `pebble`, 2.4 on bookworm)
#   named, nsupdate, dig          bind9 for DNS-01 through RFC2136 + TSIG (Debian `bind9`,
#                                 `bind9-dnsutils`)
#
# The tests start these themselves (crates/testkit: testkit::pebble) on free 127.0.0.1 ports;
# nothing is enabled or started as a service. Debian's packages are used because Pebble is a
# Go program and the Go module proxy is not reachable from CI, so it cannot be built.
#
# Usage: hack/install-acme-tools.sh
#   Progress goes to stderr; stdout lists "name path" for each tool.
#   Needs root (or sudo) only when something is missing; a second run only checks.
set -euo pipefail

log() { printf '[install-acme-tools] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# named lives in /usr/sbin, which a non-root PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

# tool -> Debian package
declare -A PACKAGE=(
  [pebble]=pebble
  [pebble-challtestsrv]=pebble
  [named]=bind9
  [nsupdate]=bind9-dnsutils
  [dig]=bind9-dnsutils
)
TOOLS=(pebble pebble-challtestsrv named nsupdate dig)

missing=()
for tool in "${TOOLS[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${PACKAGE[$tool]}")
done

if ((${#missing[@]})); then
  # Unique package names, in order.
  mapfile -t packages < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${packages[*]}"
    SUDO=(sudo)
  fi
  command -v apt-get >/dev/null || die "apt-get not found; install ${packages[*]} by hand"
  log "installing ${packages[*]}"
  "${SUDO[@]}" apt-get update -qq >&2
  # --no-install-recommends: no bind9 service extras; the tests run named themselves.
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >&2
  # Installing bind9 starts the system service on Debian (listening on every interface); the
  # tests need none of it. Only a service this script just installed is stopped.
  if [[ " ${packages[*]} " == *" bind9 "* ]] && command -v systemctl >/dev/null 2>&1 &&
     systemctl is-active --quiet named 2>/dev/null; then
    log "stopping the named service the package started (tests run their own)"
    "${SUDO[@]}" systemctl disable --now named >&2 || true
  fi
fi

for tool in "${TOOLS[@]}"; do
  path="$(command -v "$tool" 2>/dev/null)" || die "$tool still missing after installing ${PACKAGE[$tool]}"
  echo "$tool $path"
done
