"""Every case of the values matrix renders, passes kubernetes-validate --strict and yamllint,
and keeps the chart's invariants: hardened containers and least-privilege RBAC."""

from __future__ import annotations

import subprocess

import pytest

from cases import CASES, UPSTREAM_VALUES
from conftest import COMPONENTS, KUBE_VERSION, NAMESPACE, Rendered, render, tools

# Kinds kubernetes-validate has no schema for: reported as WARN, which is fine.
CUSTOM_KINDS = {"ServiceMonitor", "PodMonitor"}
SECRET_WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


def case_render(case_id: str) -> Rendered:
    if case_id == "upstream-compatible":
        return render(values_files=(UPSTREAM_VALUES,))
    return render(CASES[case_id])


ALL_CASES = [*CASES, "upstream-compatible"]


@pytest.mark.parametrize("case_id", ALL_CASES)
def test_kubernetes_validate(case_id, tmp_path):
    out = case_render(case_id)
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(out.text)
    proc = subprocess.run(
        [str(tools().tool("kubernetes-validate")), "--strict", "-k", KUBE_VERSION, "--quiet", str(manifest)],
        capture_output=True,
        text=True,
    )
    errors = [line for line in proc.stdout.splitlines() + proc.stderr.splitlines() if line.startswith("ERROR")]
    assert proc.returncode == 0 and not errors, "\n".join(errors) or proc.stderr
    for line in proc.stdout.splitlines():
        if line.startswith("WARN"):
            assert any(f"kind {k} " in line for k in CUSTOM_KINDS), line


@pytest.mark.parametrize("case_id", ALL_CASES)
def test_yamllint(case_id, tmp_path):
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(case_render(case_id).text)
    proc = subprocess.run(
        [str(tools().tool("yamllint")), "-d", "relaxed", "-f", "parsable", str(manifest)],
        capture_output=True,
        text=True,
    )
    errors = [line for line in proc.stdout.splitlines() if "[error]" in line]
    assert proc.returncode == 0 and not errors, "\n".join(errors)


def _containers(out: Rendered):
    for dep in out.of_kind("Deployment"):
        spec = dep["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            yield dep, spec, c


@pytest.mark.parametrize("case_id", ALL_CASES)
def test_containers_are_hardened(case_id):
    out = case_render(case_id)
    deployments = out.of_kind("Deployment")
    assert deployments
    for dep, spec, c in _containers(out):
        where = f"{dep['metadata']['name']}/{c['name']}"
        pod_sc = spec.get("securityContext", {})
        sc = c.get("securityContext", {})
        assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, where
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
        assert seccomp.get("type") == "RuntimeDefault", where
        assert sc.get("allowPrivilegeEscalation") is False, where
        assert sc.get("readOnlyRootFilesystem") is True, where
        assert "ALL" in sc.get("capabilities", {}).get("drop", []), where
        assert not sc.get("privileged", False), where
        assert not sc.get("capabilities", {}).get("add"), where


def _bindings(out: Rendered) -> dict[str, list[tuple[dict, dict]]]:
    """ServiceAccount name -> [(binding, role)] for the roles the chart defines."""
    roles = {(r["kind"], r["metadata"].get("namespace"), r["metadata"]["name"]): r for r in out.of_kind("Role") + out.of_kind("ClusterRole")}
    result: dict[str, list[tuple[dict, dict]]] = {}
    for b in out.of_kind("RoleBinding") + out.of_kind("ClusterRoleBinding"):
        ref = b["roleRef"]
        ns = b["metadata"].get("namespace") if ref["kind"] == "Role" else None
        role = roles.get((ref["kind"], ns, ref["name"]))
        assert role is not None, f"{b['kind']} {b['metadata']['name']} refers to a missing {ref['kind']} {ref['name']}"
        for s in b["subjects"]:
            assert s["kind"] == "ServiceAccount"
            result.setdefault(s["name"], []).append((b, role))
    return result


def _service_account(out: Rendered, component: str) -> str:
    dep = out.deployment(component)
    return dep["spec"]["template"]["spec"]["serviceAccountName"] if dep else None


@pytest.mark.parametrize("case_id", ALL_CASES)
def test_rbac_has_no_wildcards(case_id):
    out = case_render(case_id)
    for role in out.of_kind("Role") + out.of_kind("ClusterRole"):
        for rule in role["rules"]:
            where = f"{role['kind']} {role['metadata']['name']}: {rule}"
            assert "*" not in rule["verbs"], where
            assert all("*" not in r for r in rule.get("resources", [])), where
            assert "*" not in rule.get("apiGroups", []), where
            assert "nonResourceURLs" not in rule, where


def _metrics_ca_secret(case_id: str, component: str, namespace: str) -> set[str]:
    """The metrics dynamic-serving CA Secret of a component's config, if kept in namespace."""
    config = CASES.get(case_id, {}).get(component, {}).get("config", {})
    dynamic = (config.get("metricsTLSConfig") or {}).get("dynamic") or {}
    if dynamic.get("secretNamespace") == namespace and dynamic.get("secretName"):
        return {dynamic["secretName"]}
    return set()


@pytest.mark.parametrize("case_id", ALL_CASES)
def test_rbac_secret_writes(case_id):
    """Only the controller writes Secrets cluster-wide. The webhook's Secret access is a Role in
    its namespace limited by name to its CA Secret (plus the metrics CA when its config keeps
    one there), except create, which RBAC cannot limit by name. The cainjector only reads
    Secrets (plus, like the webhook, an optional metrics CA)."""
    out = case_render(case_id)
    if not out.of_kind("ClusterRole"):
        assert case_id == "rbac-disabled"
        return
    bindings = _bindings(out)
    webhook = out.deployment("webhook")
    namespace = webhook["metadata"]["namespace"]
    named = {
        "webhook": {f"{webhook['metadata']['name']}-ca"} | _metrics_ca_secret(case_id, "webhook", namespace),
        "cainjector": _metrics_ca_secret(case_id, "cainjector", namespace),
    }
    controller_writes = set()
    for component in COMPONENTS:
        sa = _service_account(out, component)
        if sa is None:
            continue
        for _, role in bindings.get(sa, []):
            for rule in role["rules"]:
                if "secrets" not in rule.get("resources", []) or "" not in rule.get("apiGroups", []):
                    continue
                writes = SECRET_WRITE_VERBS & set(rule["verbs"])
                where = f"{component} via {role['kind']} {role['metadata']['name']}: {rule}"
                if component == "controller":
                    controller_writes |= writes
                elif role["kind"] == "ClusterRole":
                    assert not writes, where
                    assert component == "cainjector", where  # the webhook reads no other Secret
                else:
                    assert role["metadata"]["namespace"] == namespace, where
                    if rule.get("resourceNames"):
                        assert set(rule["resourceNames"]) <= named[component], where
                        assert set(rule["verbs"]) <= {"get", "list", "watch", "update"}, where
                    else:
                        assert rule["verbs"] == ["create"], where
    assert {"create", "update", "patch"} <= controller_writes


def test_webhook_ca_secret_access_is_by_name():
    out = render()
    role = out.get("Role", "cert-manager-webhook:dynamic-serving")
    assert role["metadata"]["namespace"] == "cert-manager"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["cert-manager-webhook-ca"], "verbs": ["get", "list", "watch", "update"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ]
    sar = out.get("ClusterRole", "cert-manager-webhook:subjectaccessreviews")
    assert sar["rules"] == [{"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]}]


@pytest.mark.parametrize("case_id", ALL_CASES)
def test_every_component_is_bound(case_id):
    out = case_render(case_id)
    if not out.of_kind("ClusterRole"):
        assert not out.of_kind("Role") and not out.of_kind("RoleBinding")
        return
    bindings = _bindings(out)
    for component in COMPONENTS:
        sa = _service_account(out, component)
        if sa is None:
            continue
        assert sa in bindings, f"{component} ({sa}) has no permissions"


@pytest.mark.parametrize("case_id", ALL_CASES)
def test_namespaced_resources_have_namespaces(case_id):
    out = case_render(case_id)
    cluster_scoped = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
    for d in out.docs:
        if d["kind"] in cluster_scoped:
            assert "namespace" not in d["metadata"], d["metadata"]["name"]
        else:
            assert d["metadata"].get("namespace"), f"{d['kind']} {d['metadata']['name']}"


def test_defaults_render_the_expected_objects():
    out = render()
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in out.docs)
    for expected in [
        "Deployment/cert-manager",
        "Deployment/cert-manager-webhook",
        "Deployment/cert-manager-cainjector",
        "Service/cert-manager",
        "Service/cert-manager-webhook",
        "Service/cert-manager-cainjector",
        "ServiceAccount/cert-manager",
        "ServiceAccount/cert-manager-webhook",
        "ServiceAccount/cert-manager-cainjector",
        "MutatingWebhookConfiguration/cert-manager-webhook",
        "ValidatingWebhookConfiguration/cert-manager-webhook",
        "Role/cert-manager:leaderelection",
        "Role/cert-manager-cainjector:leaderelection",
        "Role/cert-manager-webhook:dynamic-serving",
    ]:
        assert expected in kinds
    for absent in ["CustomResourceDefinition", "ConfigMap", "PodDisruptionBudget", "ServiceMonitor", "PodMonitor", "NetworkPolicy", "Job"]:
        assert not out.of_kind(absent), absent
    assert all(d["metadata"].get("namespace", NAMESPACE) in (NAMESPACE, "kube-system") for d in out.docs)
