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


class ScheduledChange(BaseModel):
    """A change waiting for the subscription's period end (a downgrade): at ``effective_at``
    the subscription switches to ``to_product_id`` at ``price_id``."""

    to_product_id: str
    price_id: str | None
    effective_at: datetime


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
    scheduled_change: ScheduledChange | None = Field(
        default=None,
        description="the plan this subscription switches to at its period end (a downgrade "
        "waiting), undone by switching back to `product_id`; null when nothing waits",
    )


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


class UsageRecordOut(BaseModel):
    """One usage record; `duplicate` when its `event_id` was recorded before (it counts
    once)."""

    id: str
    meter: str
    quantity: int
    event_id: str
    user_id: str | None
    occurred_at: datetime
    duplicate: bool


class MeterUsageOut(BaseModel):
    meter: str
    name: str
    aggregation: Literal["sum", "count", "last"]
    quantity: int
    period_start: datetime
    period_end: datetime
    members: dict[str, int] = Field(
        description="a team's usage by the member who recorded it (user id → quantity)"
    )


class UsageOut(BaseModel):
    customer_type: CustomerType
    customer_id: str
    meters: list[MeterUsageOut]


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


class InvoiceTaxOut(BaseModel):
    amount: int = Field(description="the tax, in minor units")
    amount_decimal: str
    taxable_amount: int = Field(description="what it was computed on, in minor units")
    taxable_amount_decimal: str
    inclusive: bool = Field(description="true: included in the prices; false: added on top")
    taxability_reason: str | None = Field(
        description="Stripe Tax's reason (`standard_rated`, `not_collecting`, "
        "`reverse_charge`, ...); null for a tax rate given by hand"
    )
    tax_rate_id: str | None = Field(description="Stripe's tax rate (txr_...)")


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
    total_tax: int = Field(default=0, description="all tax on the invoice, in minor units")
    total_tax_decimal: str = "0"
    total_excluding_tax: int = Field(default=0, description="after discounts, without tax")
    total_excluding_tax_decimal: str = "0"
    taxes: list[InvoiceTaxOut] = Field(default_factory=list)


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


class AddressOut(BaseModel):
    line1: str | None
    line2: str | None
    city: str | None
    postal_code: str | None
    state: str | None
    country: str | None = Field(description="two-letter ISO 3166 code")


class TaxIdOut(BaseModel):
    id: str | None = Field(description="Stripe's tax id (txi_...)")
    type: str = Field(description="Stripe's type: eu_vat, gb_vat, us_ein, ...")
    value: str
    country: str | None
    verification: str | None = Field(
        description="`pending`, `verified`, `unverified` or `unavailable` (Stripe's)"
    )


class BillingDetailsOut(BaseModel):
    object: Literal["billing_details"]
    has_payment_customer: bool
    name: str | None = Field(description="the name invoices show")
    address: AddressOut | None
    tax_exempt: str = Field(description="`none`, `exempt` or `reverse` (Stripe's)")
    tax_ids: list[TaxIdOut] = Field(description="oldest first")


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
    amount_tax: int = Field(
        default=0, description="the tax included in `amount` (from its invoice or checkout)"
    )
    amount_tax_decimal: str = "0"
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
    "AddressOut",
    "BillingDetailsOut",
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
    "InvoiceDiscountOut",
    "InvoiceList",
    "InvoiceOut",
    "InvoiceTaxOut",
    "ItemBalanceOut",
    "ItemChanged",
    "ItemOut",
    "MemberList",
    "MemberOut",
    "MeterUsageOut",
    "OwnedProduct",
    "PlanChangeOut",
    "PlanChangePreviewOut",
    "PortalOut",
    "ProductList",
    "RefundOut",
    "RefundReason",
    "ScheduledChange",
    "SeatsOut",
    "SetupOut",
    "TaxIdOut",
    "TeamRole",
    "TransactionList",
    "TransactionOut",
    "UsageOut",
    "UsageRecordOut",
]
