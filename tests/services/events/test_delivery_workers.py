"""Workers share deliveries without sending one twice, and a worker killed mid-batch loses
nothing: real threads, a real process and ``kill -9``, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from plangate.clock import FrozenClock, SystemClock
from plangate.services.events import endpoints, record
from plangate.services.events.delivery import DeliveryWorker
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.outbox_models import OutboxDelivery
from tests.services.events.receiver import Receiver

ROOT = Path(__file__).resolve().parents[3]


def _messages(db: Database, receiver: Receiver, clock: FrozenClock, count: int) -> set[str]:
    with db.write() as session:
        endpoints.create_endpoint(
            session, endpoints.EndpointSpec(receiver.url), ["127.0.0.0/8"], clock.now()
        )
    with db.write() as session:
        return {
            record(session, "item.depleted", {"n": n}, clock.now(), customer=("user", "u")).id
            for n in range(count)
        }


def _delivered(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxDelivery).where(
            OutboxDelivery.status == "delivered")) or 0)


def test_workers_share_deliveries_without_sending_one_twice(
    db: Database, receiver: Receiver, clock: FrozenClock, settings: Settings
) -> None:
    sent = _messages(db, receiver, clock, 40)
    workers = [DeliveryWorker(db, settings, clock, batch_size=3) for _ in range(4)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert set(ids) == sent and max(ids.values()) == 1
    assert sum(w.stats.delivered for w in workers) == 40
    assert sum(1 for w in workers if w.stats.delivered) > 1  # the work was shared
    assert _delivered(db) == 40


def test_a_worker_killed_mid_batch_loses_nothing(
    db: Database, receiver: Receiver, clock: FrozenClock, settings: Settings
) -> None:
    receiver.delay = 0.2  # slow answers: the kill lands in the middle of a batch
    sent = _messages(db, receiver, clock, 15)
    url = db.url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.services.events.delivery_process", url], cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 30
        while len(receiver.received) < 3:
            assert time.monotonic() < deadline, "the worker process sent nothing"
            time.sleep(0.02)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # Mid-batch: deliveries sent or in flight, held under the dead worker's lease.
    with db.read() as session:
        leased = session.scalar(select(func.count()).select_from(OutboxDelivery).where(
            OutboxDelivery.lease_id.is_not(None)))
    assert leased and _delivered(db) < 15

    # The dead worker's leases run out; another worker finishes, with the same ids.
    later = FrozenClock(SystemClock().now() + timedelta(seconds=settings.delivery_lease_seconds))
    receiver.delay = 0
    DeliveryWorker(db, settings, later).drain()
    assert {r.headers["webhook-id"] for r in receiver.successes()} == sent
    assert _delivered(db) == 15
