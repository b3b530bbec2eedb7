from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from plangate.store.migrate import downgrade, upgrade
from plangate.store.models import Base


def test_migrations_run_from_empty_and_back(database_url: str, tmp_path: Path) -> None:
    """The fixture's database was migrated from empty; the schema equals the models', and the
    migrations undo and redo cleanly."""
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set(Base.metadata.tables)
    engine.dispose()
    downgrade(database_url, "base")
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(database_url)
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set(Base.metadata.tables)
    engine.dispose()


def test_ledger_idempotency_keys_become_unique_per_customer_and_item(database_url: str) -> None:
    """0005: of entries that shared a key for one customer and item (possible before, across
    API keys), the earliest keeps it; from then on the index refuses a second one."""
    downgrade(database_url, "0004")
    engine = create_engine(database_url)
    entry = (
        "INSERT INTO ledger_entries (customer_type, customer_id, item_id, delta, balance_after,"
        " kind, idempotency_key, created_at)"
        " VALUES ('custom', 'acme', :item, -1, 0, 'consume', :key, '2026-03-01 00:00:00')"
    )
    rows = [("credits", "k"), ("credits", "k"), ("tokens", "k"), ("credits", None)]
    with engine.begin() as conn:
        for item, key in rows:
            conn.execute(text(entry), {"item": item, "key": key})
    upgrade(database_url)
    with engine.begin() as conn:
        keys = conn.execute(
            text("SELECT item_id, idempotency_key FROM ledger_entries ORDER BY id")
        ).all()
    assert [tuple(row) for row in keys] == [
        ("credits", "k"),
        ("credits", None),
        ("tokens", "k"),
        ("credits", None),
    ]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(entry), {"item": "tokens", "key": "k"})
    engine.dispose()
