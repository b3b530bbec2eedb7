"""The Gateway protocol: everything plangate asks of its payment processor.

Two implementations: ``stripe`` (official SDK, real Stripe or the sandbox) and ``test`` (test
mode, no Stripe). Objects come back as plain JSON-shaped dicts in Stripe's wire format (the
Basil API shape), so the sync reads the same keys whatever the gateway, and nothing above this
layer imports ``stripe``.

Every creating call takes an ``idempotency_key``: a retry of plangate's own request must not
create a second Stripe object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

StripeDict = dict[str, Any]
"""One Stripe object as JSON (``to_dict_recursive``), e.g. ``{"id": "sub_...", "status": ...}``."""


class CallBudget(Protocol):
    """Permission to send one request to the payment processor; blocks until the
    installation's rate allows it (services/stripe_budget keeps the shared one)."""

    def acquire(self) -> None: ...


class GatewayError(Exception):
    """The processor refused or failed a call. ``code`` is plangate's stable error code."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "gateway_error",
        http_status: int | None = None,
        retryable: bool = False,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.retryable = retryable
        # The request parameter the processor refused, when it says (`discounts[0][...]`).
        self.param = param


class GatewayNotFound(GatewayError):
    """The object does not exist at the processor (deleted, or never did)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="gateway_object_not_found", http_status=404)


@dataclass(frozen=True, slots=True)
class CheckoutSessionCreated:
    id: str
    url: str
    expires_at: int  # unix seconds


@runtime_checkable
class Gateway(Protocol):
    """What plangate needs from a payment processor. See module docstring for conventions."""

    name: str  # "stripe" or "test"

    # --- customers ----------------------------------------------------------------------
    def create_customer(
        self,
        *,
        email: str | None,
        name: str | None,
        metadata: Mapping[str, str],
        idempotency_key: str,
        test_clock: str | None = None,
    ) -> StripeDict: ...

    def retrieve_customer(self, customer_id: str) -> StripeDict: ...

    def list_customers_with_metadata(self) -> Sequence[StripeDict]:
        """Every customer carrying plangate's metadata (reconciliation of unknown customers)."""
        ...

    def update_customer(
        self, customer_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        """Changes the customer's ``email``, ``name`` (identity sync) or ``address`` (billing
        details for tax)."""
        ...

    def list_tax_ids(self, customer_id: str) -> Sequence[StripeDict]: ...

    def create_tax_id(
        self, customer_id: str, type_: str, value: str, *, idempotency_key: str
    ) -> StripeDict: ...

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None: ...

    # --- prices ---------------------------------------------------------------------------
    def find_price(self, lookup_key: str) -> StripeDict | None:
        """The active price with this lookup key, or None."""
        ...

    # --- promotion codes ------------------------------------------------------------------
    def find_promotion_code(self, code: str) -> StripeDict | None:
        """The active promotion code customers type as ``code``, or None."""
        ...

    # --- checkout -------------------------------------------------------------------------
    def create_checkout_session(
        self, params: Mapping[str, Any], *, idempotency_key: str
    ) -> CheckoutSessionCreated:
        """On the test gateway the session is complete at once and grants nothing by itself:
        the test purchase backend grants it (no Stripe customer) in the transaction that
        records the session (see gateways/test_gateway.py).
        """
        ...

    def retrieve_checkout_session(self, session_id: str) -> StripeDict:
        """Expanded with ``line_items`` so quantity is known."""
        ...

    def list_checkout_sessions(self, customer_id: str) -> Sequence[StripeDict]: ...

    def expire_checkout_session(self, session_id: str, *, idempotency_key: str) -> StripeDict:
        """Ends an open session so that it can no longer be paid."""
        ...

    # --- subscriptions --------------------------------------------------------------------
    def retrieve_subscription(self, subscription_id: str) -> StripeDict:
        """Expanded with ``items.data.price`` and ``schedule``."""
        ...

    def list_subscriptions(self, customer_id: str) -> Sequence[StripeDict]:
        """All of the customer's subscriptions, any status, with ``items.data.price`` and
        ``schedule``."""
        ...

    def list_subscriptions_page(
        self, *, period_start_gte: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        """One page (100) of the subscriptions, any status, whose latest item period started
        at or after ``period_start_gte``, newest first, and whether more follow; expanded as
        :meth:`retrieve_subscription` is (a renewal burst's reads, stripe_sync/list_reads)."""
        ...

    # --- payments -------------------------------------------------------------------------
    def retrieve_invoice(self, invoice_id: str) -> StripeDict: ...

    def retrieve_payment_intent(self, payment_intent_id: str) -> StripeDict: ...

    def retrieve_charge(self, charge_id: str) -> StripeDict:
        """The charge with its ``refunds`` list expanded (its first page)."""
        ...

    def list_refunds(self, charge_id: str) -> Sequence[StripeDict]:
        """Every refund of the charge, newest first."""
        ...

    def retrieve_refund(self, refund_id: str) -> StripeDict: ...

    def retrieve_dispute(self, dispute_id: str) -> StripeDict: ...

    def list_payment_intents(self, customer_id: str) -> Sequence[StripeDict]:
        """The customer's payment intents, each with its ``latest_charge`` expanded."""
        ...

    def list_payment_intents_page(
        self, *, created_gte: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        """One page (100) of the payment intents created at or after ``created_gte``, newest
        first, and whether more follow."""
        ...

    # --- managing a purchase (services/purchases.py) --------------------------------------
    def update_subscription(
        self, subscription_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        """Expanded with ``items.data.price`` and ``latest_invoice``."""
        ...

    def retrieve_price(self, price_id: str) -> StripeDict: ...

    def preview_invoice(self, params: Mapping[str, Any]) -> StripeDict:
        """``invoices.create_preview``: the invoice a subscription change would produce."""
        ...

    def cancel_subscription(self, subscription_id: str, *, idempotency_key: str) -> StripeDict:
        """Ends the subscription now (``DELETE /v1/subscriptions/{id}``)."""
        ...

    def create_subscription_schedule(
        self, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict:
        """``subscription_schedules.create`` (plangate uses ``from_subscription``)."""
        ...

    def update_subscription_schedule(
        self, schedule_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> StripeDict: ...

    def release_subscription_schedule(
        self, schedule_id: str, *, idempotency_key: str
    ) -> StripeDict:
        """The subscription carries on as it is now; the schedule's later phases are dropped."""
        ...

    # --- billing: cards, portal, invoices, refunds (services/commerce) ------------------------
    def list_portal_configurations(self) -> Sequence[StripeDict]:
        """The active billing portal configurations (plangate finds its own by metadata)."""
        ...

    def create_portal_session(
        self,
        customer_id: str,
        return_url: str,
        *,
        configuration: str | None = None,
        idempotency_key: str,
    ) -> str:
        """The billing portal's URL; ``configuration`` says what the portal allows (Stripe's
        default configuration when None)."""
        ...

    def create_setup_intent(
        self, customer_id: str, metadata: Mapping[str, str], *, idempotency_key: str
    ) -> StripeDict: ...

    def retrieve_payment_method(self, payment_method_id: str) -> StripeDict: ...

    def list_payment_methods(self, customer_id: str) -> Sequence[StripeDict]:
        """The customer's saved cards."""
        ...

    def attach_payment_method(
        self, payment_method_id: str, customer_id: str, *, idempotency_key: str
    ) -> StripeDict: ...

    def set_default_payment_method(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> StripeDict:
        """Makes the card the customer's ``invoice_settings.default_payment_method``."""
        ...

    def list_invoices(
        self, customer_id: str, *, limit: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        """One page, newest first, and whether more follow; ``discounts`` expanded with their
        ``source.coupon`` and ``promotion_code``."""
        ...

    def invoice_payment_intent(self, invoice_id: str) -> str | None:
        """The payment intent that paid the invoice (Basil: through ``invoice.payments``)."""
        ...

    def create_refund(self, params: Mapping[str, Any], *, idempotency_key: str) -> StripeDict: ...

    # --- usage-based billing (services/usage) ---------------------------------------------------
    def create_meter_event(
        self, *, event_name: str, stripe_customer_id: str, value: int, identifier: str,
        timestamp: int
    ) -> bool:
        """Reports usage to the meter named ``event_name``; False when the processor already
        had an event with ``identifier`` (it counts once)."""
        ...

    # --- the account's balance and payouts (the dashboard's Payouts page) ----------------

    def retrieve_balance(self) -> StripeDict:
        """The account's balance: ``available`` and ``pending`` amounts per currency."""
        ...

    def list_payouts(
        self, *, limit: int, starting_after: str | None
    ) -> tuple[list[StripeDict], bool]:
        """One page of payouts, newest first, and whether more follow."""
        ...

    def retrieve_payout(self, payout_id: str) -> StripeDict: ...

    def list_balance_transactions(
        self, *, payout: str, limit: int
    ) -> tuple[list[StripeDict], bool]:
        """The first page of the balance transactions ``payout`` paid out, newest first."""
        ...
