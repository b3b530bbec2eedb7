"""Outbox pruning on SQLite and PostgreSQL: facts every consumer finished with (delivered, or
failed for good) longer ago than the retention go, with their deliveries and attempt logs;
pending ones stay whatever their age; deletion goes in bounded batches."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from plangate.clock import FrozenClock
from plangate.services.events import endpoints, record
from plangate.services.events.delivery import PRUNE_EVERY, DeliveryWorker
from plangate.services.events.pruning import prune, prune_batch
from plangate.store.db import Database
from plangate.store.outbox_models import OutboxDelivery, OutboxMessage, WebhookAttempt
from tests.services.events.receiver import Receiver

DAY = timedelta(days=1)


def _fact(db: Database, clock: FrozenClock, n: int) -> str:
    with db.write() as session:
        return record(session, "item.depleted", {"n": n}, clock.now(),
                      customer=("user", "u")).id


def _endpoint(db: Database, clock: FrozenClock, receiver: Receiver) -> None:
    with db.write() as session:
        endpoints.create_endpoint(session, endpoints.EndpointSpec(receiver.url),
                                  ["127.0.0.0/8"], clock.now())


def _messages(db: Database) -> set[str]:
    with db.read() as session:
        return set(session.scalars(select(OutboxMessage.id)))


def _count(db: Database, model: type[WebhookAttempt] | type[OutboxDelivery]) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_finished_facts_past_the_retention_go_and_pending_ones_stay(
    db: Database, clock: FrozenClock, receiver: Receiver, deliveries: DeliveryWorker
) -> None:
    _endpoint(db, clock, receiver)
    delivered = _fact(db, clock, 1)
    deliveries.drain()
    receiver.status = 500
    failed = _fact(db, clock, 2)
    for _ in range(8):  # Svix's schedule runs out: failed for good
        deliveries.drain()
        clock.advance(timedelta(hours=10, seconds=1))
    with db.read() as session:
        assert session.scalar(select(OutboxDelivery.status).where(
            OutboxDelivery.message_id == failed)) == "failed"
    with db.write() as session:  # a fact no consumer hears: no delivery at all
        quiet = record(session, "item.depleted", {"n": 3}, clock.now(), webhooks=False).id
    pending = _fact(db, clock, 4)
    deliveries.run_once()  # fails once: pending, retried in 5 s
    attempts_before = _count(db, WebhookAttempt)

    clock.advance(40 * DAY)
    recent = _fact(db, clock, 5)
    assert prune(db, clock.now(), retention_days=30) == 3
    assert _messages(db) == {pending, recent}
    assert delivered not in _messages(db) and quiet not in _messages(db)
    with db.read() as session:
        left = set(session.scalars(select(WebhookAttempt.message_id)))
        assert left == {pending}
    assert _count(db, WebhookAttempt) == 1 < attempts_before
    # Nothing more to prune; the pending fact is still delivered once the receiver is back.
    assert prune(db, clock.now(), retention_days=30) == 0
    receiver.status = 200
    deliveries.drain()
    with db.read() as session:
        assert set(session.scalars(select(OutboxDelivery.message_id).where(
            OutboxDelivery.status == "delivered"))) == {pending, recent}


def test_a_fact_finished_within_the_retention_is_kept(
    db: Database, clock: FrozenClock, receiver: Receiver, deliveries: DeliveryWorker
) -> None:
    _endpoint(db, clock, receiver)
    receiver.fail_first = 1
    late = _fact(db, clock, 1)
    deliveries.run_once()
    clock.advance(29 * DAY)  # delivered 29 days after it was recorded
    deliveries.drain()
    clock.advance(2 * DAY)
    assert prune(db, clock.now(), retention_days=30) == 0
    assert _messages(db) == {late}


def test_pruning_goes_in_bounded_batches_from_the_worker(
    db: Database, clock: FrozenClock, deliveries: DeliveryWorker
) -> None:
    with db.write() as session:
        for n in range(5):
            record(session, "item.depleted", {"n": n}, clock.now(), webhooks=False)
    clock.advance(31 * DAY)
    assert prune_batch(db, clock.now(), retention_days=30, batch=2) == 2
    assert len(_messages(db)) == 3
    deliveries.run_once()  # the worker prunes what is left
    assert _messages(db) == set()
    with db.write() as session:
        record(session, "item.depleted", {"n": 9}, clock.now(), webhooks=False)
    clock.advance(31 * DAY)
    deliveries._next_prune = clock.now() + PRUNE_EVERY  # pruned a moment ago: not due yet
    deliveries.run_once()
    assert len(_messages(db)) == 1
    clock.advance(PRUNE_EVERY)
    deliveries.run_once()
    assert _messages(db) == set()
