"""Priority: during a burst of renewals, a checkout completed later is leased first, so the
customer who just paid is granted before the backlog is worked off."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from plangate.sandbox import pay_checkout_session
from plangate.services.commerce.checkout import Deps
from plangate.services.commerce.checkout_status import checkout_status
from plangate.store.models import StripeEvent
from tests.e2e.e2e_harness import Stack, start_stack

pytestmark = pytest.mark.slow

SUBSCRIBERS = 6


def _pending(stack: Stack) -> Counter[str]:
    with stack.db.read() as session:
        return Counter(
            session.scalars(select(StripeEvent.type).where(StripeEvent.status == "pending"))
        )


def _fulfilled(stack: Stack, session_id: str) -> bool:
    """What the database says, without the status poll's own sync (on_return.py)."""
    sync = stack.worker.sync
    deps = Deps(stack.db, sync.gateway, sync.catalogs, stack.settings)
    return checkout_status(deps, session_id, stack.now(), ask_stripe=False).fulfilled


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
        assert not _fulfilled(stack, purchase["id"])
        waiting = sum(_pending(stack).values())

        assert stack.worker.run_once(limit=1) == 1

        assert _fulfilled(stack, purchase["id"])
        left = _pending(stack)
        assert left["checkout.session.completed"] == 0
        assert sum(left.values()) == waiting - 1
        assert left["invoice.paid"] == SUBSCRIBERS
        stack.worker.drain()
        assert sum(_pending(stack).values()) == 0
    finally:
        stack.stop()
