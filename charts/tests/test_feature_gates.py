"""Feature gates: each component's value reaches exactly its own container's --feature-gates
and nothing else; KUBE_FEATURE_* env vars reach only the container whose extraEnv has them."""

from __future__ import annotations

import pytest

from cases import CASES
from conftest import COMPONENTS, render

# case -> the --feature-gates value expected on each component (None: no flag)
EXPECTED = {
    "defaults": {"controller": None, "webhook": None, "cainjector": None},
    "controller-gates": {"controller": "WatchListClient=false", "webhook": None, "cainjector": None},
    "webhook-gates": {"controller": None, "webhook": "WatchListClient=false", "cainjector": None},
    "cainjector-gates": {"controller": None, "webhook": None, "cainjector": "WatchListClient=false,ServerSideApply=true"},
    "all-gates": {
        "controller": "WatchListClient=false,ServerSideApply=true",
        "webhook": "OtherNames=false",
        "cainjector": "AllAlpha=true",
    },
    "gates-explicitly-on": {c: "WatchListClient=true" for c in COMPONENTS},
}


def gate_args(args: list[str]) -> list[str]:
    return [a.split("=", 1)[1] for a in args if a.startswith("--feature-gates")]


@pytest.mark.parametrize("case_id", EXPECTED)
def test_gates_reach_exactly_their_component(case_id):
    out = render(CASES[case_id])
    for component, expected in EXPECTED[case_id].items():
        got = gate_args(out.args(component))
        assert got == ([expected] if expected else []), component
    # Nothing gate-like leaks anywhere else: not into env, not into other containers' args,
    # not into ConfigMaps.
    for component in COMPONENTS:
        env = out.env(component)
        assert not [k for k in env if k.startswith("KUBE_FEATURE_")], component
    assert not out.of_kind("ConfigMap")


def test_cainjector_gates_absent_when_disabled():
    out = render({"cainjector": {"enabled": False, "featureGates": "WatchListClient=false"}})
    assert out.deployment("cainjector") is None
    assert "WatchListClient" not in out.text


@pytest.mark.parametrize(
    "values, expected",
    [
        (CASES["kube-feature-env"], {"controller": "false", "webhook": None, "cainjector": None}),
        (CASES["kube-feature-env-all"], {"controller": "false", "webhook": "true", "cainjector": "false"}),
        ({"webhook": {"extraEnv": [{"name": "KUBE_FEATURE_WatchListClient", "value": "false"}]}}, {"controller": None, "webhook": "false", "cainjector": None}),
        ({"cainjector": {"extraEnv": [{"name": "KUBE_FEATURE_WatchListClient", "value": "false"}]}}, {"controller": None, "webhook": None, "cainjector": "false"}),
    ],
    ids=["controller", "all", "webhook-only", "cainjector-only"],
)
def test_kube_feature_env_reaches_exactly_its_component(values, expected):
    out = render(values)
    for component, value in expected.items():
        env = out.env(component)
        assert env.get("KUBE_FEATURE_WatchListClient") == value, component
        # The env var does not turn into a flag.
        assert not gate_args(out.args(component)), component
        # POD_NAMESPACE stays first and present.
        assert out.container(component)["env"][0]["name"] == "POD_NAMESPACE"


def test_gates_in_config_file_stay_in_the_config_file():
    """featureGates inside `config` go into the ConfigMap only, not on the command line."""
    out = render(CASES["configs"])
    assert not gate_args(out.args("controller"))
    assert "WatchListClient: false" in out.get("ConfigMap", "cert-manager")["data"]["config.yaml"]
