"""values.schema.json: draft-07, accepts the chart's and upstream's values, rejects typos."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from cases import CASES, UPSTREAM_VALUES
from conftest import CHART, RenderError, render

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def errors(values: dict) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(values)]


def test_schema_is_draft_07_and_closed():
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert SCHEMA["additionalProperties"] is False


def test_default_values_match_schema():
    assert errors(yaml.safe_load((CHART / "values.yaml").read_text())) == []


def test_schema_covers_every_default_value():
    """Every key in values.yaml is declared (not merely tolerated) by the schema."""

    def walk(values, schema, path):
        while "$ref" in schema:
            schema = SCHEMA["definitions"][schema["$ref"].rsplit("/", 1)[1]]
        props = schema.get("properties")
        if not isinstance(values, dict) or props is None:
            return
        for k, v in values.items():
            assert k in props, f"{path}{k} is not declared in values.schema.json"
            walk(v, props[k], f"{path}{k}.")

    walk(yaml.safe_load((CHART / "values.yaml").read_text()), SCHEMA, "")


@pytest.mark.parametrize("case_id", CASES)
def test_matrix_values_match_schema(case_id):
    assert errors(CASES[case_id]) == []


def test_upstream_values_match_schema():
    assert errors(yaml.safe_load(UPSTREAM_VALUES.read_text())) == []


@pytest.mark.parametrize(
    "values, message",
    [
        ({"replicaCont": 2}, "replicaCont"),
        ({"featureGate": "WatchListClient=false"}, "featureGate"),
        ({"installCrds": True}, "installCrds"),
        ({"webhook": {"secure_port": 10250}}, "secure_port"),
        ({"cainjector": {"featuregates": "A=true"}}, "featuregates"),
        ({"prometheus": {"serviceMonitor": {"enabled": True}}}, "serviceMonitor"),
        ({"crds": {"enable": True}}, "enable"),
    ],
)
def test_typos_are_rejected_by_helm(values, message):
    with pytest.raises(RenderError, match=f"Additional property {message} is not allowed"):
        render(values)


@pytest.mark.parametrize(
    "values",
    [
        {"featureGates": {"WatchListClient": False}},
        {"featureGates": "WatchListClient"},
        {"webhook": {"securePort": "10250"}},
        {"webhook": {"timeoutSeconds": 31}},
        {"replicaCount": "2"},
        {"extraEnv": [{"value": "no name"}]},
        {"image": {"pullPolicy": "Sometimes"}},
        {"podDisruptionBudget": {"minAvailable": True}},
    ],
    ids=lambda v: json.dumps(v),
)
def test_wrong_types_are_rejected(values):
    assert errors(values)
    with pytest.raises(RenderError, match="schema"):
        render(values)
