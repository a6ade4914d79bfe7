"""The shape of each component: names, images, args, probes, ports, Services, webhook
configurations, leader election and approval RBAC, Prometheus integration."""

from __future__ import annotations

import pytest

from cases import CASES
from conftest import COMPONENTS, render


def probe(container: dict, kind: str) -> tuple[str, object, str] | None:
    p = container.get(kind)
    if p is None:
        return None
    return (p["httpGet"]["path"], p["httpGet"]["port"], p["httpGet"]["scheme"])


def ports(container: dict) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in container.get("ports", [])}


def test_names_and_selectors_match_upstream():
    """Same names and immutable selectors as upstream, so an upstream release upgrades in place."""
    out = render()
    expected = {
        "controller": ("cert-manager", "cert-manager", "cert-manager-controller"),
        "webhook": ("cert-manager-webhook", "webhook", "cert-manager-webhook"),
        "cainjector": ("cert-manager-cainjector", "cainjector", "cert-manager-cainjector"),
    }
    for component, (name, app, container) in expected.items():
        dep = out.deployment(component)
        assert dep["metadata"]["name"] == name
        assert dep["spec"]["selector"]["matchLabels"] == {
            "app.kubernetes.io/name": app,
            "app.kubernetes.io/instance": "cert-manager",
            "app.kubernetes.io/component": component,
        }
        assert out.container(component)["name"] == container
        assert dep["spec"]["template"]["metadata"]["labels"]["app"] == app


def test_images_default_to_app_version():
    out = render()
    for component in COMPONENTS:
        assert out.container(component)["image"] == f"ghcr.io/cert-manager-rs/{component}:0.1.0"
        assert out.container(component)["imagePullPolicy"] == "IfNotPresent"
    assert "--acme-http01-solver-image=ghcr.io/cert-manager-rs/acmesolver:0.1.0" in out.args("controller")


@pytest.mark.parametrize(
    "image, expected",
    [
        ({"repository": "registry.example.com/cm/controller"}, "registry.example.com/cm/controller:0.1.0"),
        ({"tag": "v9"}, "ghcr.io/cert-manager-rs/controller:v9"),
        ({"tag": "v9", "digest": "sha256:abc"}, "ghcr.io/cert-manager-rs/controller:v9@sha256:abc"),
        ({"registry": "legacy.example.io"}, "legacy.example.io/ghcr.io/cert-manager-rs/controller:0.1.0"),
    ],
)
def test_image_values(image, expected):
    assert render({"image": image}).container("controller")["image"] == expected


def test_image_registry_and_namespace():
    out = render({"imageRegistry": "mirror.example.com", "imageNamespace": "team"})
    assert out.container("webhook")["image"] == "mirror.example.com/team/webhook:0.1.0"


def test_controller_default_args():
    assert render().args("controller") == [
        "--v=2",
        "--cluster-resource-namespace=$(POD_NAMESPACE)",
        "--leader-election-namespace=kube-system",
        "--acme-http01-solver-image=ghcr.io/cert-manager-rs/acmesolver:0.1.0",
        "--max-concurrent-challenges=60",
    ]


def test_webhook_default_args_as_upstream():
    assert render().args("webhook") == [
        "--v=2",
        "--secure-port=10250",
        "--dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE)",
        "--dynamic-serving-ca-secret-name=cert-manager-webhook-ca",
        "--dynamic-serving-dns-names=cert-manager-webhook",
        "--dynamic-serving-dns-names=cert-manager-webhook.$(POD_NAMESPACE)",
        "--dynamic-serving-dns-names=cert-manager-webhook.$(POD_NAMESPACE).svc",
    ]


def test_cainjector_default_args():
    assert render().args("cainjector") == ["--v=2", "--leader-election-namespace=kube-system"]


def test_extra_args_are_appended():
    out = render({"extraArgs": ["--kube-api-qps=9000"], "webhook": {"extraArgs": ["--tls-min-version=VersionTLS13"]}, "cainjector": {"extraArgs": ["--enable-apiservices-injectable=false"]}})
    assert "--kube-api-qps=9000" in out.args("controller")
    assert out.args("webhook")[-1] == "--tls-min-version=VersionTLS13"
    assert out.args("cainjector")[-1] == "--enable-apiservices-injectable=false"


def test_probes_and_ports():
    out = render()
    controller = out.container("controller")
    assert ports(controller) == {"http-metrics": 9402, "http-healthz": 9403}
    assert probe(controller, "livenessProbe") == ("/livez", "http-healthz", "HTTP")
    assert probe(controller, "readinessProbe") == ("/readyz", "http-healthz", "HTTP")
    assert controller["livenessProbe"]["failureThreshold"] == 8

    webhook = out.container("webhook")
    assert ports(webhook) == {"https": 10250, "healthcheck": 6080, "http-metrics": 9402}
    assert probe(webhook, "livenessProbe") == ("/livez", "healthcheck", "HTTP")
    assert probe(webhook, "readinessProbe") == ("/healthz", "healthcheck", "HTTP")

    cainjector = out.container("cainjector")
    assert ports(cainjector) == {"http-metrics": 9402}
    assert probe(cainjector, "readinessProbe") == ("/readyz", "http-metrics", "HTTP")
    assert probe(cainjector, "livenessProbe") is None


def test_probes_can_be_turned_off():
    out = render(CASES["probes-off"])
    assert probe(out.container("controller"), "livenessProbe") is None
    assert probe(out.container("controller"), "readinessProbe") is None
    assert probe(out.container("cainjector"), "readinessProbe") is None


def test_cainjector_probe_uses_https_with_metrics_tls():
    out = render(CASES["metrics-dynamic-tls"])
    assert probe(out.container("cainjector"), "readinessProbe") == ("/readyz", "http-metrics", "HTTPS")


def test_services():
    out = render()
    controller = out.get("Service", "cert-manager")
    assert controller["spec"]["ports"] == [{"name": "http-metrics", "protocol": "TCP", "port": 9402, "targetPort": "http-metrics"}]
    assert controller["spec"]["selector"]["app.kubernetes.io/component"] == "controller"
    webhook = out.get("Service", "cert-manager-webhook")
    assert webhook["spec"]["type"] == "ClusterIP"
    assert webhook["spec"]["ports"] == [
        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"},
        {"name": "metrics", "port": 9402, "protocol": "TCP", "targetPort": "http-metrics"},
    ]
    cainjector = out.get("Service", "cert-manager-cainjector")
    assert cainjector["spec"]["ports"][0]["port"] == 9402


def test_prometheus_disabled():
    out = render(CASES["prometheus-disabled"])
    # Upstream disables the webhook's and cainjector's metrics listeners, not the controller's.
    assert out.args("webhook")[-1] == "--metrics-listen-address=0"
    assert out.args("cainjector")[-1] == "--metrics-listen-address=0"
    assert not [a for a in out.args("controller") if a.startswith("--metrics-listen-address")]
    assert "http-metrics" not in ports(out.container("webhook"))
    assert "ports" not in out.container("cainjector")
    assert probe(out.container("cainjector"), "readinessProbe") is None
    assert [s["metadata"]["name"] for s in out.of_kind("Service")] == ["cert-manager-webhook"]
    assert [p["name"] for p in out.get("Service", "cert-manager-webhook")["spec"]["ports"]] == ["https"]
    for component in COMPONENTS:
        assert "annotations" not in out.deployment(component)["spec"]["template"]["metadata"]


def test_scrape_annotations_without_monitors():
    out = render()
    for component in COMPONENTS:
        annotations = out.deployment(component)["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {"prometheus.io/path": "/metrics", "prometheus.io/scrape": "true", "prometheus.io/port": "9402"}


def test_servicemonitor():
    out = render(CASES["servicemonitor"])
    (sm,) = out.of_kind("ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["metadata"]["namespace"] == "cert-manager"
    assert sm["metadata"]["labels"]["prometheus"] == "default"
    assert sm["metadata"]["labels"]["release"] == "prom"
    assert sm["spec"]["endpoints"] == [{"targetPort": "http-metrics", "path": "/metrics", "interval": "60s", "scrapeTimeout": "30s", "honorLabels": False}]
    components = next(e for e in sm["spec"]["selector"]["matchExpressions"] if e["key"] == "app.kubernetes.io/component")
    assert sorted(components["values"]) == ["cainjector", "controller", "webhook"]
    assert "namespaceSelector" not in sm["spec"]
    # Monitored Pods get no scrape annotations.
    for component in COMPONENTS:
        assert "annotations" not in out.deployment(component)["spec"]["template"]["metadata"]


def test_servicemonitor_in_another_namespace():
    (sm,) = render(CASES["servicemonitor-other-namespace"]).of_kind("ServiceMonitor")
    assert sm["metadata"]["namespace"] == "monitoring"
    assert sm["spec"]["namespaceSelector"] == {"matchNames": ["cert-manager"]}
    assert sm["spec"]["endpoints"][0]["scheme"] == "http"


def test_podmonitor():
    out = render(CASES["podmonitor"])
    (pm,) = out.of_kind("PodMonitor")
    assert pm["spec"]["podMetricsEndpoints"][0]["port"] == "http-metrics"
    assert not out.of_kind("ServiceMonitor")
    # As upstream: no metrics Services with a PodMonitor.
    assert [s["metadata"]["name"] for s in out.of_kind("Service")] == ["cert-manager-webhook"]


def test_servicemonitor_and_podmonitor_are_exclusive():
    from conftest import RenderError

    with pytest.raises(RenderError, match="mutually exclusive"):
        render({"prometheus": {"servicemonitor": {"enabled": True}, "podmonitor": {"enabled": True}}})


def test_cainjector_disabled():
    out = render(CASES["cainjector-disabled"])
    assert out.deployment("cainjector") is None
    names = [f"{d['kind']}/{d['metadata']['name']}" for d in out.docs]
    assert not [n for n in names if "cainjector" in n]


def test_webhook_configurations():
    out = render()
    for kind, path in [("MutatingWebhookConfiguration", "/mutate"), ("ValidatingWebhookConfiguration", "/validate")]:
        wh = out.get(kind, "cert-manager-webhook")
        assert wh["metadata"]["annotations"]["cert-manager.io/inject-ca-from-secret"] == "cert-manager/cert-manager-webhook-ca"
        (hook,) = wh["webhooks"]
        assert hook["name"] == "webhook.cert-manager.io"
        assert hook["clientConfig"] == {"service": {"name": "cert-manager-webhook", "namespace": "cert-manager", "path": path}}
        assert hook["timeoutSeconds"] == 30
        assert hook["failurePolicy"] == "Fail"
        assert hook["sideEffects"] == "None"
        assert hook["matchPolicy"] == "Equivalent"
        assert hook["admissionReviewVersions"] == ["v1"]
    validating = out.get("ValidatingWebhookConfiguration", "cert-manager-webhook")["webhooks"][0]
    assert validating["rules"] == [{"apiGroups": ["cert-manager.io", "acme.cert-manager.io"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["*/*"]}]
    assert validating["namespaceSelector"] == {"matchExpressions": [{"key": "cert-manager.io/disable-validation", "operator": "NotIn", "values": ["true"]}]}
    mutating = out.get("MutatingWebhookConfiguration", "cert-manager-webhook")["webhooks"][0]
    assert mutating["rules"] == [{"apiGroups": ["cert-manager.io"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["certificaterequests"]}]
    assert "namespaceSelector" not in mutating


def _rule_matches(rule: dict, group: str, version: str, resource: str, operation: str) -> bool:
    """Whether an admission rule selects the request, with the API server's wildcards
    (`*` for everything but subresources, `*/*` and `<resource>/*` for subresources)."""
    def any_of(values: list[str], value: str) -> bool:
        return "*" in values or value in values

    name, _, sub = resource.partition("/")
    resources = rule["resources"]
    if sub:
        resource_ok = resource in resources or "*/*" in resources or f"{name}/*" in resources or f"*/{sub}" in resources
    else:
        resource_ok = name in resources or "*" in resources
    return (
        any_of(rule["apiGroups"], group)
        and any_of(rule["apiVersions"], version)
        and any_of(rule["operations"], operation)
        and resource_ok
    )


def test_webhook_sees_and_may_check_approvals():
    """The approval check: CertificateRequest status updates reach /validate, and the webhook
    may create the SubjectAccessReviews it asks with."""
    for case in (None, CASES["everything-on"]):
        out = render(case)
        hook = out.get("ValidatingWebhookConfiguration", "cert-manager-webhook")["webhooks"][0]
        assert any(_rule_matches(r, "cert-manager.io", "v1", "certificaterequests/status", "UPDATE") for r in hook["rules"])
        # The matcher is strict: a rule for certificaterequests alone does not see status updates.
        assert not _rule_matches({"apiGroups": ["cert-manager.io"], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["certificaterequests"]},
                                 "cert-manager.io", "v1", "certificaterequests/status", "UPDATE")
    out = render()
    binding = out.get("ClusterRoleBinding", "cert-manager-webhook:subjectaccessreviews")
    assert binding["roleRef"]["name"] == "cert-manager-webhook:subjectaccessreviews"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "cert-manager-webhook", "namespace": "cert-manager"}]
    rules = out.get("ClusterRole", "cert-manager-webhook:subjectaccessreviews")["rules"]
    assert any("authorization.k8s.io" in r["apiGroups"] and "subjectaccessreviews" in r["resources"] and "create" in r["verbs"] for r in rules)


def test_webhook_url_host_and_host_network():
    out = render(CASES["everything-on"])
    validating = out.get("ValidatingWebhookConfiguration", "cert-manager-webhook")["webhooks"][0]
    assert validating["clientConfig"] == {"url": "https://webhook.example.com/validate"}
    assert "--dynamic-serving-dns-names=webhook.example.com" in out.args("webhook")
    pod = out.deployment("webhook")["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True and pod["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert ports(out.container("webhook"))["https"] == 10260
    assert "--secure-port=10260" in out.args("webhook")


def test_leader_election_roles_follow_the_namespace():
    for values, namespace in [({}, "kube-system"), (CASES["everything-on"], "cert-manager")]:
        out = render(values)
        for name, lease in [("cert-manager:leaderelection", ["cert-manager-controller"]), ("cert-manager-cainjector:leaderelection", ["cert-manager-cainjector-leader-election", "cert-manager-cainjector-leader-election-core"])]:
            role = out.get("Role", name)
            assert role["metadata"]["namespace"] == namespace
            assert role["rules"][0] == {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": lease, "verbs": ["get", "update", "patch"]}
            assert out.get("RoleBinding", name)["metadata"]["namespace"] == namespace


def test_approval_permissions():
    out = render()
    role = out.get("ClusterRole", "cert-manager-controller-approve:cert-manager-io")
    assert role["rules"] == [{"apiGroups": ["cert-manager.io"], "resources": ["signers"], "verbs": ["approve"], "resourceNames": ["issuers.cert-manager.io/*", "clusterissuers.cert-manager.io/*"]}]
    assert out.find("ClusterRoleBinding", "cert-manager-controller-approve:cert-manager-io")

    out = render(CASES["approve-any-signer"])
    assert "resourceNames" not in out.get("ClusterRole", "cert-manager-controller-approve:cert-manager-io")["rules"][0]

    out = render(CASES["disable-auto-approval"])
    assert out.find("ClusterRole", "cert-manager-controller-approve:cert-manager-io") is None
    assert out.find("ClusterRoleBinding", "cert-manager-controller-approve:cert-manager-io") is None
    assert "--controllers=-certificaterequests-approver" in out.args("controller")


def test_controller_can_do_its_job():
    """The union of the controller's rules covers what it does."""
    out = render()
    sa = "cert-manager"
    roles = {b["roleRef"]["name"] for b in out.of_kind("ClusterRoleBinding") if any(s["name"] == sa for s in b["subjects"])}
    allowed = set()
    for role in out.of_kind("ClusterRole"):
        if role["metadata"]["name"] in roles:
            for rule in role["rules"]:
                for group in rule["apiGroups"]:
                    for resource in rule["resources"]:
                        for verb in rule["verbs"]:
                            allowed.add((group, resource, verb))
    needed = [
        ("cert-manager.io", "certificates/status", "patch"),
        ("cert-manager.io", "certificaterequests", "create"),
        ("cert-manager.io", "issuers/status", "update"),
        ("cert-manager.io", "clusterissuers", "watch"),
        ("acme.cert-manager.io", "orders", "create"),
        ("acme.cert-manager.io", "challenges/status", "patch"),
        ("", "secrets", "patch"),
        ("", "secrets", "create"),
        ("", "events", "create"),
        ("", "pods", "create"),
        ("", "services", "delete"),
        ("networking.k8s.io", "ingresses", "create"),
        ("authorization.k8s.io", "subjectaccessreviews", "create"),
        ("cert-manager.io", "signers", "approve"),
    ]
    assert [n for n in needed if n not in allowed] == []


def test_existing_service_accounts():
    out = render(CASES["existing-service-accounts"])
    assert not out.of_kind("ServiceAccount")
    pods = {c: out.deployment(c)["spec"]["template"]["spec"] for c in COMPONENTS}
    assert pods["controller"]["serviceAccountName"] == "cm"
    assert pods["webhook"]["serviceAccountName"] == "cm-webhook"
    assert pods["cainjector"]["serviceAccountName"] == "default"
    for pod in pods.values():
        assert pod["imagePullSecrets"] == [{"name": "pull"}]
    binding = out.get("ClusterRoleBinding", "cert-manager-controller-issuers")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "cm", "namespace": "cert-manager"}]


def test_namespace_and_fullname_overrides():
    out = render(CASES["namespace-and-name-overrides"])
    assert out.deployment("controller")["metadata"]["name"] == "cm-rs"
    assert out.deployment("webhook")["metadata"]["name"] == "cm-rs-webhook"
    for d in out.docs:
        if "namespace" in d["metadata"] and d["kind"] not in ("Role", "RoleBinding"):
            assert d["metadata"]["namespace"] == "security", d["metadata"]["name"]
    wh = out.get("ValidatingWebhookConfiguration", "cm-rs-webhook")
    assert wh["metadata"]["annotations"]["cert-manager.io/inject-ca-from-secret"] == "security/cm-rs-webhook-ca"
    assert "--dynamic-serving-ca-secret-name=cm-rs-webhook-ca" in out.args("webhook")


def test_release_name_prefix():
    """A release not named after cert-manager gets prefixed names, as upstream."""
    from conftest import CHART, KUBE_VERSION, tools
    import subprocess
    import yaml

    proc = subprocess.run([str(tools().helm), "template", "prod", str(CHART), "-n", "certs", "--kube-version", KUBE_VERSION], capture_output=True, text=True, check=True)
    names = {d["metadata"]["name"] for d in yaml.safe_load_all(proc.stdout) if d and d["kind"] == "Deployment"}
    assert names == {"prod-cert-manager", "prod-cert-manager-webhook", "prod-cert-manager-cainjector"}


def test_static_creator_drops_helm_labels():
    out = render(CASES["static-creator"])
    for d in out.docs:
        assert "helm.sh/chart" not in d["metadata"].get("labels", {})
        assert "app.kubernetes.io/managed-by" not in d["metadata"].get("labels", {})


def test_common_labels_everywhere():
    out = render(CASES["everything-on"])
    for d in out.docs:
        if d["metadata"]["name"].endswith(("-extra", "-extra-map")):
            continue
        assert d["metadata"]["labels"]["team"] == "platform", f"{d['kind']} {d['metadata']['name']}"
    assert "--acme-http01-solver-extra-labels=team=platform" in out.args("controller")


def test_pod_disruption_budgets():
    out = render(CASES["everything-on"])
    pdbs = {p["metadata"]["name"]: p["spec"] for p in out.of_kind("PodDisruptionBudget")}
    assert pdbs["cert-manager"]["maxUnavailable"] == 1 and "minAvailable" not in pdbs["cert-manager"]
    assert pdbs["cert-manager-webhook"]["minAvailable"] == 1
    assert pdbs["cert-manager-cainjector"]["minAvailable"] == "50%"


def test_network_policies():
    out = render(CASES["everything-on"])
    names = sorted(p["metadata"]["name"] for p in out.of_kind("NetworkPolicy"))
    assert names == sorted(f"{n}-allow-{d}" for n in ["cert-manager", "cert-manager-webhook", "cert-manager-cainjector"] for d in ["ingress", "egress"])
    webhook_ingress = out.get("NetworkPolicy", "cert-manager-webhook-allow-ingress")
    assert webhook_ingress["spec"]["policyTypes"] == ["Ingress"]
    assert {p["port"] for p in webhook_ingress["spec"]["ingress"][0]["ports"]} == {"https", "healthcheck", "http-metrics"}


def test_refused_values():
    from conftest import RenderError

    with pytest.raises(RenderError, match="PodSecurityPolicy"):
        render({"global": {"podSecurityPolicy": {"enabled": True}}})
    with pytest.raises(RenderError, match="installCRDs"):
        render({"installCRDs": True, "crds": {"enabled": True}})
    with pytest.raises(RenderError, match="crds.keep"):
        render({"installCRDs": True, "crds": {"keep": False}})


def test_startupapicheck_values_are_accepted_but_render_nothing():
    out = render({"startupapicheck": {"enabled": True, "timeout": "5m", "extraArgs": ["-v"]}})
    assert not out.of_kind("Job")
    assert "startupapicheck" not in out.text
