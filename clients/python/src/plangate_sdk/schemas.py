"""The API's response models: what plangate answers, read by the SDK and written by the server
(whose OpenAPI document names them as here). Request bodies stay with the server, which
validates them; the SDK builds them from its methods' arguments."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

CustomerType = Literal["user", "team", "custom"]
TeamRole = Literal["admin", "member"]
RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]


class CustomerOut(BaseModel):
    customer_type: CustomerType
    customer_id: str
    email: str | None
    name: str | None
    metadata: dict[str, Any]
    has_payment_customer: bool
    created_at: datetime


class CatalogOut(BaseModel):
    version: str | None
    catalog: dict[str, Any]


class CatalogApplied(BaseModel):
    version: str
    created: bool
    activated: bool


class ItemBalanceOut(BaseModel):
    quantity: int
    non_negative_quantity: int
    next_refill_at: datetime | None


class OwnedProduct(BaseModel):
    id: str
    product_id: str
    name: str
    quantity: int
    type: Literal["subscription", "one_time", "grant", "default"]
    line: str | None
    status: str
    grants_access: bool
    # The open or lost dispute that holds it (``dispute_policy=suspend``), else null.
    suspended_by_dispute: str | None = None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    trial_end: datetime | None
    catalog_version: str | None
    switch_options: list[str]
    created_at: datetime


class EntitlementsOut(BaseModel):
    customer_type: CustomerType
    customer_id: str
    plans: list[str]
    features: list[str]
    items: dict[str, ItemBalanceOut]
    products: list[OwnedProduct]


class CheckOut(BaseModel):
    allowed: bool
    feature: str | None = None
    plan: str | None = None
    item: str | None = None
    quantity: int | None = Field(default=None, description="the item's balance")
    requested: int | None = None
    reason: str | None = Field(
        default=None,
        description="why `allowed` is false when the catalog does not define the name asked "
        "about (a typo, or a feature since removed): `unknown_feature`, `unknown_plan` or "
        "`unknown_item`",
    )


class ProductList(BaseModel):
    data: list[OwnedProduct]


class GrantOut(BaseModel):
    ownership_id: str
    product_id: str
    data: list[OwnedProduct] = Field(description="every product the customer now holds")


class ItemOut(BaseModel):
    item_id: str
    quantity: int
    non_negative_quantity: int
    next_refill_at: datetime | None


class ItemChanged(BaseModel):
    item_id: str
    quantity: int
    non_negative_quantity: int


class CustomerSessionOut(BaseModel):
    token: str
    expires_at: datetime
    user_id: str
    teams: dict[str, TeamRole]


class EntitlementTokenOut(BaseModel):
    token: str
    expires_at: datetime
    customer_type: CustomerType
    customer_id: str


class MemberOut(BaseModel):
    team_id: str
    user_id: str
    role: TeamRole
    created_at: datetime


class SeatsOut(BaseModel):
    limit: int | None = Field(description="null when seats are not enforced for this team")
    used: int


class MemberList(BaseModel):
    data: list[MemberOut]
    seats: SeatsOut


class CheckoutSessionCreated(BaseModel):
    id: str
    url: str
    expires_at: datetime


class CheckoutSessionOut(BaseModel):
    """What the success page polls. Without credentials the customer fields are null: the
    session id is a polling handle, not proof of who paid."""

    id: str
    status: Literal["open", "complete", "expired"]
    fulfilled: bool
    product_id: str
    customer_type: CustomerType | None
    customer_id: str | None


class InvoiceDiscountOut(BaseModel):
    id: str = Field(description="Stripe's discount id")
    amount: int = Field(description="what it took off the invoice, in minor units")
    amount_decimal: str
    coupon_id: str | None
    name: str | None = Field(description="the coupon's name")
    percent_off: str | None = Field(description="a decimal string; null for an amount off")
    promotion_code: str | None = Field(description="the code typed, if one was")
    end: datetime | None = Field(description="when a repeating discount stops; null: never")


class InvoiceOut(BaseModel):
    id: str
    number: str | None
    status: str | None
    billing_reason: str | None
    currency: str
    subtotal: int = Field(description="before discounts")
    subtotal_decimal: str
    total_discount: int
    total_discount_decimal: str
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
    discounts: list[InvoiceDiscountOut]


class _PlanChange(BaseModel):
    customer_type: str
    customer_id: str
    from_product_id: str
    to_product_id: str
    price_id: str | None
    change: Literal["upgrade", "downgrade", "cancel_scheduled_change"]
    effective: Literal["now", "period_end"]
    effective_at: datetime | None
    subscription_id: str | None = Field(description="null in test mode")


class PlanChangeOut(_PlanChange):
    object: Literal["plan_change"]
    invoice: InvoiceOut | None = Field(description="the prorated invoice of an upgrade")


class PlanChangePreviewOut(_PlanChange):
    """What a switch would do (the fields of a plan change) and what it would cost."""

    object: Literal["plan_change_preview"]
    invoice: None = Field(description="always null: a preview bills nothing")
    currency: str | None = Field(description="null when nothing is billed (test mode)")
    amount_due_now: int = Field(description="charged when the switch is made, minor units")
    amount_due_now_decimal: str
    invoice_now: InvoiceOut | None = Field(description="the invoice an upgrade bills at once")
    next_invoice: InvoiceOut | None = Field(
        description="the next renewal's invoice at the new price; null when the subscription "
        "ends at the period end, and in test mode"
    )


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
    data: list[OwnedProduct] = Field(
        description="owned products; on the stripe gateway the change shows once synced"
    )
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
    payment_methods: list[CardOut] = Field(description="every saved card, newest first")


class SetupOut(BaseModel):
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


__all__ = [
    "BillingOut",
    "CancellationOut",
    "CancelledOut",
    "CardOut",
    "CatalogApplied",
    "CatalogOut",
    "CheckOut",
    "CheckoutSessionCreated",
    "CheckoutSessionOut",
    "CustomerOut",
    "CustomerSessionOut",
    "CustomerType",
    "EntitlementTokenOut",
    "EntitlementsOut",
    "GrantOut",
    "InvoiceList",
    "InvoiceDiscountOut",
    "InvoiceOut",
    "ItemBalanceOut",
    "ItemChanged",
    "ItemOut",
    "MemberList",
    "MemberOut",
    "OwnedProduct",
    "PlanChangeOut",
    "PlanChangePreviewOut",
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
