"""Stripe or test mode is chosen once, at start-up, behind one interface."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_stripe_or_test_mode_is_chosen_in_one_place() -> None:
    # Business code never asks which gateway runs: the purchase backend chosen at start-up
    # (services/purchases/backends) answers for it. "test_mode" quoted is an error code.
    asks = re.compile(r'name\s*[!=]=\s*"test"|(?<![`"])\btest_mode\b(?![`"])')
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "src" / "plangate").rglob("*.py"))
        if "sandbox" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if asks.search(line)
    ]
    assert found == ["src/plangate/services/purchases/backends/__init__.py:15"], found
