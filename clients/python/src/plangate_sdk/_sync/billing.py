# Generated from plangate_sdk/_async/billing.py by clients/python/scripts/generate_sync.py
# (make generate): edit the async source, never this file.
"""The billing calls of the :class:`Client`: the portal, cards, invoices, transactions,
refunds and usage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from plangate_sdk import billing_calls
from plangate_sdk._sync.base import ClientBase
from plangate_sdk.models import (
    BillingDetailsOut,
    BillingOut,
    InvoiceList,
    PortalOut,
    RefundOut,
    RefundReason,
    SetupOut,
    TransactionList,
    UsageOut,
    UsageRecordOut,
)


class BillingMethods(ClientBase):

    def portal_session(
        self,
        customer_type: str,
        customer_id: str,
        return_url: str,
        *,
        idempotency_key: str | None = None,
    ) -> PortalOut:
        """A link to Stripe's billing portal (in test mode, ``return_url`` itself)."""
        return self.send(
            billing_calls.portal_session(
                customer_type, customer_id, return_url, idempotency_key=idempotency_key
            )
        )

    def billing(self, customer_type: str, customer_id: str) -> BillingOut:
        return self.send(billing_calls.billing(customer_type, customer_id))

    def billing_details(self, customer_type: str, customer_id: str) -> BillingDetailsOut:
        """The billing address, the name invoices show and the tax ids, from Stripe."""
        return self.send(billing_calls.billing_details(customer_type, customer_id))

    def set_billing_details(
        self,
        customer_type: str,
        customer_id: str,
        *,
        address: Mapping[str, str | None] | None,
        name: str | None = None,
        tax_ids: Sequence[Mapping[str, str]] = (),
        idempotency_key: str | None = None,
    ) -> BillingDetailsOut:
        """Sets them on the Stripe customer; ``tax_ids`` (``{"type", "value"}``) is the
        complete list. An unknown country or tax id type raises before Stripe is asked."""
        return self.send(
            billing_calls.set_billing_details(
                customer_type,
                customer_id,
                address=address,
                name=name,
                tax_ids=tax_ids,
                idempotency_key=idempotency_key,
            )
        )

    def create_setup_intent(
        self,
        customer_type: str,
        customer_id: str,
        *,
        return_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> SetupOut:
        """Starts saving a card: a hosted page with ``return_url``, else a SetupIntent."""
        return self.send(
            billing_calls.create_setup_intent(
                customer_type, customer_id, return_url=return_url, idempotency_key=idempotency_key
            )
        )

    def set_default_payment_method(
        self,
        customer_type: str,
        customer_id: str,
        payment_method_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> BillingOut:
        return self.send(
            billing_calls.set_default_payment_method(
                customer_type, customer_id, payment_method_id, idempotency_key=idempotency_key
            )
        )

    def invoices(
        self,
        customer_type: str,
        customer_id: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> InvoiceList:
        """Newest first; pass ``next_cursor`` as ``cursor`` for the next page."""
        return self.send(
            billing_calls.invoices(customer_type, customer_id, limit=limit, cursor=cursor)
        )

    def transactions(
        self,
        *,
        customer_type: str | None = None,
        customer_id: str | None = None,
        type: str | None = None,  # noqa: A002 - the API's name
        limit: int | None = None,
        cursor: str | None = None,
    ) -> TransactionList:
        """Payments, refunds and disputes, newest first (server only)."""
        return self.send(
            billing_calls.transactions(
                customer_type=customer_type,
                customer_id=customer_id,
                type=type,
                limit=limit,
                cursor=cursor,
            )
        )

    def refund(
        self,
        *,
        payment_intent_id: str | None = None,
        invoice_id: str | None = None,
        transaction_id: str | None = None,
        amount: int | None = None,
        amount_decimal: str | None = None,
        currency: str | None = None,
        reason: RefundReason | None = None,
        idempotency_key: str | None = None,
    ) -> RefundOut:
        """Refunds a payment named by exactly one of ``payment_intent_id``, ``invoice_id`` or
        ``transaction_id``: all that is left, ``amount`` minor units, or ``amount_decimal``
        with ``currency`` (server only)."""
        return self.send(
            billing_calls.refund(
                payment_intent_id=payment_intent_id,
                invoice_id=invoice_id,
                transaction_id=transaction_id,
                amount=amount,
                amount_decimal=amount_decimal,
                currency=currency,
                reason=reason,
                idempotency_key=idempotency_key,
            )
        )

    def record_usage(
        self,
        customer_type: str,
        customer_id: str,
        meter: str,
        quantity: int,
        event_id: str,
        *,
        user_id: str | None = None,
        occurred_at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UsageRecordOut:
        """Records usage of a catalog meter once per ``event_id`` (again: ``duplicate``); on
        a team, ``user_id`` is the member whose usage it is."""
        return self.send(
            billing_calls.record_usage(
                customer_type,
                customer_id,
                meter,
                quantity,
                event_id,
                user_id=user_id,
                occurred_at=occurred_at,
                idempotency_key=idempotency_key,
            )
        )

    def usage(self, customer_type: str, customer_id: str) -> UsageOut:
        """The current period's usage of each catalog meter."""
        return self.send(billing_calls.usage(customer_type, customer_id))
