"""A committed fact wakes the delivery workers at once, long before their poll: in this
process through the after-commit hook, from another process through PostgreSQL's
LISTEN/NOTIFY; a rolled-back transaction wakes no one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plangate.clock import SystemClock
from plangate.services.events import endpoints, record, wake
from plangate.services.events.delivery import DeliveryWorker
from plangate.settings import Settings
from plangate.store.db import Database
from tests.services.events.receiver import Receiver

ROOT = Path(__file__).resolve().parents[3]
# Far longer than any wait below: a fact that arrives was woken for, not polled for.
POLL = 600.0
WAIT = 30.0


def _endpoint(db: Database, receiver: Receiver) -> None:
    with db.write() as session:
        endpoints.create_endpoint(session, endpoints.EndpointSpec(receiver.url),
                                  ["127.0.0.0/8"], SystemClock().now())


def _fact(db: Database, n: int) -> str:
    with db.write() as session:
        return record(session, "item.depleted", {"n": n}, SystemClock().now(),
                      customer=("user", "u")).id


def _arrives(receiver: Receiver, message_id: str) -> bool:
    deadline = time.monotonic() + WAIT
    while message_id not in receiver.arrivals():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_commit_wakes_a_worker_of_this_process(db: Database, receiver: Receiver) -> None:
    _endpoint(db, receiver)
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        webhook_allowed_networks=["127.0.0.0/8"], worker_poll_seconds=POLL)
    running = DeliveryWorker(db, settings, SystemClock()).start()
    try:
        assert _arrives(receiver, _fact(db, 1))  # the loop's first pass
        time.sleep(0.2)  # the loop goes idle
        assert _arrives(receiver, _fact(db, 2))  # then idle: only a wake-up brings this one
    finally:
        running.stop()


def test_a_rollback_wakes_no_one(db: Database) -> None:
    woken: list[int] = []
    wake._wakers.add(lambda: woken.append(1))
    try:
        with pytest.raises(RuntimeError), db.write() as session:
            record(session, "item.depleted", {"n": 1}, SystemClock().now())
            raise RuntimeError("the change fails")
        assert woken == []
        _fact(db, 2)
        assert woken == [1]
    finally:
        wake._wakers.clear()


# LISTEN/NOTIFY is PostgreSQL's: on SQLite, workers of other processes poll.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_commit_wakes_a_worker_in_another_process(db: Database, receiver: Receiver) -> None:
    _endpoint(db, receiver)
    url = db.url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.services.events.delivery_process", url, str(POLL)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert _arrives(receiver, _fact(db, 1))  # the worker's first pass
        assert _arrives(receiver, _fact(db, 2))  # idle: NOTIFY wakes it
    finally:
        process.terminate()
        process.wait(timeout=10)
