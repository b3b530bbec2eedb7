"""A token bucket in the database, shared by every process that uses it.

The bucket is one row: ``paid_until_us``, the moment at which all calls reserved so far are
paid for at the budget's rate (the "theoretical arrival time" of the generic cell rate
algorithm). Taking a token is one atomic statement that moves it on by one interval,
``paid_until = max(paid_until, now) + interval``, and returns it with the database's now; the
call may go once ``paid_until - burst * interval <= now``, so the caller sleeps the
difference. Nobody is refused and nobody polls: concurrent callers queue on the row for
microseconds, each leaves with its own slot, and over any window of W seconds at most
``burst + rate * W`` calls go.

On PostgreSQL the statement is an ``UPDATE ... RETURNING`` in autocommit, timed by the
database's clock (so the workers of several machines agree on "now"). On SQLite it runs in a
``BEGIN IMMEDIATE`` transaction, timed by the machine's clock, which every process of an
SQLite installation shares; the row lives in a small database file beside the main one
(``<file>-stripe-budget``), because SQLite has one write lock per file and some Stripe calls
are made while their thread holds the main file's (the lock is the point there: it
serializes the work on one customer), so a budget in the same file would wait for itself.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from plangate.settings import Settings
from plangate.store.db import Database

_NOW_PG = "(extract(epoch from clock_timestamp()) * 1000000)::bigint"
_TAKE_PG = text(
    f"UPDATE stripe_call_budget SET paid_until_us = GREATEST(paid_until_us, {_NOW_PG}) "
    f"+ :interval WHERE name = :name RETURNING paid_until_us, {_NOW_PG}"
)
_TAKE_SQLITE = text(
    "UPDATE stripe_call_budget SET paid_until_us = max(paid_until_us, :now) + :interval "
    "WHERE name = :name RETURNING paid_until_us, :now"
)
_TABLE_SQLITE = text(
    "CREATE TABLE IF NOT EXISTS stripe_call_budget "
    "(name VARCHAR(64) PRIMARY KEY, paid_until_us BIGINT NOT NULL)"
)
_CREATE = text(
    "INSERT INTO stripe_call_budget (name, paid_until_us) VALUES (:name, 0) "
    "ON CONFLICT (name) DO NOTHING"
)


class SharedCallBudget:
    """``rate`` calls per second with bursts of up to ``burst`` calls, for every process
    whose budget has the same ``name`` in the same database."""

    def __init__(self, db: Database, rate: float, *, burst: int | None = None,
                 name: str = "stripe", sleep: Callable[[float], None] = time.sleep) -> None:
        if rate <= 0:
            raise ValueError("a call budget needs a positive rate")
        self.db = _bucket_database(db)
        self.rate = rate
        # A quarter of a second's calls at once: the budget's rate stays a fifth under
        # Stripe's, whose own bucket holds a whole second, so the burst never reaches it.
        self.burst = burst if burst is not None else max(1, int(rate / 4))
        self.name = name
        self.interval_us = max(1, round(1_000_000 / rate))
        self._sleep = sleep

    def reserve(self) -> float:
        """Takes the next slot; returns how many seconds to wait before the call may go."""
        row = self._take()
        if row is None:
            with self.db.statement_write() as conn:
                conn.execute(_CREATE, {"name": self.name})
            row = self._take()
            assert row is not None
        paid_until, now = row
        return max(0.0, (paid_until - self.burst * self.interval_us - now) / 1_000_000)

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

    def _take(self) -> tuple[int, int] | None:
        params: dict[str, object] = {"name": self.name, "interval": self.interval_us}
        with self.db.statement_write() as conn:
            if self.db.is_sqlite:
                # Read inside the write lock, so that "now" follows the queue's order.
                params["now"] = time.time_ns() // 1000
                found = conn.execute(_TAKE_SQLITE, params).first()
            else:
                found = conn.execute(_TAKE_PG, params).first()
        return (int(found[0]), int(found[1])) if found is not None else None


def _bucket_database(db: Database) -> Database:
    if not db.is_sqlite:
        return db
    main = db.url.database
    if main and main != ":memory:":
        side = f"{main}-stripe-budget"
    else:  # an in-memory database has one process: any private file will do
        handle, side = tempfile.mkstemp(suffix="-stripe-budget")
        os.close(handle)
        Path(side).unlink()
    budget_db = Database(f"sqlite:///{side}", pool_size=2)
    with budget_db.statement_write() as conn:
        conn.execute(_TABLE_SQLITE)
    return budget_db


def budget_for(db: Database, settings: Settings) -> SharedCallBudget | None:
    """The installation's budget from ``PLANGATE_STRIPE_RATE_LIMIT`` (None when it is 0)."""
    rate = settings.stripe_calls_per_second
    return SharedCallBudget(db, rate) if rate > 0 else None
