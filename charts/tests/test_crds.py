"""CRDs: rendered from crds/ only when crds.enabled (or the legacy installCRDs), identical to
the generated files apart from labels and the keep annotation; never installed behind the
user's back through Helm's special crds/ folder."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from cases import CASES
from conftest import CHART, KUBE_VERSION, render, tools

CRD_FILES = sorted((CHART / "crds").glob("*.yaml"))


def generated_crds() -> dict[str, dict]:
    crds = {}
    for f in CRD_FILES:
        for doc in yaml.safe_load_all(f.read_text()):
            if doc:
                crds[doc["metadata"]["name"]] = doc
    return crds


def test_generated_crds_exist():
    assert len(generated_crds()) == 6


@pytest.mark.parametrize(
    "case_id, keep",
    [("crds-enabled", True), ("crds-enabled-no-keep", False), ("install-crds-legacy", True)],
)
def test_crds_rendered(case_id, keep):
    out = render(CASES[case_id])
    rendered = {d["metadata"]["name"]: d for d in out.of_kind("CustomResourceDefinition")}
    expected = generated_crds()
    assert set(rendered) == set(expected)
    for name, crd in rendered.items():
        assert crd["spec"] == expected[name]["spec"], name
        assert crd["metadata"]["labels"]["app.kubernetes.io/component"] == "crds"
        assert crd["metadata"]["labels"]["app.kubernetes.io/instance"] == "cert-manager"
        annotations = crd["metadata"].get("annotations", {})
        assert (annotations.get("helm.sh/resource-policy") == "keep") == keep, name


def test_no_crds_by_default_even_with_include_crds():
    """Helm would install anything in the chart's crds/ folder on `helm install` regardless of
    crds.enabled; .helmignore keeps that folder out (the template reads it via crd-sources)."""
    out = render(extra_args=("--include-crds",))
    assert not out.of_kind("CustomResourceDefinition")
    proc = subprocess.run([str(tools().helm), "show", "crds", str(CHART)], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


def test_crds_rendered_once_with_include_crds():
    out = render(CASES["crds-enabled"], extra_args=("--include-crds",))
    names = [d["metadata"]["name"] for d in out.of_kind("CustomResourceDefinition")]
    assert len(names) == len(set(names)) == 6


def test_packaged_chart_carries_the_crd_sources(tmp_path):
    """`helm package` resolves the crd-sources symlink into plain files, and the packaged
    chart renders the same CRDs."""
    subprocess.run([str(tools().helm), "package", str(CHART), "-d", str(tmp_path)], check=True, capture_output=True)
    (tgz,) = tmp_path.glob("*.tgz")
    listing = subprocess.run(["tar", "tzf", str(tgz)], capture_output=True, text=True, check=True).stdout.split()
    assert sum(1 for n in listing if n.startswith("cert-manager-rs/crd-sources/")) == len(CRD_FILES)
    assert not [n for n in listing if n.startswith("cert-manager-rs/crds/")]
    proc = subprocess.run(
        [str(tools().helm), "template", "cert-manager", str(tgz), "--set", "crds.enabled=true", "--kube-version", KUBE_VERSION],
        capture_output=True, text=True, check=True,
    )
    assert sum(1 for d in yaml.safe_load_all(proc.stdout) if d and d["kind"] == "CustomResourceDefinition") == 6
