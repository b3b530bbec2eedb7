"""Engines and units of work.

``Database.write()`` is one transaction that may change state: on SQLite it starts with
``BEGIN IMMEDIATE`` so that concurrent writers queue on the database lock instead of failing
half-way with "database is locked"; on PostgreSQL writers take row locks where they need them.
``Database.read()`` is a plain transaction for reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_WRITE = "plangate_write"


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = _create_engine(url, pool_size=pool_size, echo=echo)
        self._pool_size = pool_size
        self._async_pools: dict[asyncio.AbstractEventLoop, Any] = {}
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        # On PostgreSQL a single statement is its own transaction: no BEGIN/COMMIT round trips.
        # A pool of its own, in autocommit from the start, so checkouts switch nothing.
        self._statement_engine = (
            self.engine
            if self.is_sqlite
            else _create_engine(url, pool_size=pool_size, echo=echo, isolation_level="AUTOCOMMIT")
        )
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read_sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def statement_read(self) -> Iterator[Connection]:
        """A connection for one read statement (the hot path of ``check``)."""
        with self._statement_engine.connect() as conn:
            yield conn

    @contextmanager
    def statement_write(self) -> Iterator[Connection]:
        """A connection for one atomic write: on PostgreSQL one statement in autocommit, so
        the caller must make its whole write a single statement; on SQLite a short
        ``BEGIN IMMEDIATE`` transaction, committed at the end of the block."""
        if self.is_sqlite:
            with self._write_engine.begin() as conn:
                yield conn
        else:
            with self._statement_engine.connect() as conn:
                yield conn

    @contextmanager
    def driver_connection(self) -> Iterator[Any]:
        """A pooled driver connection (psycopg in autocommit, or sqlite3 outside a
        transaction), for the one-statement hot paths worth skipping SQLAlchemy's
        per-execution work."""
        fairy = self._statement_engine.raw_connection()
        try:
            yield fairy.driver_connection
        finally:
            fairy.close()

    async def hot_read(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """PostgreSQL only: one statement on a pooled asyncio connection, so the event loop
        serves other requests while the database answers."""
        pool = await self._async_pool()
        async with pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            row: tuple[Any, ...] | None = await cursor.fetchone()
        return row

    async def hot_fetch_all(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """PostgreSQL only: like :meth:`hot_read`, all rows."""
        pool = await self._async_pool()
        async with pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            rows: list[tuple[Any, ...]] = await cursor.fetchall()
        return rows

    async def _async_pool(self) -> Any:
        # A pool belongs to the event loop that opened it (test clients run their own loops).
        from psycopg_pool import AsyncConnectionPool

        loop = asyncio.get_running_loop()
        pool = self._async_pools.get(loop)
        if pool is None:
            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            pool = AsyncConnectionPool(
                dsn, min_size=1, max_size=self._pool_size, kwargs={"autocommit": True},
                open=False,
            )
            self._async_pools[loop] = pool
            await pool.open()
        return pool

    async def close_async(self) -> None:
        """Closes the asyncio pool of the running loop (app shutdown)."""
        pool = self._async_pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        self._statement_engine.dispose()


def _create_engine(
    url: str, *, pool_size: int, echo: bool, isolation_level: str | None = None
) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if isolation_level is not None:
            return create_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_recycle=1800,
                echo=echo,
                isolation_level=isolation_level,
                # Autocommit connections come back with no transaction to roll back.
                pool_reset_on_return=None,
            )
        # No pre-ping: it would add a round trip to every checkout on the hot paths; stale
        # connections are recycled instead.
        return create_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800, echo=echo
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": 60},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
