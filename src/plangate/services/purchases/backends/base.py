"""The purchase backend: everything that differs between selling through Stripe and test
mode, behind one interface. One backend is chosen when the app starts
(:func:`plangate.services.purchases.backends.backend_for`); the API's routes parse,
authorize and call it, and no other code asks which gateway runs.

The two differ in where a purchase takes effect, so also in how a write's answer is
recorded under the request's ``Idempotency-Key``: on Stripe the writes go to Stripe outside
any database transaction and plangate's state follows through the sync; in test mode the
ownerships change at once, in the transaction that records the answer. A backend says which
by calling its :class:`Recorder`, which the API provides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from plangate.gateways.base import Gateway
from plangate.services.commerce.checkout import CheckoutCreated, CheckoutRequest
from plangate.services.commerce.refunds import RefundRequest
from plangate.services.commerce.tax import BillingDetails
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.purchases.cancel import CancelRequest
from plangate.services.purchases.rules import SwitchRequest
from plangate.settings import Settings
from plangate.store.db import Database

Answer = TypeVar("Answer")
Answer_co = TypeVar("Answer_co", covariant=True)
Body = dict[str, Any]


class Recorder(Protocol[Answer_co]):
    """Runs one write and records its answer under the request's Idempotency-Key."""

    def in_transaction(self, effect: Callable[[Session], Body]) -> Answer_co:
        """Runs ``effect`` in the write transaction that records its answer."""
        ...

    def after_gateway(self, write: Callable[[], Body]) -> Answer_co:
        """Replays a recorded answer, or runs ``write`` outside any transaction (it calls the
        payment gateway) and then records what it answered."""
        ...


@dataclass(frozen=True)
class Deps:
    db: Database
    gateway: Gateway
    catalogs: CatalogCache
    settings: Settings


class PurchaseBackend(Protocol):
    """Buying, managing and refunding purchases, and the customer's cards and invoices."""

    name: str
    # Whether customers can be sent to a hosted billing portal (Stripe's) to manage billing.
    has_portal: bool
    # Whether a paid checkout can wait on its webhook, so that the success page's poll syncs
    # it (Stripe: services/stripe_sync/on_return.py); test mode fulfils at once.
    fulfils_on_return: bool

    def checkout(self, request: CheckoutRequest, now: datetime) -> CheckoutCreated: ...

    def switch(
        self, recorder: Recorder[Answer], request: SwitchRequest, now: datetime
    ) -> Answer: ...

    def preview_switch(self, request: SwitchRequest, now: datetime) -> Body:
        """What ``switch`` would do and cost (amount due now, next invoice); changes nothing."""
        ...

    def pending_change(self, ref: CustomerRef, product_id: str) -> Body | None:
        """The downgrade waiting for the period end on the subscription to ``product_id``
        (``to_product_id``, ``price_id``, ``effective_at``), or None."""
        ...

    def cancel(
        self, recorder: Recorder[Answer], request: CancelRequest, now: datetime
    ) -> Answer: ...

    def resume(
        self, recorder: Recorder[Answer], request: CancelRequest, now: datetime
    ) -> Answer: ...

    def refund(
        self, recorder: Recorder[Answer], request: RefundRequest, now: datetime
    ) -> Answer: ...

    def portal_url(self, ref: CustomerRef, return_url: str, scope: str | None) -> str: ...

    def billing_details(self, ref: CustomerRef) -> Body: ...

    def save_card(
        self, ref: CustomerRef, return_url: str | None, scope: str | None, now: datetime
    ) -> Body: ...

    def set_default_card(
        self, ref: CustomerRef, payment_method_id: str, scope: str | None, now: datetime
    ) -> Body: ...

    def list_invoices(self, ref: CustomerRef, limit: int, cursor: str | None) -> Body: ...

    def read_billing_details(self, ref: CustomerRef) -> Body: ...

    def write_billing_details(
        self, ref: CustomerRef, details: BillingDetails, scope: str | None, now: datetime
    ) -> Body: ...
