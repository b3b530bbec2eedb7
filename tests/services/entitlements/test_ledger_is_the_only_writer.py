"""Invariant 9 for items: the ledger package alone writes lots, balances and ledger entries.
Other modules call it; a write anywhere else is found here by its shape in the source."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "plangate"
LEDGER = SRC / "services" / "entitlements" / "ledger"
MODELS = r"(ItemLot|ItemBalance|LedgerEntry)"
TABLES = r"(item_lots|item_balances|ledger_entries)"
WRITES = [
    re.compile(rf"\b(update|delete|insert)\(\s*{MODELS}\b"),  # SQLAlchemy statements
    re.compile(rf"(?<![\w.]){MODELS}\("),  # new rows
    re.compile(rf"\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+{TABLES}\b", re.IGNORECASE),
]


def writes_outside_the_ledger(root: Path) -> list[str]:
    ledger = root / "services" / "entitlements" / "ledger"
    found = []
    for path in sorted(root.rglob("*.py")):
        if ledger in path.parents or "migrations" in path.parts or path.name == "models.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if any(pattern.search(line) for pattern in WRITES):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_only_the_ledger_writes_lots_balances_and_entries() -> None:
    assert LEDGER.is_dir()
    assert writes_outside_the_ledger(SRC) == []


def test_the_scan_finds_a_write(tmp_path: Path) -> None:
    module = tmp_path / "services" / "elsewhere.py"
    module.parent.mkdir()
    module.write_text("session.execute(update(ItemBalance).values(settle_at=at))\n")
    assert len(writes_outside_the_ledger(tmp_path)) == 1
