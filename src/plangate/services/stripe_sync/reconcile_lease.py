"""One reconcile per installation at a time.

A lease in one row of ``stripe_reconcile_leases``, taken in a write transaction (the row is
inserted if missing, then locked: ``SELECT ... FOR UPDATE`` on PostgreSQL, the write lock on
SQLite), so two processes asking at once see each other's answer. The holder renews it while
it works (:meth:`Lease.keep`, between customers) and releases it at the end, recording when
the reconcile finished; a holder that dies stops renewing, and the lease is free again
``LEASE_SECONDS`` later. Times are the wall clock (``queue_clock``), as for event leases.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from plangate.clock import Clock
from plangate.store.db import Database
from plangate.store.models import ReconcileLease

NAME = "reconcile"
LEASE_SECONDS = 300


def new_holder() -> str:
    """A name for a lease holder: the machine and process, unique per call."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Lease:
    db: Database
    holder: str
    clock: Clock
    expires_at: datetime

    def keep(self) -> bool:
        """Renews the lease once a third of it has passed; False once another holder has it
        (this one expired), and the reconcile should stop."""
        now = self.clock.now()
        if now < self.expires_at - timedelta(seconds=LEASE_SECONDS * 2 / 3):
            return True
        expires_at = now + timedelta(seconds=LEASE_SECONDS)
        with self.db.write() as session:
            renewed = session.execute(
                update(ReconcileLease)
                .where(ReconcileLease.name == NAME, ReconcileLease.holder == self.holder)
                .values(expires_at=expires_at)
            ).rowcount  # type: ignore[attr-defined]
        if renewed:
            self.expires_at = expires_at
        return bool(renewed)

    def release(self, *, finished: bool) -> None:
        """Frees the lease; ``finished``: the reconcile ran to its end, and others count from
        now before the next one."""
        values: dict[str, object] = {"holder": None, "expires_at": None}
        if finished:
            values["finished_at"] = self.clock.now()
        with self.db.write() as session:
            session.execute(
                update(ReconcileLease)
                .where(ReconcileLease.name == NAME, ReconcileLease.holder == self.holder)
                .values(**values)
            )


@dataclass(frozen=True)
class Busy:
    """Why no lease was taken: another holder runs a reconcile, or one finished recently."""

    holder: str | None
    expires_at: datetime | None
    finished_at: datetime | None


def _aware(moment: datetime | None, like: datetime) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite hands back naive UTC
        return moment.replace(tzinfo=like.tzinfo)
    return moment


def take(
    db: Database, clock: Clock, holder: str, *, unless_finished_after: datetime | None = None
) -> Lease | Busy:
    """The lease, unless another holder's is still running or (``unless_finished_after``)
    a reconcile finished after that moment, which makes this one unnecessary."""
    now = clock.now()
    with db.write() as session:
        insert = sqlite.insert if db.is_sqlite else postgresql.insert
        session.execute(
            insert(ReconcileLease)
            .values(name=NAME, holder=None, expires_at=None, finished_at=None)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        row = session.execute(
            select(ReconcileLease).where(ReconcileLease.name == NAME).with_for_update()
        ).scalar_one()
        expires_at = _aware(row.expires_at, now)
        finished_at = _aware(row.finished_at, now)
        running = row.holder is not None and expires_at is not None and expires_at > now
        recent = (
            unless_finished_after is not None
            and finished_at is not None
            and finished_at > unless_finished_after
        )
        if running or recent:
            return Busy(row.holder if running else None, expires_at, finished_at)
        row.holder = holder
        row.expires_at = now + timedelta(seconds=LEASE_SECONDS)
        return Lease(db, holder, clock, row.expires_at)
