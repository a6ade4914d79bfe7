"""config, webhook.config and cainjector.config: ConfigMaps with upstream's default
apiVersion/kind, mounted at /var/cert-manager/config, passed with --config exactly as upstream."""

from __future__ import annotations

import pytest
import yaml

from cases import CASES
from conftest import render

CONFIG_ARG = "--config=/var/cert-manager/config/config.yaml"
KINDS = {
    "controller": ("cert-manager", "controller.config.cert-manager.io/v1alpha1", "ControllerConfiguration"),
    "webhook": ("cert-manager-webhook", "webhook.config.cert-manager.io/v1alpha1", "WebhookConfiguration"),
    "cainjector": ("cert-manager-cainjector", "cainjector.config.cert-manager.io/v1alpha1", "CAInjectorConfiguration"),
}


def component_config(values: dict, component: str) -> dict:
    return values.get("config", {}) if component == "controller" else values.get(component, {}).get("config", {})


@pytest.mark.parametrize("component", KINDS)
def test_config_file_rendered_mounted_and_passed(component):
    values = CASES["configs"]
    out = render(values)
    name, api_version, kind = KINDS[component]
    cm = out.get("ConfigMap", name)
    assert cm["metadata"]["namespace"] == "cert-manager"
    assert set(cm["data"]) == {"config.yaml"}
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert config == {"apiVersion": api_version, "kind": kind, **component_config(values, component)}

    args = out.args(component)
    assert args.count(CONFIG_ARG) == 1
    assert args.index(CONFIG_ARG) == 1, "right after --v, as upstream"
    container = out.container(component)
    assert {"name": "config", "mountPath": "/var/cert-manager/config"} in container["volumeMounts"]
    pod = out.deployment(component)["spec"]["template"]["spec"]
    assert {"name": "config", "configMap": {"name": name}} in pod["volumes"]
    # Pods roll when the file changes.
    annotations = out.deployment(component)["spec"]["template"]["metadata"]["annotations"]
    assert len(annotations["checksum/config"]) == 64


@pytest.mark.parametrize("component", KINDS)
def test_no_config_no_configmap(component):
    out = render()
    assert not out.of_kind("ConfigMap")
    assert not [a for a in out.args(component) if a.startswith("--config")]
    assert "volumes" not in out.deployment(component)["spec"]["template"]["spec"]
    assert "volumeMounts" not in out.container(component)


def test_pinned_api_version_is_kept():
    out = render(CASES["configs-pinned-apiversion"])
    config = yaml.safe_load(out.get("ConfigMap", "cert-manager")["data"]["config.yaml"])
    assert config == CASES["configs-pinned-apiversion"]["config"]


def test_only_the_configured_component_gets_a_config():
    out = render({"webhook": {"config": {"logging": {"format": "json"}}}})
    assert [cm["metadata"]["name"] for cm in out.of_kind("ConfigMap")] == ["cert-manager-webhook"]
    assert CONFIG_ARG in out.args("webhook")
    assert CONFIG_ARG not in out.args("controller")
    assert CONFIG_ARG not in out.args("cainjector")


def test_user_volumes_sit_next_to_the_config_volume():
    out = render(
        {
            "config": {"kubernetesAPIQPS": 10},
            "volumes": [{"name": "creds", "secret": {"secretName": "creds"}}],
            "volumeMounts": [{"name": "creds", "mountPath": "/creds"}],
        }
    )
    pod = out.deployment("controller")["spec"]["template"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["config", "creds"]
    assert [m["name"] for m in out.container("controller")["volumeMounts"]] == ["config", "creds"]


def test_webhook_config_secure_port_and_tls_replace_flags():
    out = render(CASES["webhook-config-tls"])
    args = out.args("webhook")
    assert not [a for a in args if a.startswith("--secure-port")]
    assert not [a for a in args if a.startswith("--dynamic-serving")]
    ports = {p["name"]: p["containerPort"] for p in out.container("webhook")["ports"]}
    assert ports["https"] == 6443
    assert ports["healthcheck"] == 8080
