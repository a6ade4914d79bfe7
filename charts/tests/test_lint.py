"""helm lint --strict (helm v3 and, when installed, v4) and helm v4 rendering."""

from __future__ import annotations

import subprocess

import pytest

from cases import CASES, UPSTREAM_VALUES
from conftest import CHART, render, tools


HELMS = [
    pytest.param(tools().helm, id="helm3"),
    pytest.param(tools().helm4, id="helm4", marks=pytest.mark.skipif(tools().helm4 is None, reason="helm v4 not installed (CHART_TOOLS_HELM4=0)")),
]


@pytest.mark.parametrize("helm", HELMS)
@pytest.mark.parametrize("values_file", [None, UPSTREAM_VALUES], ids=["defaults", "upstream-compatible"])
def test_helm_lint_strict(helm, values_file):
    cmd = [str(helm), "lint", "--strict", str(CHART)]
    if values_file:
        cmd += ["-f", str(values_file)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 chart(s) failed" in proc.stdout
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout, proc.stdout


@pytest.mark.skipif(tools().helm4 is None, reason="helm v4 not installed")
@pytest.mark.parametrize("case_id", ["defaults", "crds-enabled", "everything-on", "configs"])
def test_helm4_renders_like_helm3(case_id):
    assert render(CASES[case_id], helm=tools().helm4).docs == render(CASES[case_id]).docs


@pytest.mark.skipif(tools().helm4 is None, reason="helm v4 not installed")
def test_notes_render():
    """NOTES.txt renders (helm v4's client-side dry run needs no cluster; v3's does)."""
    cmd = [str(tools().helm4), "install", "cert-manager", str(CHART), "-n", "cert-manager", "--dry-run=client"]
    proc = subprocess.run(cmd + ["--set", "installCRDs=true", "--set", "cainjector.enabled=false"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    notes = proc.stdout.split("NOTES:\n", 1)[1]
    assert notes.startswith("WARNING: `installCRDs` is deprecated")
    assert "cainjector  disabled" in notes
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    notes = proc.stdout.split("NOTES:\n", 1)[1]
    assert notes.startswith("cert-manager-rs 0.1.0 has been deployed to namespace cert-manager:")
    assert "crds.enabled=false" in notes
