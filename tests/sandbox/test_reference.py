"""docs/sandbox-parameters.md is the table the route declarations generate."""

from __future__ import annotations

from pathlib import Path

from plangate.sandbox.reference import parameters_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox-parameters.md"


def test_the_parameters_reference_is_current() -> None:
    assert DOC.read_text() == parameters_table(), (
        "regenerate: python -m plangate.sandbox.reference > docs/sandbox-parameters.md")


def test_the_reference_lists_what_is_refused_beside_what_is_implemented() -> None:
    row = next(line for line in parameters_table().splitlines()
               if line.startswith("| `POST /v1/subscriptions` "))
    implemented, refused = row.split(" | ")[2:4]
    assert "`items.price`" in implemented and "`trial_period_days`" in implemented
    assert "`billing_cycle_anchor`" in refused and "`collection_method`" in refused
