from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect

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
