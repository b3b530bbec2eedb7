"""The Stripe backend (``PLANGATE_GATEWAY=stripe``, real Stripe or the sandbox): every write
goes to Stripe outside any database transaction, with an idempotency key derived from the
caller's, and plangate's state follows when the sync processes Stripe's webhooks (DESIGN.md,
"the one rule")."""

from __future__ import annotations

from datetime import datetime

from plangate.services.commerce import billing, cards, checkout, invoices, portal, refunds, tax
from plangate.services.commerce.checkout import CheckoutCreated, CheckoutRequest
from plangate.services.commerce.refunds import RefundRequest
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.purchases import cancel as cancellation
from plangate.services.purchases.backends.base import Answer, Body, Deps, Recorder
from plangate.services.purchases.cancel import CancelRequest
from plangate.services.purchases.rules import Deps as SwitchDeps
from plangate.services.purchases.rules import SwitchRequest
from plangate.services.purchases.stripe_switch import switch_on_stripe
from plangate.services.purchases.switch_preview import pending_on_stripe, preview_on_stripe


class StripeBackend:
    name = "stripe"
    has_portal = True
    fulfils_on_return = True

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._switching = SwitchDeps(deps.db, deps.gateway, deps.catalogs)
        self._billing = billing.Deps(deps.db, deps.gateway, deps.settings)
        self._checkout = checkout.Deps(deps.db, deps.gateway, deps.catalogs, deps.settings)

    def checkout(self, request: CheckoutRequest, now: datetime) -> CheckoutCreated:
        def payer(ref: CustomerRef, at: datetime) -> str:
            return checkout.stripe_payment_customer(self._checkout, ref, at)

        return checkout.create_checkout(self._checkout, request, now, payment_customer=payer)

    def switch(self, recorder: Recorder[Answer], request: SwitchRequest, now: datetime) -> Answer:
        return recorder.after_gateway(lambda: switch_on_stripe(self._switching, request, now))

    def preview_switch(self, request: SwitchRequest, now: datetime) -> Body:
        return preview_on_stripe(self._switching, request, now)

    def pending_change(self, ref: CustomerRef, product_id: str) -> Body | None:
        return pending_on_stripe(self._switching, ref, product_id)

    def cancel(self, recorder: Recorder[Answer], request: CancelRequest, now: datetime) -> Answer:
        return recorder.after_gateway(
            lambda: cancellation.cancel_on_stripe(self._switching, request)
        )

    def resume(self, recorder: Recorder[Answer], request: CancelRequest, now: datetime) -> Answer:
        return recorder.after_gateway(
            lambda: cancellation.resume_on_stripe(self._switching, request)
        )

    def refund(self, recorder: Recorder[Answer], request: RefundRequest, now: datetime) -> Answer:
        return recorder.after_gateway(lambda: refunds.refund_on_stripe(self._billing, request))

    def portal_url(self, ref: CustomerRef, return_url: str, scope: str | None) -> str:
        return portal.portal_url(self._billing, ref, return_url, scope)

    def billing_details(self, ref: CustomerRef) -> Body:
        return cards.billing_details(self._billing, ref)

    def save_card(
        self, ref: CustomerRef, return_url: str | None, scope: str | None, now: datetime
    ) -> Body:
        return cards.save_card(self._billing, ref, return_url, scope, now)

    def set_default_card(
        self, ref: CustomerRef, payment_method_id: str, scope: str | None, now: datetime
    ) -> Body:
        return cards.set_default_card(self._billing, ref, payment_method_id, scope, now)

    def list_invoices(self, ref: CustomerRef, limit: int, cursor: str | None) -> Body:
        return invoices.list_invoices(self._billing, ref, limit, cursor)

    def read_billing_details(self, ref: CustomerRef) -> Body:
        return tax.read_billing_details(self._billing, ref)

    def write_billing_details(
        self, ref: CustomerRef, details: tax.BillingDetails, scope: str | None, now: datetime
    ) -> Body:
        return tax.write_billing_details(self._billing, ref, details, scope, now)
