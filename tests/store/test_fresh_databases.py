"""The suite's PostgreSQL databases are reused between tests (tests/conftest.py): a database
given back must come to the next test empty, under another name, with its sequences restarted;
one whose schema a test changed must not come back at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from plangate.store.migrate import downgrade


def _run(url: str, sql: str) -> Any:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            return conn.execute(text(sql)).all()
    finally:
        engine.dispose()


def _url(databases: Any, name: str) -> str:
    return str(databases.admin.url.set(database=name).render_as_string(hide_password=False))


def test_a_database_given_back_is_empty_and_renamed(postgres_databases: Any) -> None:
    databases = postgres_databases
    first = databases.take()
    url = _url(databases, first)
    insert = ("INSERT INTO api_keys (name, prefix, key_hash, created_at) "
              "VALUES ('tests', 'pk', md5(random()::text), now()) RETURNING id")
    assert _run(url, insert) == [(1,)]
    assert _run(url, insert) == [(2,)]
    left_open = create_engine(url, poolclass=NullPool).connect()  # as a leaked connection
    before = list(databases.free)
    databases.give_back(first)
    assert len(databases.free) == len(before) + 1, "the database was dropped, not reused"
    second = databases.take()
    assert second not in before and second != first
    assert _run(_url(databases, second), "SELECT count(*) FROM api_keys") == [(0,)]
    assert _run(_url(databases, second), insert) == [(1,)]
    names = [row[0] for row in _run(_url(databases, "postgres"),
                                     "SELECT datname FROM pg_database")]
    assert first not in names
    left_open.invalidate()
    databases.give_back(second)


def test_a_database_whose_schema_changed_is_dropped(postgres_databases: Any) -> None:
    databases = postgres_databases
    name = databases.take()
    downgrade(_url(databases, name), "0004")
    before = list(databases.free)
    databases.give_back(name)
    assert databases.free == before
    names = [row[0] for row in _run(_url(databases, "postgres"),
                                     "SELECT datname FROM pg_database")]
    assert name not in names
