"""One worker per SQLite database file.

SQLite has one writer at a time, and the sync holds its write transaction across the Stripe
fetch (sync.py: that is what orders the fetches). A second worker on the same file therefore
adds no throughput: it waits on the database lock for as long as the first one's Stripe call
takes, its attempts fail with "database is locked" past the busy timeout, and it runs a second
reconcile. So a worker on SQLite takes an exclusive lock on a file beside the database
(``<database>.worker.lock``, ``flock``: the kernel releases it when the process ends, even
killed) and another worker on the same file refuses to start. PostgreSQL needs none of this:
any number of workers share the queue there.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass

from sqlalchemy.engine import make_url

from plangate.store.db import Database


class WorkerAlreadyRunning(RuntimeError):
    """Another worker holds the database file's worker lock."""


@dataclass
class WorkerLock:
    path: str
    _fd: int | None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def lock_path(database_url: str) -> str | None:
    """The worker lock's path for a SQLite file; None for PostgreSQL or in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return os.path.abspath(str(url.database)) + ".worker.lock"


def claim_worker_lock(db: Database) -> WorkerLock:
    """Takes the SQLite file's worker lock, or raises :class:`WorkerAlreadyRunning`.
    On PostgreSQL (no lock needed) returns a lock that holds nothing."""
    path = lock_path(db.url.render_as_string(hide_password=False))
    if path is None:
        return WorkerLock("", None)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise WorkerAlreadyRunning(
            f"another plangate worker (pid {holder or 'unknown'}) already handles the Stripe "
            f"events of this SQLite database ({path} is locked); SQLite runs one worker per "
            "database file: stop the other one, or use PostgreSQL for several workers"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return WorkerLock(path, fd)
