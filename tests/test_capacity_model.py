"""docs/scaling.md's tables are what bench/capacity_model.py prints from its inputs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from bench import capacity_model

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scaling.md"


def test_the_docs_tables_are_the_scripts_output() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "bench.capacity_model"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    from_script = capacity_model.blocks_in(printed)
    assert set(from_script) == {"inputs", "load", "stripe", "reconcile", "primary", "storage"}
    in_doc = capacity_model.blocks_in(DOC.read_text())
    assert in_doc == from_script, (
        "docs/scaling.md differs from the model: "
        ".venv/bin/python -m bench.capacity_model --write docs/scaling.md"
    )


def test_the_measured_inputs_are_the_benchmarks_figures() -> None:
    """Each measured input appears in docs/benchmarks.md as written there."""
    with capacity_model.INPUTS.open("rb") as f:
        measured = tomllib.load(f)["measured"]
    benchmarks = (ROOT / "docs" / "benchmarks.md").read_text()
    for name, value in measured.items():
        if name == "events_per_renewal":
            continue  # stated in words: four event types per subscription
        text = f"{value:,}" if isinstance(value, int) else f"{value:.2f}".rstrip("0")
        if isinstance(value, float) and text.endswith("."):
            text += "0"
        assert text in benchmarks, f"{name} = {text} is not in docs/benchmarks.md"


def test_an_assumption_changes_the_tables() -> None:
    inputs = capacity_model.load()
    inputs["assumed"]["renew_on_first_share"] = 0.0
    model = capacity_model.Model(inputs)
    assert model.events_first == model.events_day
    assert (
        model.blocks()["stripe"] != capacity_model.Model(capacity_model.load()).blocks()["stripe"]
    )
