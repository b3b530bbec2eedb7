"""Reads by list in a renewal burst (services/stripe_sync/list_reads.py): the subscriptions and
payment intents of a burst come 100 per Stripe call, every renewal ends as when each object is
fetched, and a listed copy older than a state another sync wrote is fetched again rather than
written over it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from plangate.sandbox import RateLimits, SandboxConfig
from plangate.services.stripe_sync.list_reads import MIN_BATCH, ListReads
from plangate.services.stripe_sync.subscriptions import sync_subscription
from plangate.store.models import Ownership, StripeEvent, Transaction
from tests.e2e.e2e_harness import start_stack

pytestmark = pytest.mark.slow

SUBSCRIBERS = MIN_BATCH + 2
# High enough never to refuse: the sandbox's limiter is used here to count requests.
COUNTING = RateLimits(global_per_second=100_000, endpoint_per_second=100_000)


def test_a_burst_is_read_by_list_and_an_older_listed_copy_is_never_written(
    database_url: str,
) -> None:
    stack = start_stack(
        database_url, start_worker=False, sandbox_config=SandboxConfig(rate_limits=COUNTING)
    )
    try:
        limiter = stack.sandbox.limiter
        assert limiter is not None
        stack.worker.batch_size = 4 * SUBSCRIBERS  # the whole burst in one batch
        stack.renewal_backlog("r", SUBSCRIBERS)
        with stack.db.read() as session:
            before_renewal = dict(session.execute(
                select(Ownership.stripe_subscription_id, Ownership.current_period_end)
                .where(Ownership.ended_at.is_(None))
            ).all())
            last_received = session.scalar(select(func.max(StripeEvent.received_at)))
        assert len(before_renewal) == SUBSCRIBERS

        listed = ListReads(stack.db, stack.worker.sync.gateway)
        stack.worker._listed = listed
        calls = limiter.admitted
        # One page of subscriptions (with their latest invoices and payments), one of
        # payment intents: two calls for the burst.
        assert listed.read() == 2
        assert limiter.admitted - calls == 2

        # After the read, another worker syncs a newer state of one subscription (its cancel
        # flag set at Stripe) and handles that change's event: our listed copy is older.
        changed = sorted(before_renewal)[0]
        stack.stripe.v1.subscriptions.update(changed, {"cancel_at_period_end": True})
        stack.sandbox.wait_for_deliveries(30)
        sync_subscription(stack.worker.sync, changed)
        with stack.db.write() as session:
            session.execute(
                update(StripeEvent)
                .where(StripeEvent.status == "pending", StripeEvent.received_at > last_received)
                .values(status="done")
            )

        calls = limiter.admitted
        stack.worker.drain()
        drain_calls = limiter.admitted - calls
        with stack.db.read() as session:
            owned = session.execute(
                select(Ownership.stripe_subscription_id, Ownership.status,
                       Ownership.current_period_end, Ownership.cancel_at_period_end)
                .where(Ownership.ended_at.is_(None))
            ).all()
            paid = session.scalars(
                select(Transaction.invoice_id).where(Transaction.type == "payment")
            ).all()
        assert len(owned) == SUBSCRIBERS
        for sub, status, period_end, cancel in owned:
            assert status == "active"
            assert period_end is not None and period_end > before_renewal[sub]  # renewed
            assert cancel is (sub == changed)  # the newer state stayed
        assert len(paid) == SUBSCRIBERS and all(paid)  # each renewal's payment, invoiced
        # Every other object came from the read; the changed subscription was fetched again.
        assert drain_calls == 1
    finally:
        stack.stop()

