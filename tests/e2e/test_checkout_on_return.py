"""The success page's poll fulfils a paid checkout without waiting for its webhook
(services/stripe_sync/on_return.py): the ordinary sync, safe against the webhook's sync
running at the same moment, and not a Stripe call on every poll."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from plangate.sandbox import RateLimits, SandboxConfig, pay_checkout_session
from plangate.services.stripe_sync.worker import Worker
from plangate.store.models import CheckoutSession, Ownership
from tests.e2e.e2e_harness import Stack, start_stack

# Counts the sandbox's requests; refuses none.
COUNTING = RateLimits(global_per_second=1e9, endpoint_per_second=1e9)


@pytest.fixture
def idle(database_url: str) -> Iterator[Stack]:
    """The stack without a running worker: stored events wait until a test handles them."""
    running = start_stack(database_url, start_worker=False,
                          sandbox_config=SandboxConfig(tick_seconds=0.5, rate_limits=COUNTING))
    yield running
    running.stop()


def _poll(stack: Stack, session_id: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{stack.url}/v1/checkout-sessions/{session_id}",
                                     timeout=30).json()
    return body


def _requests(stack: Stack) -> int:
    limiter = stack.sandbox.limiter
    assert limiter is not None
    return limiter.admitted


def _owned(stack: Stack, customer_id: str) -> int:
    with stack.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Ownership).where(
            Ownership.customer_id == customer_id, Ownership.product_id == "pro")) or 0)


def test_a_paid_checkout_is_fulfilled_when_its_status_is_asked(idle: Stack) -> None:
    bought = idle.checkout("user", "back", "pro", price_id="monthly")
    pay_checkout_session(bought["url"])
    idle.sandbox.wait_for_deliveries(30)
    assert idle.pending_events() > 0  # its webhooks are stored, nobody handled them
    polled = _poll(idle, bought["id"])
    assert (polled["status"], polled["fulfilled"]) == ("complete", True)
    assert idle.products("back")["pro"]["status"] == "trialing"
    # The webhooks' syncs find it done: still one ownership, linked to the session.
    idle.worker.drain()
    assert _owned(idle, "back") == 1
    with idle.db.read() as session:
        row = session.get(CheckoutSession, bought["id"])
        assert row is not None and row.ownership_id is not None


def test_polls_of_one_session_sync_it_once_per_interval(idle: Stack) -> None:
    waiting = idle.checkout("user", "waiting", "pro", price_id="monthly")
    before = _requests(idle)
    with ThreadPoolExecutor(8) as pool:
        polls = list(pool.map(lambda _: _poll(idle, waiting["id"]), range(8)))
    polls += [_poll(idle, waiting["id"]) for _ in range(4)]
    assert all((p["status"], p["fulfilled"]) == ("open", False) for p in polls)
    # One sync (the session fetched, then again under its lock), not a request per poll.
    assert _requests(idle) - before <= 2


def test_the_poll_and_the_webhook_fulfil_concurrently_once(idle: Stack) -> None:
    customers = [f"race{n}" for n in range(4)]
    sessions = []
    for customer in customers:
        bought = idle.checkout("user", customer, "pro", price_id="monthly")
        pay_checkout_session(bought["url"])
        sessions.append(bought["id"])
    # A one-time purchase too: its credits are granted once.
    pack = idle.checkout("user", "racepack", "credit_pack")
    pay_checkout_session(pack["url"])
    sessions.append(pack["id"])
    idle.sandbox.wait_for_deliveries(30)
    # The webhooks' syncs (two workers on PostgreSQL) and the success pages' polls start
    # together, each page polling until it says fulfilled.
    workers = [idle.worker, *([Worker(idle.worker.sync, idle.settings)]
                              if not idle.db.is_sqlite else [])]
    start = threading.Barrier(len(workers) + len(sessions))
    answers: dict[str, dict[str, Any]] = {}

    def work(worker: Worker) -> None:
        start.wait()
        worker.drain()

    def page(session_id: str) -> None:
        start.wait()
        for _ in range(200):
            answers[session_id] = _poll(idle, session_id)
            if answers[session_id]["fulfilled"]:
                return

    with ThreadPoolExecutor(len(workers) + len(sessions)) as pool:
        done = [pool.submit(work, w) for w in workers] + [pool.submit(page, s) for s in sessions]
        for future in done:
            future.result()
    idle.worker.drain()
    assert all(answers[s]["fulfilled"] for s in sessions)
    assert all(_owned(idle, c) == 1 for c in customers)
    with idle.db.read() as session:
        linked = session.scalars(select(CheckoutSession.ownership_id)
                                 .where(CheckoutSession.id.in_(sessions))).all()
    assert len(linked) == 5 and None not in linked
    assert idle.credits("racepack") == 100 + 1000  # free's monthly 100 + one pack
