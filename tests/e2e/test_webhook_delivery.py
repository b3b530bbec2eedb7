"""The webhook endpoint and the worker: signatures, duplicates, order, failures."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from plangate.sandbox import pay_checkout_session
from plangate.sandbox.webhooks import sign
from plangate.store.models import Ownership, StripeEvent
from tests.e2e.e2e_harness import Stack, start_stack


def _count_events(stack: Stack) -> int:
    with stack.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(StripeEvent)) or 0)


def _post(stack: Stack, body: str, header: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return stack.http.post("/v1/stripe/webhooks", content=body.encode(), headers=headers)


def _event(event_id: str = "evt_forged") -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.subscription.updated",
            "created": int(time.time()),
            "data": {"object": {"id": "sub_x", "object": "subscription", "status": "active"}},
        }
    )


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda body, secret: sign(body, "whsec_wrong", int(time.time())), id="forged"),
        pytest.param(lambda body, secret: sign(body, secret, int(time.time()) - 301), id="stale"),
        pytest.param(
            lambda body, secret: sign(body + " ", secret, int(time.time())), id="body-changed"
        ),
        pytest.param(lambda body, secret: "t=123,v0=abc", id="malformed"),
        pytest.param(lambda body, secret: None, id="missing"),
    ],
)
def test_bad_signatures_are_rejected_and_nothing_is_stored(
    refusing_stack: Stack, make_header: Any
) -> None:
    stack = refusing_stack
    body = _event()
    resp = _post(stack, body, make_header(body, stack.settings.stripe_webhook_secret))
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "signature_invalid"
    assert _count_events(stack) == 0


def test_a_fresh_signature_is_accepted_once(stack: Stack) -> None:
    body = _event("evt_once")
    secret = stack.settings.stripe_webhook_secret
    first = _post(stack, body, sign(body, secret, int(time.time())))
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False}
    again = _post(stack, body, sign(body, secret, int(time.time())))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert _count_events(stack) == 1
    stack.settle()
    with stack.db.read() as session:
        event = session.get(StripeEvent, "evt_once")
        assert event is not None
        # The named subscription does not exist at Stripe: handled, nothing written, and the
        # payload's "active" was never applied.
        assert event.status == "done"
        assert session.scalar(select(func.count()).select_from(Ownership)) == 0


def test_duplicate_deliveries_are_applied_once(stack: Stack) -> None:
    session = stack.buy("dup", "credit_pack")
    with stack.db.read() as db_session:
        delivered = set(db_session.scalars(select(StripeEvent.id)))
    events = [e for e in stack.stripe.v1.events.list({"limit": 100}).data if e.id in delivered]
    assert len(events) == len(delivered) >= 2  # payment_intent.succeeded, checkout completed
    secret = stack.settings.stripe_webhook_secret
    before = _count_events(stack)
    for event in events:  # every event delivered again, twice
        body = json.dumps(event.to_dict(for_json=True))
        for _ in range(2):
            resp = _post(stack, body, sign(body, secret, int(time.time())))
            assert resp.status_code == 200 and resp.json()["duplicate"] is True
    stack.settle()
    assert _count_events(stack) == before
    with stack.db.read() as db_session:
        owned = db_session.scalars(
            select(Ownership).where(Ownership.stripe_checkout_session_id == session["id"])
        ).all()
    assert len(owned) == 1
    assert stack.credits("dup") == 1100


def test_events_handled_in_reverse_order_converge(database_url: str) -> None:
    stack = start_stack(database_url, start_worker=False, events=["*"])
    try:
        first = stack.checkout("user", "rev", "pro")
        pay_checkout_session(first["url"])
        stack.sandbox.wait_for_deliveries(10)
        # Then the subscription is canceled at once: its deletion is the newest truth.
        sub = stack.subscription_of("rev")
        stack.stripe.v1.subscriptions.cancel(sub.id)
        pack = stack.checkout("user", "rev", "credit_pack")
        pay_checkout_session(pack["url"])
        stack.sandbox.wait_for_deliveries(10)
        claimed = stack.worker.claim(limit=1000)
        assert len(claimed) > 10
        for event in reversed(claimed):  # newest first: the worst order
            assert stack.worker.handle(event) is None
        assert stack.pending_events() == 0
        owned = stack.products("rev")
        assert set(owned) == {"free", "credit_pack"}
        assert stack.session_status(pack["id"])["fulfilled"] is True
        with stack.db.read() as session:
            # The canceled subscription is not live; whether it was ever granted depends on
            # order, but what is live now equals Stripe.
            live = session.scalars(
                select(Ownership).where(
                    Ownership.stripe_subscription_id == sub.id, Ownership.ended_at.is_(None)
                )
            ).all()
        assert live == []
    finally:
        stack.stop()


def test_a_failed_sync_is_retried_and_visible(database_url: str) -> None:
    stack = start_stack(database_url, start_worker=False)
    try:
        real = stack.worker.sync.gateway
        stripe_down = {"now": True}

        class Flaky:
            def __getattr__(self, name: str) -> Any:
                attr = getattr(real, name)
                if name != "retrieve_subscription":
                    return attr

                def failing(*args: Any, **kwargs: Any) -> Any:
                    if stripe_down["now"]:
                        raise ConnectionError("Stripe is unreachable")
                    return attr(*args, **kwargs)

                return failing

        from dataclasses import replace

        stack.worker.sync = replace(stack.worker.sync, gateway=Flaky())  # type: ignore[arg-type]
        session = stack.checkout("user", "flaky", "pro")
        pay_checkout_session(session["url"])
        stack.sandbox.wait_for_deliveries(10)
        stack.worker.drain()
        # While Stripe is down the event stays pending with its error (a slow machine may
        # already have retried it after the 1 s backoff: attempts counts each try).
        with stack.db.read() as db_session:
            failed = db_session.scalars(
                select(StripeEvent).where(StripeEvent.last_error.like("ConnectionError%"))
            ).all()
            assert failed and all(e.status == "pending" and e.attempts >= 1 for e in failed)
            failed_ids = [e.id for e in failed]
        stripe_down["now"] = False
        # The retry comes after its backoff; meanwhile other events already synced.
        deadline = time.monotonic() + 10
        while stack.pending_events() and time.monotonic() < deadline:
            stack.worker.run_once()
            time.sleep(0.1)
        assert stack.pending_events() == 0
        with stack.db.read() as db_session:
            retried = [db_session.get(StripeEvent, event_id) for event_id in failed_ids]
            assert all(e is not None and e.status == "done" and e.attempts >= 2 for e in retried)
        assert stack.products("flaky")["pro"]["status"] == "trialing"
    finally:
        stack.stop()


def test_a_crash_between_storing_and_handling_loses_nothing(database_url: str) -> None:
    stack = start_stack(database_url, start_worker=False)
    try:
        session = stack.checkout("user", "crash", "pro")
        pay_checkout_session(session["url"])
        stack.sandbox.wait_for_deliveries(10)
        # A worker claims everything and dies: the leases run out, another worker takes over.
        claimed = stack.worker.claim(limit=1000)
        assert claimed and stack.worker.claim() == []
        with stack.db.write() as db_session:
            for event in db_session.scalars(select(StripeEvent)):
                event.locked_until = stack.worker.queue_clock.now()
        stack.worker.drain()
        assert stack.pending_events() == 0
        assert stack.products("crash")["pro"]["status"] == "trialing"
    finally:
        stack.stop()
