"""Coalescing and reuse: a customer's waiting events are leased together, in one leased batch
each Stripe object is fetched once, and the invoice a subscription's fetch carries is not
fetched again; the state written is the same as when every event fetches for itself."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from plangate.sandbox import RateLimits, SandboxConfig
from plangate.store.models import Ownership, StripeEvent, Transaction
from tests.e2e.e2e_harness import Stack, start_stack

pytestmark = pytest.mark.slow

SUBSCRIBERS = 5
# High enough never to refuse: the sandbox's limiter is used here to count requests.
COUNTING = RateLimits(global_per_second=100_000, endpoint_per_second=100_000)


def _state(stack: Stack, prefix: str) -> tuple[list[Any], list[Any]]:
    """The prefix's subscriptions and payments, named without the prefix."""
    with stack.db.read() as session:
        owned = session.execute(
            select(Ownership.customer_id, Ownership.status, Ownership.current_period_end)
            .where(Ownership.ended_at.is_(None), Ownership.stripe_subscription_id.is_not(None))
            .order_by(Ownership.customer_id)
        ).all()
        paid = session.execute(
            select(
                Transaction.customer_id,
                Transaction.invoice_id.is_not(None),
                Transaction.product_id,
                Transaction.amount,
                Transaction.status,
            )
            .where(Transaction.type == "payment")
            .order_by(Transaction.customer_id, Transaction.created_at)
        ).all()
    def mine(rows: Any) -> list[Any]:
        return [(r[0].removeprefix(prefix), *r[1:]) for r in rows if r[0].startswith(prefix)]

    return mine(owned), mine(paid)


def _renewal_burst(
    database_url: str, reuse: bool, prefix: str
) -> tuple[int, Counter[str], Any]:
    """Stripe requests the worker makes for one renewal burst, the events, the end state."""
    stack = start_stack(
        database_url, start_worker=False, sandbox_config=SandboxConfig(rate_limits=COUNTING)
    )
    try:
        stack.worker.reuse_fetches = reuse
        # Batches smaller than the burst: a renewal's events are leased together by their
        # customer, not because the whole burst fits one batch.
        stack.worker.batch_size = SUBSCRIBERS
        stack.renewal_backlog(prefix, SUBSCRIBERS)
        with stack.db.read() as session:
            events = Counter(
                session.scalars(select(StripeEvent.type).where(StripeEvent.status == "pending"))
            )
        limiter = stack.sandbox.limiter
        assert limiter is not None
        before = limiter.admitted
        stack.worker.drain()
        return limiter.admitted - before, events, _state(stack, prefix)
    finally:
        stack.stop()


def test_a_renewal_burst_fetches_each_object_once_and_ends_in_the_same_state(
    database_url: str,
) -> None:
    calls, events, state = _renewal_burst(database_url, reuse=True, prefix="a")
    assert events["invoice.paid"] == SUBSCRIBERS
    assert events["payment_intent.succeeded"] == SUBSCRIBERS
    assert events["customer.subscription.updated"] >= SUBSCRIBERS
    # One fetch of each subscription (its latest invoice and payments included) and one of
    # each payment intent, whatever the number of events naming them.
    assert calls == 2 * SUBSCRIBERS
    assert calls < sum(events.values())

    base_calls, base_events, base_state = _renewal_burst(database_url, reuse=False, prefix="b")
    assert base_events == events
    assert base_calls > calls
    assert base_state == state
    owned, paid = state
    assert len(owned) == SUBSCRIBERS and {status for _, status, _ in owned} == {"active"}
    renewals = [p for p in paid if p[1]]
    assert len(renewals) == SUBSCRIBERS and all(p[2] == "pro" for p in renewals)
