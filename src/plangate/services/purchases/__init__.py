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
  transaction. In test mode the ownerships change at once, in the API's idempotent
  transaction. Which of the two runs is the purchase backend's choice (backends/), made once.
"""

from __future__ import annotations

from plangate.services.purchases.backends import Deps, PurchaseBackend, Recorder, backend_for
from plangate.services.purchases.cancel import (
    CancelRequest,
    holds_subscription,
    is_server_only_subscription,
)
from plangate.services.purchases.rules import SwitchRequest, find_subscription, yearly_rate

__all__ = [
    "CancelRequest",
    "Deps",
    "PurchaseBackend",
    "Recorder",
    "SwitchRequest",
    "backend_for",
    "find_subscription",
    "holds_subscription",
    "is_server_only_subscription",
    "yearly_rate",
]
