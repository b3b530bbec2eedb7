"""Waking the outbox's consumers when a fact commits, so they need not wait for their poll.

:func:`announce` is called by :func:`outbox.record` in the fact's transaction. On PostgreSQL
it sends ``NOTIFY plangate_outbox``, which the server delivers at commit only (never for a
transaction that rolled back): a worker in another process that listens (:class:`Listener`)
wakes at once. In this process an after-commit hook wakes every running loop registered
with :func:`add_waker`. Polling stays the fallback: a notice lost with a dropped listening
connection delays a delivery by one poll interval at most.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from plangate.store.db import Database

CHANNEL = "plangate_outbox"
_PENDING = "outbox_wake_pending"

log = logging.getLogger("plangate.outbox")
_wakers: set[Callable[[], None]] = set()
_lock = threading.Lock()


def announce(session: Session) -> None:
    """Marks the session's transaction as one that recorded a fact: listeners hear of it once
    it commits (one notice per transaction, however many facts it recorded)."""
    if session.info.get(_PENDING):
        return
    session.info[_PENDING] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_PENDING, False):
        with _lock:
            wakers = list(_wakers)
        for wake in wakers:
            wake()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING, None)


@contextmanager
def waking(wake: Callable[[], None], db: Database, stop: threading.Event) -> Iterator[None]:
    """While the block runs, ``wake`` is called when a fact commits: in this process through
    the after-commit hook, from other processes through a PostgreSQL listener."""
    with _lock:
        _wakers.add(wake)
    listener = None if db.is_sqlite else Listener(db, wake, stop)
    try:
        yield
    finally:
        with _lock:
            _wakers.discard(wake)
        if listener is not None:
            listener.join()


class Listener:
    """A thread holding a connection that ``LISTEN``s on the outbox channel and calls
    ``wake`` for every notice; it reconnects after a failure until ``stop`` is set."""

    def __init__(self, db: Database, wake: Callable[[], None], stop: threading.Event) -> None:
        self._conninfo = db.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        self._wake = wake
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="plangate-outbox-listen",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._wake()  # facts committed while no one listened
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self._wake()
            except Exception:  # noqa: BLE001 - the poll covers the gap; listen again shortly
                log.warning("outbox listener lost its connection; polling until it is back",
                            exc_info=True)
                self._stop.wait(1.0)

    def join(self) -> None:
        self._thread.join(timeout=5)
