"""The ``test`` gateway (``PLANGATE_GATEWAY=test``, the default): test mode, no Stripe.

In test mode purchases are free and granted at once. There are no Stripe objects, so the
calls that would read or change one refuse with :class:`GatewayError` code ``test_mode``;
what test mode does instead is the test purchase backend's
(``plangate.services.purchases.backends.test``), which may touch ownerships (this layer may
not import them), chosen once at start-up:

* checkout: :meth:`TestGateway.create_checkout_session` answers a session that is already
  complete (its ``url`` is the success URL). The test backend skips the Stripe customer and
  grants the purchase in the transaction that records the ``CheckoutSession`` row (status
  ``complete``, with the ownership's id): source ``subscription`` (periods from the price's
  interval, renewed for free as they pass; ``trialing`` first for a price with a trial) or
  ``one_time``, with a test payment recorded so refunds can be tried.
* plan switches, cancellations, resumes, refunds, cards, invoices, the portal: the test
  backend too.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from plangate.clock import Clock, SystemClock
from plangate.gateways.base import CheckoutSessionCreated, GatewayError, StripeDict
from plangate.settings import Settings

# What a test-mode checkout session "expires" after; it is complete at once anyway.
SESSION_SECONDS = 24 * 3600
TEST_ID_PREFIX = "test_"


def _unavailable(what: str) -> NoReturn:
    raise GatewayError(
        f"{what} needs Stripe; this installation runs in test mode (PLANGATE_GATEWAY=test)",
        code="test_mode",
    )


class TestGateway:
    """Gateway protocol for test mode. See the module docstring."""

    name = "test"
    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or Settings()
        self.clock = clock or SystemClock()

    @staticmethod
    def new_id(kind: str) -> str:
        """Ids of test-mode objects (``test_cs_…``, ``test_pi_…``): never mistaken for Stripe's."""
        return f"{TEST_ID_PREFIX}{kind}_{secrets.token_hex(12)}"

    # --- customers ----------------------------------------------------------------------

    def create_customer(
        self,
        *,
        email: str | None,
        name: str | None,
        metadata: Mapping[str, str],
        idempotency_key: str,
        test_clock: str | None = None,
    ) -> StripeDict:
        _unavailable("a Stripe customer")

    def retrieve_customer(self, customer_id: str) -> StripeDict:
        _unavailable("a Stripe customer")

    def list_customers_with_metadata(self) -> Sequence[StripeDict]:
        return []

    def update_customer(
        self, customer_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        _unavailable("a Stripe customer")

    def list_tax_ids(self, customer_id: str) -> Sequence[StripeDict]:
        return []

    def create_tax_id(
        self, customer_id: str, type_: str, value: str, *, idempotency_key: str
    ) -> StripeDict:
        _unavailable("a tax id")

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        _unavailable("a tax id")

    # --- prices ---------------------------------------------------------------------------

    def find_price(self, lookup_key: str) -> StripeDict | None:
        # Every catalog price "exists" in test mode: nothing is pushed anywhere.
        return {"id": TEST_ID_PREFIX + lookup_key, "object": "price", "lookup_key": lookup_key}

    # --- promotion codes ------------------------------------------------------------------

    def find_promotion_code(self, code: str) -> StripeDict | None:
        # Test mode charges nothing, so a catalog code is accepted and changes nothing.
        return {"id": TEST_ID_PREFIX + "promo_" + code, "object": "promotion_code", "code": code}

    # --- checkout -------------------------------------------------------------------------

    def create_checkout_session(
        self, params: Mapping[str, Any], *, idempotency_key: str
    ) -> CheckoutSessionCreated:
        # The id follows from the idempotency key, as Stripe's answer would: a retried
        # checkout finds its session already recorded and is not granted a second time.
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        session_id = f"{TEST_ID_PREFIX}cs_{digest}"
        success_url = str(params.get("success_url") or self.settings.base_url)
        url = success_url.replace("{CHECKOUT_SESSION_ID}", session_id)
        expires_at = int(self.clock.now().timestamp()) + SESSION_SECONDS
        return CheckoutSessionCreated(id=session_id, url=url, expires_at=expires_at)

    def retrieve_checkout_session(self, session_id: str) -> StripeDict:
        _unavailable("a Stripe checkout session")

    def list_checkout_sessions(self, customer_id: str) -> Sequence[StripeDict]:
        return []

    def expire_checkout_session(self, session_id: str, *, idempotency_key: str) -> StripeDict:
        _unavailable("a Stripe checkout session")

    # --- subscriptions --------------------------------------------------------------------

    def retrieve_subscription(self, subscription_id: str) -> StripeDict:
        _unavailable("a Stripe subscription")

    def list_subscriptions(self, customer_id: str) -> Sequence[StripeDict]:
        return []

    def list_subscriptions_page(
        self, *, period_start_gte: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        return [], False

    def update_subscription(
        self, subscription_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        _unavailable("a Stripe subscription")

    def retrieve_price(self, price_id: str) -> StripeDict:
        _unavailable("a Stripe price")

    def preview_invoice(self, params: Mapping[str, Any]) -> StripeDict:
        _unavailable("a Stripe invoice preview")

    def cancel_subscription(self, subscription_id: str, *, idempotency_key: str) -> StripeDict:
        _unavailable("a Stripe subscription")

    def create_subscription_schedule(
        self, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        _unavailable("a Stripe subscription schedule")

    def update_subscription_schedule(
        self, schedule_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        _unavailable("a Stripe subscription schedule")

    def release_subscription_schedule(
        self, schedule_id: str, *, idempotency_key: str
    ) -> StripeDict:
        _unavailable("a Stripe subscription schedule")

    # --- payments -------------------------------------------------------------------------

    def retrieve_invoice(self, invoice_id: str) -> StripeDict:
        _unavailable("a Stripe invoice")

    def retrieve_payment_intent(self, payment_intent_id: str) -> StripeDict:
        _unavailable("a Stripe payment intent")

    def retrieve_charge(self, charge_id: str) -> StripeDict:
        _unavailable("a Stripe charge")

    def list_refunds(self, charge_id: str) -> Sequence[StripeDict]:
        return []

    def retrieve_refund(self, refund_id: str) -> StripeDict:
        _unavailable("a Stripe refund")

    def retrieve_dispute(self, dispute_id: str) -> StripeDict:
        _unavailable("a Stripe dispute")

    def list_payment_intents(self, customer_id: str) -> Sequence[StripeDict]:
        return []

    def list_payment_intents_page(
        self, *, created_gte: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        return [], False

    # --- billing --------------------------------------------------------------------------

    def list_portal_configurations(self) -> Sequence[StripeDict]:
        return []

    def create_portal_session(
        self,
        customer_id: str,
        return_url: str,
        *,
        configuration: str | None = None,
        idempotency_key: str,
    ) -> str:
        _unavailable("the billing portal")

    def create_setup_intent(
        self, customer_id: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> StripeDict:
        _unavailable("saving a card")

    def retrieve_payment_method(self, payment_method_id: str) -> StripeDict:
        _unavailable("a Stripe payment method")

    def list_payment_methods(self, customer_id: str) -> Sequence[StripeDict]:
        return []

    def attach_payment_method(
        self, payment_method_id: str, customer_id: str, *, idempotency_key: str
    ) -> StripeDict:
        _unavailable("saving a card")

    def set_default_payment_method(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> StripeDict:
        _unavailable("saving a card")

    def list_invoices(
        self, customer_id: str, *, limit: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        return [], False

    def invoice_payment_intent(self, invoice_id: str) -> str | None:
        _unavailable("a Stripe invoice")

    def create_refund(self, params: Mapping[str, Any], *, idempotency_key: str) -> StripeDict:
        _unavailable("a Stripe refund")

    def create_meter_event(
        self, *, event_name: str, stripe_customer_id: str, value: int, identifier: str,
        timestamp: int
    ) -> bool:
        _unavailable("reporting usage")

    def retrieve_balance(self) -> StripeDict:
        _unavailable("the Stripe balance")

    def list_payouts(
        self, *, limit: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        _unavailable("payouts")

    def retrieve_payout(self, payout_id: str) -> StripeDict:
        _unavailable("payouts")

    def list_balance_transactions(
        self, *, payout: str, limit: int
    ) -> tuple[list[StripeDict], bool]:
        _unavailable("balance transactions")
