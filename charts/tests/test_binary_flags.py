"""Every flag the chart passes is one the binaries accept (their --help lists it).

Uses the binaries in $CERT_MANAGER_RS_BIN_DIR or $CARGO_TARGET_DIR/debug (default target/debug); skipped when they are not built
(`cargo build -p controller -p webhook -p cainjector`)."""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path

import pytest

from cases import CASES, UPSTREAM_VALUES
from conftest import COMPONENTS, REPO, render

BIN_DIR = Path(
    os.environ.get(
        "CERT_MANAGER_RS_BIN_DIR",
        Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "debug",
    )
)


@functools.cache
def accepted_flags(component: str) -> set[str]:
    binary = BIN_DIR / component
    if not binary.exists():
        pytest.skip(f"{binary} is not built")
    help_text = subprocess.run([str(binary), "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"(?m)^\s+(?:-\w, )?--([a-z0-9-]+)", help_text))


def chart_flags(args: list[str]) -> set[str]:
    return {a[2:].split("=", 1)[0] for a in args if a.startswith("--")}


@pytest.mark.parametrize("component", COMPONENTS)
def test_chart_flags_exist_in_binary(component):
    accepted = accepted_flags(component)
    renders = [render(values) for values in CASES.values()] + [render(values_files=(UPSTREAM_VALUES,))]
    used = set()
    for out in renders:
        if out.deployment(component):
            used |= chart_flags(out.args(component))
    assert used, component
    assert sorted(used - accepted) == []
