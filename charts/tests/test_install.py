"""`helm install` of the chart into the local control plane.

Rendering tests say what the chart would send; these say that an API server takes it: every
case of the values matrix is installed with helm v3 (a few with helm v4, which uses server-side
apply) into cm-envtest-apiserver, which stores each object through its real registry with
validation (Deployment selectors, RBAC rules and bindings, PodDisruptionBudgets, webhook
configurations, CRD structural schemas). No Pods run there, so installs do not `--wait`; the
end-to-end suite (e2e/, `make e2e`) runs the components.

The control plane comes from crates/testkit's `local-control-plane` (built here with cargo; the
API server binaries from hack/install-envtest.sh).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from cases import CASES
from conftest import CHART, REPO, TESTS, tools

# Namespaces the cases install into besides the release's own.
EXTRA_NAMESPACES = ("monitoring", "security", "issuer-secrets")
# ServiceMonitor and PodMonitor CRDs (schema-less stand-ins for the Prometheus Operator's).
MONITORING_CRDS = TESTS / "fixtures" / "monitoring-crds.yaml"
# Cases that install the CRDs: each needs a control plane of its own, since two releases cannot
# own the same CRD.
CRD_CASES = sorted(k for k, v in CASES.items() if v.get("installCRDs") or v.get("crds", {}).get("enabled"))
SHARED_CASES = sorted(k for k in CASES if k not in CRD_CASES)
HELM4_CASES = ("defaults", "everything-on", "servicemonitor", "crds-enabled")
START_TIMEOUT = 180


def _launcher() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    subprocess.run(
        ["cargo", "build", "-q", "-p", "testkit", "--bin", "local-control-plane"],
        cwd=REPO,
        check=True,
    )
    return target / "debug" / "local-control-plane"


@contextmanager
def control_plane():
    """A fresh local control plane with the monitoring CRDs and the extra namespaces; yields
    its kubeconfig path and stops it afterwards."""
    with tempfile.TemporaryDirectory(prefix="chart-install-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        log = open(Path(tmp) / "control-plane.log", "w+")
        cmd = [str(_launcher()), "--crds", str(MONITORING_CRDS), "--kubeconfig-out", str(kubeconfig)]
        for ns in EXTRA_NAMESPACES:
            cmd += ["--namespace", ns]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not kubeconfig.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"local control plane did not start ({proc.returncode}):\n{log.read()[-4000:]}")
                time.sleep(0.1)
            yield kubeconfig
        finally:
            # SIGTERM: the launcher stops etcd and the API server before it exits.
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


@pytest.fixture(scope="module")
def shared_control_plane():
    with control_plane() as kubeconfig:
        yield kubeconfig


def helm(kubeconfig: Path, *args: str, helm_bin: Path | None = None) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="helm-home-") as home:
        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "HELM_CACHE_HOME": f"{home}/cache",
            "HELM_CONFIG_HOME": f"{home}/config",
            "HELM_DATA_HOME": f"{home}/data",
        }
        return subprocess.run(
            [str(helm_bin or tools().helm), *args], capture_output=True, text=True, env=env, timeout=300
        )


def install(kubeconfig: Path, release: str, values: dict, helm_bin: Path | None = None) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(values, f)
    try:
        proc = helm(
            kubeconfig,
            "install", release, str(CHART), "--namespace", "cert-manager", "--create-namespace",
            "--values", f.name,
            helm_bin=helm_bin,
        )
    finally:
        os.unlink(f.name)
    assert proc.returncode == 0, f"helm install {release} failed:\n{proc.stderr}"
    status = helm(kubeconfig, "status", release, "--namespace", "cert-manager", "--output", "json", helm_bin=helm_bin)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["info"]["status"] == "deployed"


def release_name(case: str, prefix: str = "r") -> str:
    # Release names become resource-name prefixes; keep them short and distinct per case.
    return f"{prefix}{sorted(CASES).index(case):02d}"


@pytest.mark.parametrize("case", SHARED_CASES)
def test_install(shared_control_plane, case):
    install(shared_control_plane, release_name(case), CASES[case])


@pytest.mark.parametrize("case", CRD_CASES)
def test_install_with_crds(case):
    with control_plane() as kubeconfig:
        install(kubeconfig, release_name(case), CASES[case])


@pytest.mark.parametrize("case", HELM4_CASES)
def test_install_helm4(shared_control_plane, case):
    helm4 = tools().helm4
    if helm4 is None:
        pytest.skip("helm v4 not installed (CHART_TOOLS_HELM4=0)")
    if case in CRD_CASES:
        with control_plane() as kubeconfig:
            install(kubeconfig, release_name(case, "v"), CASES[case], helm_bin=helm4)
    else:
        install(shared_control_plane, release_name(case, "v"), CASES[case], helm_bin=helm4)


def test_upgrade_changes_gates_and_keeps_selectors(shared_control_plane):
    """An upgrade that changes every component's arguments is accepted (Deployment selectors
    are immutable, so a chart that changed them would fail here)."""
    release = "upgrade"
    install(shared_control_plane, release, {})
    values = {"featureGates": "WatchListClient=false", "webhook": {"featureGates": "WatchListClient=false"},
              "cainjector": {"featureGates": "WatchListClient=false"}}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(values, f)
    try:
        proc = helm(shared_control_plane, "upgrade", release, str(CHART), "--namespace", "cert-manager", "--values", f.name)
    finally:
        os.unlink(f.name)
    assert proc.returncode == 0, proc.stderr
    manifest = helm(shared_control_plane, "get", "manifest", release, "--namespace", "cert-manager")
    assert manifest.stdout.count("--feature-gates=WatchListClient=false") == 3


def test_invalid_object_is_refused(shared_control_plane):
    """The API server validates what helm sends: a Deployment whose selector does not match its
    Pod template fails the install (so passing installs mean something)."""
    bad = {"extraObjects": [{
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "bad-selector", "namespace": "cert-manager"},
        "spec": {"selector": {"matchLabels": {"app": "a"}},
                 "template": {"metadata": {"labels": {"app": "b"}},
                              "spec": {"containers": [{"name": "c", "image": "x"}]}}},
    }]}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(bad, f)
    try:
        proc = helm(shared_control_plane, "install", "bad", str(CHART), "--namespace", "cert-manager", "--values", f.name)
    finally:
        os.unlink(f.name)
    assert proc.returncode != 0
    assert "`selector` does not match template `labels`" in proc.stderr, proc.stderr
