"""Billing: the billing portal, saved cards, invoices (per customer); transactions and refunds
(server only). See docs/billing.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from plangate.api.deps import Context, ManageableCustomer, ReadableCustomer, ServerCaller
from plangate.api.gateway_writes import RecordedWrite, run_gateway_write, scope
from plangate.api.idempotency import Idempotent
from plangate.api.schemas import (
    BillingDetailsIn,
    BillingDetailsOut,
    BillingOut,
    DefaultCardIn,
    InvoiceList,
    PortalIn,
    PortalOut,
    RefundIn,
    RefundOut,
    SetupIn,
    SetupOut,
    TransactionList,
)
from plangate.services.commerce import refunds, tax, transactions

router = APIRouter(tags=["billing"])
CUSTOMER = "/v1/customers/{customer_type}/{customer_id}"
MAX_PAGE = 100


# --- per customer ------------------------------------------------------------------------------


@router.post(CUSTOMER + "/portal-sessions", response_model=PortalOut)
def portal_session(
    ref: ManageableCustomer, body: PortalIn, ctx: Context, idem: Idempotent
) -> JSONResponse:
    """A link to Stripe's billing portal (cards, invoices, cancellation) that returns to
    `return_url`. In test mode the link is `return_url` itself."""
    backend = ctx.purchases
    return run_gateway_write(
        idem, lambda: {"url": backend.portal_url(ref, body.return_url, scope(idem))}
    )


@router.get(CUSTOMER + "/billing", response_model=BillingOut)
def billing_details(ref: ReadableCustomer, ctx: Context) -> dict[str, Any]:
    """Whether the customer has a Stripe customer, and the card renewals charge."""
    return ctx.purchases.billing_details(ref)


@router.post(CUSTOMER + "/setup-intents", response_model=SetupOut)
def save_card(
    ref: ManageableCustomer, body: SetupIn, ctx: Context, idem: Idempotent
) -> JSONResponse:
    """Start saving a card: a hosted page (`url`, with `return_url`) or a SetupIntent
    (`client_secret`, for Stripe.js). Then make it the default."""
    backend = ctx.purchases
    return run_gateway_write(
        idem, lambda: backend.save_card(ref, body.return_url, scope(idem), ctx.clock.now())
    )


@router.post(CUSTOMER + "/payment-methods/default", response_model=BillingOut)
def default_card(
    ref: ManageableCustomer, body: DefaultCardIn, ctx: Context, idem: Idempotent
) -> JSONResponse:
    """Make a saved card (or, with the sandbox, a test id such as `pm_card_visa`) the one
    renewals and upgrades charge, for the customer and its running subscriptions."""
    backend = ctx.purchases
    return run_gateway_write(
        idem,
        lambda: backend.set_default_card(
            ref, body.payment_method_id, scope(idem), ctx.clock.now()
        ),
    )


@router.get(CUSTOMER + "/billing-details", response_model=BillingDetailsOut)
def read_billing_details(ref: ReadableCustomer, ctx: Context) -> dict[str, Any]:
    """The customer's billing details for tax, read from its Stripe customer: the address,
    the name invoices show, and its tax ids with Stripe's verification."""
    return ctx.purchases.read_billing_details(ref)


@router.put(CUSTOMER + "/billing-details", response_model=BillingDetailsOut)
def write_billing_details(
    ref: ManageableCustomer, body: BillingDetailsIn, ctx: Context, idem: Idempotent
) -> JSONResponse:
    """Set the customer's billing address, name and tax ids on its Stripe customer (made if
    it has none yet): Stripe Tax computes from the address, invoices show the tax ids.
    `tax_ids` is the complete list. Checked before anything is sent: an unknown country or
    tax id type is 400; a tax id value Stripe refuses is 400 `tax_id_invalid`."""
    details = tax.BillingDetails(
        address=body.address.model_dump() if body.address else None,
        name=body.name,
        tax_ids=[(t.type, t.value) for t in body.tax_ids],
    )
    backend = ctx.purchases
    return run_gateway_write(
        idem,
        lambda: backend.write_billing_details(ref, details, scope(idem), ctx.clock.now()),
    )


@router.get(CUSTOMER + "/invoices", response_model=InvoiceList)
def read_invoices(
    ref: ReadableCustomer,
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 10,
    cursor: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    """The customer's invoices, newest first, read from Stripe (drafts left out). Pass
    `next_cursor` as `cursor` for the next page."""
    return ctx.purchases.list_invoices(ref, limit, cursor)


# --- server only -------------------------------------------------------------------------------


@router.get("/v1/transactions", response_model=TransactionList)
def read_transactions(
    ctx: Context,
    _: ServerCaller,
    customer_type: Annotated[str | None, Query(max_length=8)] = None,
    customer_id: Annotated[str | None, Query(max_length=255)] = None,
    type: Annotated[str | None, Query(max_length=16)] = None,  # noqa: A002 - the API's name
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    created_from: Annotated[str | None, Query(max_length=40)] = None,
    created_to: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """Payments, refunds and disputes, newest first, as the sync recorded them."""
    return transactions.list_transactions(
        ctx.db,
        customer_type=customer_type,
        customer_id=customer_id,
        type_=type,
        limit=limit,
        cursor=cursor,
        currency=currency,
        created_from=created_from,
        created_to=created_to,
    )


@router.post("/v1/refunds", response_model=RefundOut)
def refund(body: RefundIn, ctx: Context, _: ServerCaller, idem: Idempotent) -> JSONResponse:
    """Refund a payment in full or in part: name it by `payment_intent_id`, `invoice_id` or
    `transaction_id`; `amount` in minor units, or `amount_decimal` with `currency`."""
    request = refunds.RefundRequest(
        payment_intent_id=body.payment_intent_id,
        invoice_id=body.invoice_id,
        transaction_id=body.transaction_id,
        amount=body.amount,
        amount_decimal=body.amount_decimal,
        currency=body.currency,
        reason=body.reason,
        idempotency_scope=scope(idem),
    )
    return ctx.purchases.refund(RecordedWrite(idem), request, ctx.clock.now())
