"""Billing: the billing portal, saved cards, invoices (per customer); transactions and refunds
(server only). See docs/billing.md."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from plangate.api.context import AppContext
from plangate.api.deps import Context, ManageableCustomer, ReadableCustomer, ServerCaller
from plangate.api.gateway_writes import run_gateway_write, scope
from plangate.api.idempotency import Idempotent
from plangate.api.routes.purchases import InvoiceOut
from plangate.api.schemas import Body
from plangate.services import billing

router = APIRouter(tags=["billing"])
CUSTOMER = "/v1/customers/{customer_type}/{customer_id}"
MAX_PAGE = 100


def _deps(ctx: AppContext) -> billing.Deps:
    return billing.Deps(ctx.db, ctx.gateway, ctx.settings)


# --- bodies ------------------------------------------------------------------------------------


class PortalIn(Body):
    return_url: str = Field(max_length=2048)


class PortalOut(BaseModel):
    url: str


class CardOut(BaseModel):
    id: str | None = None
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    default: bool | None = None


class BillingOut(BaseModel):
    has_payment_customer: bool
    default_payment_method: CardOut | None
    payment_methods: list[CardOut] = Field(description="every saved card, newest first")


class SetupIn(Body):
    return_url: str | None = Field(
        default=None,
        max_length=2048,
        description="with it: a hosted page (url) that returns here; without: a SetupIntent "
        "(client_secret) for Stripe.js",
    )


class SetupOut(BaseModel):
    object: Literal["card_setup"]
    type: Literal["setup_intent", "checkout_session"]
    id: str
    client_secret: str | None
    url: str | None
    status: str | None


class DefaultCardIn(Body):
    payment_method_id: str = Field(min_length=1, max_length=255)


class InvoiceList(BaseModel):
    data: list[InvoiceOut]
    next_cursor: str | None


class TransactionOut(BaseModel):
    id: str
    customer_type: str
    customer_id: str
    type: Literal["payment", "refund", "dispute"]
    status: str
    currency: str
    amount: int
    amount_decimal: str
    amount_refunded: int
    amount_refunded_decimal: str
    product_id: str | None
    stripe_id: str
    invoice_id: str | None
    payment_intent_id: str | None
    charge_id: str | None
    description: str | None
    created_at: datetime


class TransactionList(BaseModel):
    data: list[TransactionOut]
    next_cursor: str | None


class RefundIn(Body):
    payment_intent_id: str | None = Field(default=None, max_length=255)
    invoice_id: str | None = Field(default=None, max_length=255)
    transaction_id: str | None = Field(default=None, max_length=64)
    amount: int | None = Field(
        default=None, ge=1, description="integer minor units (1999 is 19.99 USD); default: all"
    )
    amount_decimal: str | None = Field(
        default=None, max_length=32, description='a decimal string ("19.99") with `currency`'
    )
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    reason: Literal["duplicate", "fraudulent", "requested_by_customer"] | None = None


class RefundOut(BaseModel):
    object: Literal["refund"]
    id: str
    status: str | None
    currency: str
    amount: int
    amount_decimal: str
    payment_intent_id: str | None
    charge_id: str | None
    customer_type: str | None
    customer_id: str | None
    transaction_id: str | None = Field(description="test mode: the refund's transaction")


# --- per customer ------------------------------------------------------------------------------


@router.post(CUSTOMER + "/portal-sessions", response_model=PortalOut)
def portal_session(
    ref: ManageableCustomer, body: PortalIn, ctx: Context, idem: Idempotent
) -> JSONResponse:
    """A link to Stripe's billing portal (cards, invoices, cancellation) that returns to
    `return_url`. In test mode the link is `return_url` itself."""
    deps = _deps(ctx)
    return run_gateway_write(
        idem, lambda: {"url": billing.portal_url(deps, ref, body.return_url, scope(idem))}
    )


@router.get(CUSTOMER + "/billing", response_model=BillingOut)
def billing_details(ref: ReadableCustomer, ctx: Context) -> dict[str, Any]:
    """Whether the customer has a Stripe customer, and the card renewals charge."""
    return billing.billing_details(_deps(ctx), ref)


@router.post(CUSTOMER + "/setup-intents", response_model=SetupOut)
def save_card(
    ref: ManageableCustomer, body: SetupIn, ctx: Context, idem: Idempotent
) -> JSONResponse:
    """Start saving a card: a hosted page (`url`, with `return_url`) or a SetupIntent
    (`client_secret`, for Stripe.js). Then make it the default."""
    deps = _deps(ctx)
    return run_gateway_write(
        idem,
        lambda: billing.save_card(deps, ref, body.return_url, scope(idem), ctx.clock.now()),
    )


@router.post(CUSTOMER + "/payment-methods/default", response_model=BillingOut)
def default_card(
    ref: ManageableCustomer, body: DefaultCardIn, ctx: Context, idem: Idempotent
) -> JSONResponse:
    """Make a saved card (or, with the sandbox, a test id such as `pm_card_visa`) the one
    renewals and upgrades charge, for the customer and its running subscriptions."""
    deps = _deps(ctx)
    return run_gateway_write(
        idem,
        lambda: billing.set_default_card(
            deps, ref, body.payment_method_id, scope(idem), ctx.clock.now()
        ),
    )


@router.get(CUSTOMER + "/invoices", response_model=InvoiceList)
def invoices(
    ref: ReadableCustomer,
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 10,
    cursor: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    """The customer's invoices, newest first, read from Stripe (drafts left out). Pass
    `next_cursor` as `cursor` for the next page."""
    return billing.list_invoices(_deps(ctx), ref, limit, cursor)


# --- server only -------------------------------------------------------------------------------


@router.get("/v1/transactions", response_model=TransactionList)
def transactions(
    ctx: Context,
    _: ServerCaller,
    customer_type: Annotated[str | None, Query(max_length=8)] = None,
    customer_id: Annotated[str | None, Query(max_length=255)] = None,
    type: Annotated[str | None, Query(max_length=16)] = None,  # noqa: A002 - the API's name
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Payments, refunds and disputes, newest first, as the sync recorded them."""
    return billing.list_transactions(
        ctx.db,
        customer_type=customer_type,
        customer_id=customer_id,
        type_=type,
        limit=limit,
        cursor=cursor,
    )


@router.post("/v1/refunds", response_model=RefundOut)
def refund(body: RefundIn, ctx: Context, _: ServerCaller, idem: Idempotent) -> JSONResponse:
    """Refund a payment in full or in part: name it by `payment_intent_id`, `invoice_id` or
    `transaction_id`; `amount` in minor units, or `amount_decimal` with `currency`."""
    deps = _deps(ctx)
    request = billing.RefundRequest(
        payment_intent_id=body.payment_intent_id,
        invoice_id=body.invoice_id,
        transaction_id=body.transaction_id,
        amount=body.amount,
        amount_decimal=body.amount_decimal,
        currency=body.currency,
        reason=body.reason,
        idempotency_scope=scope(idem),
    )
    if deps.test_mode:

        def effect(session: Session) -> tuple[int, dict[str, Any]]:
            return 200, billing.refund_in_test_mode(session, request, ctx.clock.now())

        return idem.run(effect)
    return run_gateway_write(idem, lambda: billing.refund_on_stripe(deps, request))
