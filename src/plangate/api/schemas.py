"""Request and response bodies of the REST API: the contract the SDK is built on."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from plangate.api.text import UNSAFE_TEXT_MESSAGE, unsafe_text_path

CustomerType = Literal["user", "team", "custom"]
CUSTOMER_TYPES = ("user", "team", "custom")

# Integers and booleans in bodies are JSON integers and booleans: ``true``, ``"5"`` and
# ``1e2`` are refused rather than read as 1, 5 and 100.
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
# The largest quantity one call moves; balances are 64-bit in the database.
MAX_QUANTITY = 1_000_000_000_000

# Stripe's limits on metadata, which a customer's metadata may be copied to.
MAX_METADATA_KEYS = 50
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
MetadataValue = Annotated[str, StringConstraints(max_length=500)]


class Body(BaseModel):
    """Request bodies refuse unknown fields (a typo is an error, not a silent no-op) and text
    neither database can hold the same way (NUL, unpaired surrogates)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_unsafe_text(cls, value: Any) -> Any:
        where = unsafe_text_path(value)
        if where is not None:
            raise PydanticCustomError(
                "string_unsafe",
                "{where} " + UNSAFE_TEXT_MESSAGE + " (or nest deeper than 32 levels)",
                # The path may hold the offending key itself: escape it, the message must
                # encode.
                {"where": where.encode("ascii", "backslashreplace").decode() or "the value"},
            )
        return value


class CustomerUpsert(Body):
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=500)
    metadata: dict[MetadataKey, MetadataValue] | None = Field(
        default=None,
        max_length=MAX_METADATA_KEYS,
        description="up to 50 keys of at most 40 characters, values of at most 500 "
        "characters; replaces the stored metadata",
    )


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


class Index(BaseModel):
    name: Literal["plangate"]
    version: str
    docs: str = Field(description="the interactive API reference")
    openapi: str = Field(description="this API's OpenAPI document")
    health: str = Field(description="liveness and database reachability")


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    version: str


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


class GrantIn(Body):
    product_id: str | None = Field(default=None, max_length=64)
    product: dict[str, Any] | None = Field(
        default=None, description="an inline product definition (server only, never stackable)"
    )
    quantity: Int = Field(default=1, ge=1, le=1_000_000)


class GrantOut(BaseModel):
    ownership_id: str
    product_id: str
    data: list[OwnedProduct] = Field(description="every product the customer now holds")


class ItemOut(BaseModel):
    item_id: str
    quantity: int
    non_negative_quantity: int
    next_refill_at: datetime | None


class ItemChangeIn(Body):
    delta: Int = Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)
    expires_at: AwareDatetime | None = Field(
        default=None, description="when an added quantity expires; with a UTC offset"
    )
    description: str | None = Field(default=None, max_length=500)
    allow_negative: Bool = False


class ConsumeIn(Body):
    quantity: Int = Field(ge=1, le=MAX_QUANTITY)
    description: str | None = Field(default=None, max_length=500)


class ItemChanged(BaseModel):
    item_id: str
    quantity: int
    non_negative_quantity: int


# --- client authentication, entitlement tokens, teams (docs/auth.md) -----------------------

TeamRole = Literal["admin", "member"]


class CustomerSessionIn(Body):
    user_id: str = Field(min_length=1, max_length=255)
    teams: dict[str, TeamRole] = Field(
        default_factory=dict, description="team id → the user's role, trusted as given"
    )
    expires_in: Int | None = Field(
        default=None,
        ge=1,
        le=86400,
        description="seconds (default 900); at most the configured max",
    )


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


class MemberIn(Body):
    role: TeamRole = "member"


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


class CheckoutSessionIn(Body):
    customer_type: CustomerType
    customer_id: str = Field(min_length=1, max_length=255)
    product_id: str = Field(min_length=1, max_length=64)
    price_id: str | None = Field(default=None, max_length=64)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    quantity: Int = Field(default=1, ge=1, le=1_000_000)
    success_url: str | None = Field(default=None, max_length=2048)
    cancel_url: str | None = Field(default=None, max_length=2048)


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


# --- plan changes, cancellation and billing ---------------------------------------------------


class SwitchIn(Body):
    from_product_id: str = Field(min_length=1, max_length=64)
    to_product_id: str = Field(min_length=1, max_length=64)
    price_id: str | None = Field(
        default=None,
        max_length=64,
        description="the target's price; default: one with the current interval",
    )


class InvoiceOut(BaseModel):
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
    object: Literal["plan_change"]
    customer_type: str
    customer_id: str
    from_product_id: str
    to_product_id: str
    price_id: str | None
    change: Literal["upgrade", "downgrade", "cancel_scheduled_change"]
    effective: Literal["now", "period_end"]
    effective_at: datetime | None
    subscription_id: str | None = Field(description="null in test mode")
    invoice: InvoiceOut | None = Field(description="the prorated invoice of an upgrade")


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
    amount: Int | None = Field(
        default=None,
        ge=1,
        le=99_999_999_999,
        description="integer minor units (1999 is 19.99 USD); default: all",
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


class LineConflictOut(BaseModel):
    id: str
    line_id: str | None
    product_id: str | None
    subscription_id: str = Field(description="the Stripe subscription that was refused")
    kept_subscription_id: str | None = Field(description="the one kept in the line, if any")
    reason: str
    resolution: str
    detail: str
    refund_id: str | None
    created_at: datetime
    resolved_at: datetime | None


class LineConflictList(BaseModel):
    data: list[LineConflictOut]
