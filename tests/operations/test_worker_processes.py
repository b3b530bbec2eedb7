"""Several `plangate worker` processes on one database: on PostgreSQL they share the queue,
each event handled once; on SQLite the second one refuses to start with a message saying
why, and starts once the first has stopped, or was killed."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from plangate.clock import SystemClock
from plangate.services.stripe_sync.single_worker import WorkerAlreadyRunning, claim_worker_lock
from plangate.services.stripe_sync.webhooks import store_event
from plangate.store.db import Database
from plangate.store.models import StripeEvent
from tests.e2e.e2e_harness import free_port
from tests.operations.processes import start, stop, wait_for_line, worker_env
from tests.operations.scrape import value

pytestmark = pytest.mark.slow

STARTED = "plangate worker: handling Stripe events"


def _store_events(db: Database, count: int) -> None:
    now = SystemClock().now()
    with db.write() as session:
        for n in range(count):
            event = {"id": f"evt_p{n:03d}", "type": "product.updated", "created": 1767225600,
                     "data": {"object": {"id": f"prod_{n}", "object": "product"}}}
            store_event(session, event, now)


def _wait_until_handled(db: Database, count: int, timeout: float = 30) -> list[StripeEvent]:
    deadline = time.monotonic() + timeout
    while True:
        with db.read() as session:
            rows = list(session.scalars(select(StripeEvent)))
        if sum(row.status == "done" for row in rows) == count:
            return rows
        assert time.monotonic() < deadline, [row.status for row in rows]
        time.sleep(0.1)


def _handled(port: int) -> float:
    """What one worker process reports at its own --metrics-port."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return value(text, "plangate_stripe_events_handled_total", type="product.updated")


def test_several_workers_on_one_database(database_url: str, db: Database, tmp_path: Path) -> None:
    env = worker_env(database_url)
    ports = [free_port(), free_port()]
    first = start(["worker", "--metrics-port", str(ports[0])], env, tmp_path)
    second = None
    try:
        wait_for_line(first, STARTED)
        second = start(["worker", "--metrics-port", str(ports[1])], env, tmp_path)
        if db.is_sqlite:
            assert second.wait(30) == 2
            assert second.stderr is not None
            message = " ".join(second.stderr.read().split())
            assert "another plangate worker" in message
            assert f"(pid {first.pid})" in message
            assert "SQLite runs one worker per database file" in message
            # The first one still works alone.
            _store_events(db, 20)
            rows = _wait_until_handled(db, 20)
            assert _handled(ports[0]) == 20
            # Killed without a chance to clean up: the kernel drops the lock with it.
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            second = start(["worker"], env, tmp_path)
            wait_for_line(second, STARTED)
        else:
            wait_for_line(second, STARTED)
            _store_events(db, 200)
            rows = _wait_until_handled(db, 200)
            # A port per process: together they count every event once.
            assert _handled(ports[0]) + _handled(ports[1]) == 200
        # Each event was handled once: one attempt each, whichever worker claimed it.
        assert {row.attempts for row in rows} == {1}
    finally:
        stop(first)
        if second is not None:
            stop(second)


def test_the_sqlite_worker_lock_is_one_holder_at_a_time(db: Database) -> None:
    """What `plangate dev` and `plangate worker` take: within one process too (flock is per
    open file), released by release(). PostgreSQL needs none and always gets one."""
    first = claim_worker_lock(db)
    try:
        if db.is_sqlite:
            with pytest.raises(WorkerAlreadyRunning, match="SQLite runs one worker"):
                claim_worker_lock(db)
        else:
            claim_worker_lock(db).release()
    finally:
        first.release()
    claim_worker_lock(db).release()
