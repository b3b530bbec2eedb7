"""Priority: during a burst of renewals, a checkout completed later is leased first, so the
customer who just paid is granted before the backlog is worked off."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from plangate.sandbox import pay_checkout_session
from plangate.store.models import StripeEvent
from tests.e2e.e2e_harness import Stack, start_stack

pytestmark = pytest.mark.slow

SUBSCRIBERS = 6


def _pending(stack: Stack) -> Counter[str]:
    with stack.db.read() as session:
        return Counter(
            session.scalars(select(StripeEvent.type).where(StripeEvent.status == "pending"))
        )


def test_a_checkout_completed_behind_a_renewal_backlog_is_handled_first(
    database_url: str,
) -> None:
    stack = start_stack(database_url, start_worker=False)
    try:
        # The trials end together: every subscription renews, nothing is handled yet.
        stack.renewal_backlog("sub", SUBSCRIBERS)
        backlog = _pending(stack)
        assert backlog["invoice.paid"] == SUBSCRIBERS
        assert backlog["customer.subscription.updated"] >= SUBSCRIBERS
        # A new customer pays while the renewals wait.
        purchase = stack.checkout("user", "newcomer", "credit_pack")
        pay_checkout_session(purchase["url"])
        stack.sandbox.wait_for_deliveries(30)
        assert not stack.session_status(purchase["id"])["fulfilled"]
        waiting = sum(_pending(stack).values())

        assert stack.worker.run_once(limit=1) == 1

        assert stack.session_status(purchase["id"])["fulfilled"]
        left = _pending(stack)
        assert left["checkout.session.completed"] == 0
        assert sum(left.values()) == waiting - 1
        assert left["invoice.paid"] == SUBSCRIBERS
        stack.worker.drain()
        assert sum(_pending(stack).values()) == 0
    finally:
        stack.stop()
