"""Managing a purchase: switching plans, cancelling, resuming a cancelled subscription.

Rules (DESIGN.md, "Plan change"; docs/billing.md):

* A switch moves a subscription to another product of its line (or another price of the same
  product). Prices are compared per unit of time (a yearly price against twelve months): a
  higher one is an **upgrade**, effective now, prorated and invoiced at once
  (``proration_behavior="always_invoice"``: the customer pays the difference now, so a card
  that fails shows up now rather than at the renewal, and nobody upgrades for free until
  then); a lower one is a **downgrade**, effective at the period end (the customer keeps what
  they paid for). Switching to the line's default product is a cancellation at the period end.
* A cancellation ends the subscription at the period end (access until then) or now.
* On the stripe gateway these are Stripe writes only; plangate's ownerships change when the
  sync processes the resulting webhooks ("the one rule"). Each write carries an idempotency
  key derived from the caller's ``Idempotency-Key``, and runs outside any database
  transaction. On the test gateway the ownerships change at once, in the API's idempotent
  transaction (services/commerce/test_mode.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from plangate.services.purchases.cancel import (
    CancelRequest,
    cancel_in_test_mode,
    cancel_on_stripe,
    holds_subscription,
    resume_in_test_mode,
    resume_on_stripe,
)
from plangate.services.purchases.rules import Deps, SwitchRequest, find_subscription, yearly_rate
from plangate.services.purchases.stripe_switch import switch_on_stripe
from plangate.services.purchases.test_switch import switch_in_test_mode

__all__ = [
    "CancelRequest",
    "Deps",
    "SwitchRequest",
    "cancel",
    "find_subscription",
    "holds_subscription",
    "resume",
    "switch_plan",
    "yearly_rate",
]


def switch_plan(
    deps: Deps, session: Session | None, request: SwitchRequest, now: datetime
) -> dict[str, Any]:
    """Switches a subscription; answers the API's ``plan_change`` body. Test mode runs in
    ``session`` (the request's transaction); Stripe mode needs none (``session`` is None)."""
    if deps.test_mode:
        assert session is not None, "test mode changes ownerships in the caller's transaction"
        return switch_in_test_mode(session, deps.catalogs, request, now)
    return switch_on_stripe(deps, request, now)


def cancel(
    deps: Deps, session: Session | None, request: CancelRequest, now: datetime
) -> dict[str, Any]:
    if deps.test_mode:
        assert session is not None
        return cancel_in_test_mode(session, deps.catalogs, request, now)
    return cancel_on_stripe(deps, request)


def resume(
    deps: Deps, session: Session | None, request: CancelRequest, now: datetime
) -> dict[str, Any]:
    if deps.test_mode:
        assert session is not None
        return resume_in_test_mode(session, deps.catalogs, request, now)
    return resume_on_stripe(deps, request)
