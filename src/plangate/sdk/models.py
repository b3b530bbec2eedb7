"""What the SDK's methods return: the API's own response models, plus the few shapes the
server answers without a named schema."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from plangate.api.schemas import (
    CatalogApplied,
    CatalogOut,
    CheckOut,
    CheckoutSessionCreated,
    CheckoutSessionOut,
    CustomerOut,
    CustomerSessionOut,
    CustomerType,
    EntitlementsOut,
    EntitlementTokenOut,
    ItemBalanceOut,
    ItemChanged,
    ItemOut,
    MemberList,
    MemberOut,
    OwnedProduct,
    ProductList,
    SeatsOut,
    TeamRole,
)

CheckResult = CheckOut
"""``check()``'s answer: ``allowed`` and what was checked (an item's balance as ``quantity``)."""


class GrantResult(BaseModel):
    """``POST {c}/products``: the new ownership and every product the customer now holds."""

    ownership_id: str
    product_id: str
    data: list[OwnedProduct]


EntitlementToken = EntitlementTokenOut
"""``entitlement_token()``'s answer: the signed JWT, its expiry and whose it is."""


# --- purchases and billing ------------------------------------------------------------------
# The server declares these next to their routes (plangate.api.routes.purchases / .billing),
# which the SDK may not import; they are mirrored here field for field
# (tests/sdk/test_sdk_billing.py keeps the two in step).


class InvoiceOut(BaseModel):
    """A Stripe invoice; amounts in integer minor units, each with a ``..._decimal`` string."""

    id: str
    number: str | None
    status: str | None
    billing_reason: str | None
    currency: str
    total: int
    total_decimal: str
    amount_due: int
    amount_due_decimal: str
    amount_paid: int
    amount_paid_decimal: str
    amount_remaining: int
    amount_remaining_decimal: str
    hosted_invoice_url: str | None
    created: datetime | None
    period_start: datetime | None
    period_end: datetime | None


class PlanChangeOut(BaseModel):
    """``switch()``'s answer: what changed and when (``effective``: ``now`` or ``period_end``)."""

    object: Literal["plan_change"]
    customer_type: str
    customer_id: str
    from_product_id: str
    to_product_id: str
    price_id: str | None
    change: Literal["upgrade", "downgrade", "cancel_scheduled_change"]
    effective: Literal["now", "period_end"]
    effective_at: datetime | None
    subscription_id: str | None
    """``None`` in test mode."""
    invoice: InvoiceOut | None
    """The prorated invoice of an upgrade (``None`` in test mode)."""


class CancellationOut(BaseModel):
    object: Literal["cancellation"]
    customer_type: str
    customer_id: str
    product_id: str
    subscription_id: str | None
    immediately: bool
    status: str
    cancel_at_period_end: bool
    ends_at: datetime | None


class CancelledOut(BaseModel):
    """``cancel()`` / ``resume()``: the owned products and the subscription's cancellation
    state. On the stripe gateway ``data`` shows the change once the webhooks are synced."""

    data: list[OwnedProduct]
    cancellation: CancellationOut | None = None


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
    payment_methods: list[CardOut]
    """Every saved card, newest first."""


class SetupOut(BaseModel):
    """``create_setup_intent()``: a hosted page (``url``) or a SetupIntent (``client_secret``)."""

    object: Literal["card_setup"]
    type: Literal["setup_intent", "checkout_session"]
    id: str
    client_secret: str | None
    url: str | None
    status: str | None


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


RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]


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
    transaction_id: str | None
    """Test mode: the refund's transaction."""


__all__ = [
    "BillingOut",
    "CancellationOut",
    "CancelledOut",
    "CardOut",
    "CatalogApplied",
    "CatalogOut",
    "CheckOut",
    "CheckResult",
    "CheckoutSessionCreated",
    "CheckoutSessionOut",
    "CustomerOut",
    "CustomerSessionOut",
    "CustomerType",
    "EntitlementToken",
    "EntitlementTokenOut",
    "EntitlementsOut",
    "GrantResult",
    "InvoiceList",
    "InvoiceOut",
    "ItemBalanceOut",
    "ItemChanged",
    "ItemOut",
    "MemberList",
    "MemberOut",
    "OwnedProduct",
    "PlanChangeOut",
    "PortalOut",
    "ProductList",
    "RefundOut",
    "RefundReason",
    "SeatsOut",
    "SetupOut",
    "TeamRole",
    "TransactionList",
    "TransactionOut",
]
