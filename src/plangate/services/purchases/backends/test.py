"""The test backend (``PLANGATE_GATEWAY=test``, test mode): no Stripe. Purchases are free and
take effect at once, in the transaction that records the request's answer
(test_ownerships.py, test_switch.py); payments are recorded with the catalog's amount so that
refunds can be tried. There are no cards or invoices, and the billing portal is the return
URL itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from plangate.errors import Conflict, InvalidRequest
from plangate.services.access.redirects import validate_redirect_url
from plangate.services.commerce import billing, checkout, refunds, tax
from plangate.services.commerce.checkout import CheckoutCreated, CheckoutRequest, Offer
from plangate.services.commerce.refunds import RefundRequest
from plangate.services.commerce.transactions import transaction_id
from plangate.services.entitlements import ownership
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.purchases.backends import test_ownerships
from plangate.services.purchases.backends.base import Answer, Body, Deps, Recorder
from plangate.services.purchases.backends.test_switch import switch_at_once
from plangate.services.purchases.cancel import (
    CancelRequest,
    cancellation_body,
    owned_subscription,
)
from plangate.services.purchases.rules import SwitchRequest
from plangate.services.purchases.switch_preview import preview_body

# The stable error code of what test mode cannot do (cards; refunds not named by transaction).
UNAVAILABLE = "test_mode"


def _no_cards() -> Conflict:
    return Conflict(
        UNAVAILABLE, "test mode keeps no cards: purchases are free (PLANGATE_GATEWAY=test)"
    )


class _Discarded(Exception):
    """Rolls back a switch run only to see what it would do."""

    def __init__(self, body: Body) -> None:
        super().__init__("discarded")
        self.body = body


class TestBackend:
    name = "test"
    has_portal = False
    fulfils_on_return = False
    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._checkout = checkout.Deps(deps.db, deps.gateway, deps.catalogs, deps.settings)

    # --- buying ---------------------------------------------------------------------------

    def checkout(self, request: CheckoutRequest, now: datetime) -> CheckoutCreated:
        return checkout.create_checkout(
            self._checkout,
            request,
            now,
            payment_customer=lambda _ref, _now: "",  # no Stripe customer in test mode
            fulfil_at_once=self._fulfil,
        )

    def _fulfil(
        self,
        session: Session,
        request: CheckoutRequest,
        offer: Offer,
        checkout_session_id: str,
        now: datetime,
    ) -> int:
        owned = test_ownerships.complete_checkout(
            session,
            request.ref,
            self.deps.catalogs.active(session),
            offer.product,
            offer.price,
            now,
            currency=offer.currency,
            quantity=offer.quantity,
            checkout_session_id=checkout_session_id,
        )
        return owned.id

    # --- managing a purchase ---------------------------------------------------------------

    def switch(self, recorder: Recorder[Answer], request: SwitchRequest, now: datetime) -> Answer:
        catalogs = self.deps.catalogs
        return recorder.in_transaction(
            lambda session: switch_at_once(session, catalogs, request, now)
        )

    def preview_switch(self, request: SwitchRequest, now: datetime) -> Body:
        # Test mode bills nothing: the switch runs in a transaction that is then discarded.
        try:
            with self.deps.db.write() as session:
                raise _Discarded(switch_at_once(session, self.deps.catalogs, request, now))
        except _Discarded as done:
            return preview_body(done.body, None, None)

    def pending_change(self, ref: CustomerRef, product_id: str) -> Body | None:
        # In test mode the waiting plan is an ownership of its own, status "scheduled".
        with self.deps.db.read() as session:
            owned = ownership.live_ownerships(session, ref)
            held = next(
                (
                    o
                    for o in owned
                    if o.product_id == product_id
                    and o.status != ownership.SCHEDULED
                    and o.ended_at is None
                ),
                None,
            )
            waiting = next(
                (
                    o
                    for o in owned
                    if held is not None
                    and o.line_id == held.line_id
                    and o.status == ownership.SCHEDULED
                ),
                None,
            )
            if held is None or waiting is None:
                return None
            return {
                "to_product_id": waiting.product_id,
                "price_id": waiting.price_id,
                "effective_at": held.current_period_end,
            }

    def cancel(self, recorder: Recorder[Answer], request: CancelRequest, now: datetime) -> Answer:
        return recorder.in_transaction(lambda session: self._cancel(session, request, now))

    def resume(self, recorder: Recorder[Answer], request: CancelRequest, now: datetime) -> Answer:
        return recorder.in_transaction(lambda session: self._resume(session, request, now))

    def _cancel(self, session: Session, request: CancelRequest, now: datetime) -> Body:
        catalog = self.deps.catalogs.active(session)
        owned = ownership.settle_customer(session, request.ref, catalog, now).ownerships
        current = owned_subscription(owned, request)
        scheduled = current.status == ownership.SCHEDULED
        test_ownerships.cancel(
            session, request.ref, catalog, current, now, immediately=request.immediately
        )
        ended = request.immediately or scheduled
        return cancellation_body(
            request,
            subscription_id=None,
            status="canceled" if ended else current.status,
            cancel_at_period_end=not ended,
            ends_at=now if ended else current.current_period_end,
        )

    def _resume(self, session: Session, request: CancelRequest, now: datetime) -> Body:
        catalog = self.deps.catalogs.active(session)
        owned = ownership.settle_customer(session, request.ref, catalog, now).ownerships
        current = owned_subscription(owned, request)
        test_ownerships.resume(session, request.ref, catalog, current, now)
        return cancellation_body(
            request,
            subscription_id=None,
            status=current.status,
            cancel_at_period_end=False,
            ends_at=None,
        )

    # --- refunds ---------------------------------------------------------------------------

    def refund(self, recorder: Recorder[Answer], request: RefundRequest, now: datetime) -> Answer:
        named_by = refunds.check_refund_request(request)
        if request.transaction_id is None:
            raise InvalidRequest(
                UNAVAILABLE,
                "test mode refunds test payments by transaction_id (GET /v1/transactions)",
                param=named_by,
            )
        return recorder.in_transaction(lambda session: _refund(session, request, now))

    # --- cards, portal, invoices -------------------------------------------------------------

    def portal_url(self, ref: CustomerRef, return_url: str, scope: str | None) -> str:
        # No billing portal without Stripe: the link leads straight back.
        validate_redirect_url(return_url, self.deps.settings, param="return_url")
        return return_url

    def billing_details(self, ref: CustomerRef) -> Body:
        return {
            "has_payment_customer": False,
            "default_payment_method": None,
            "payment_methods": [],
        }

    def save_card(
        self, ref: CustomerRef, return_url: str | None, scope: str | None, now: datetime
    ) -> Body:
        raise _no_cards()

    def set_default_card(
        self, ref: CustomerRef, payment_method_id: str, scope: str | None, now: datetime
    ) -> Body:
        raise _no_cards()

    def list_invoices(self, ref: CustomerRef, limit: int, cursor: str | None) -> Body:
        return {"data": [], "next_cursor": None}

    def read_billing_details(self, ref: CustomerRef) -> Body:
        return tax.read_billing_details(
            billing.Deps(self.deps.db, self.deps.gateway, self.deps.settings), ref
        )

    def write_billing_details(
        self, ref: CustomerRef, details: tax.BillingDetails, scope: str | None, now: datetime
    ) -> Body:
        tax.check_details(details)
        raise Conflict(
            UNAVAILABLE,
            "test mode keeps no billing details: they live on the Stripe customer "
            "(PLANGATE_GATEWAY=stripe)",
        )


def _refund(session: Session, request: RefundRequest, now: datetime) -> dict[str, Any]:
    assert request.transaction_id is not None
    # Locked from the read of what is left to refund to the refund's record: two concurrent
    # refunds of one payment never both take its last cent.
    payment = refunds.payment_row(session, request.transaction_id, lock=True)
    amount = refunds.refund_amount(
        request, payment.currency, payment.amount - payment.amount_refunded
    )
    row = test_ownerships.refund(session, payment, amount, now)
    refund = {
        "id": row.stripe_id,
        "status": "succeeded",
        "currency": row.currency,
        "amount": row.amount,
        "payment_intent": payment.payment_intent_id,
        "charge": None,
    }
    ref = CustomerRef(payment.customer_type, payment.customer_id)
    return refunds.refund_view(refund, ref, transaction_id(row))
