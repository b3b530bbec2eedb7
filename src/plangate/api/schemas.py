"""Request and response bodies of the REST API. The response models are the SDK's
(``plangate_sdk.schemas``), so that server and SDK read one contract; the request bodies and
their validation are the server's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    Strict,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from plangate.api.text import UNSAFE_TEXT_MESSAGE, unsafe_text_path
from plangate.domain.countries import COUNTRIES
from plangate.gateways.stripe_tax import tax_id_types

# The response models, re-exported: routes take every model of the API from this module.
from plangate_sdk.schemas import *  # noqa: F403
from plangate_sdk.schemas import CustomerType, RefundReason, TeamRole

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
    worker_lag_seconds: float = Field(
        description="seconds since the oldest pending Stripe event became due; 0 when the "
        "worker keeps up"
    )


class GrantIn(Body):
    product_id: str | None = Field(default=None, max_length=64)
    product: dict[str, Any] | None = Field(
        default=None, description="an inline product definition (server only, never stackable)"
    )
    quantity: Int = Field(default=1, ge=1, le=1_000_000)


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


class UsageIn(Body):
    meter: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")
    quantity: Int = Field(ge=0, le=MAX_QUANTITY)
    event_id: str = Field(
        min_length=1, max_length=255,
        description="the app's id of this usage event, unique per customer: the same id "
        "again counts once",
    )
    user_id: str | None = Field(
        default=None, min_length=1, max_length=255,
        description="on a team: the member whose usage it is",
    )
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when the usage happened (default: now)"
    )


# --- client authentication, entitlement tokens, teams (docs/auth.md) -----------------------


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


class MemberIn(Body):
    role: TeamRole = "member"


class CheckoutPurchaseIn(Body):
    """What a checkout sells (the API's body adds its discount: api/checkout_schemas.py)."""

    customer_type: CustomerType
    customer_id: str = Field(min_length=1, max_length=255)
    product_id: str = Field(min_length=1, max_length=64)
    price_id: str | None = Field(default=None, max_length=64)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    quantity: Int = Field(default=1, ge=1, le=1_000_000)
    success_url: str | None = Field(default=None, max_length=2048)
    cancel_url: str | None = Field(default=None, max_length=2048)


# --- plan changes, cancellation and billing ---------------------------------------------------


class SwitchIn(Body):
    from_product_id: str = Field(min_length=1, max_length=64)
    to_product_id: str = Field(min_length=1, max_length=64)
    price_id: str | None = Field(
        default=None,
        max_length=64,
        description="the target's price; default: one with the current interval",
    )


class PortalIn(Body):
    return_url: str = Field(max_length=2048)


class SetupIn(Body):
    return_url: str | None = Field(
        default=None,
        max_length=2048,
        description="with it: a hosted page (url) that returns here; without: a SetupIntent "
        "(client_secret) for Stripe.js",
    )


def _enum(values: Iterable[str]) -> dict[str, JsonValue]:
    """The values a string takes, for the API document (a validator enforces them)."""
    choices: list[JsonValue] = [v for v in sorted(values)]
    return {"enum": choices}


class AddressIn(Body):
    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, max_length=40)
    state: str | None = Field(default=None, max_length=200)
    country: str = Field(
        description="two-letter ISO 3166 code, upper case (DE, FR, US, ...)",
        json_schema_extra=_enum(COUNTRIES),
    )

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in COUNTRIES:
            raise ValueError("not a two-letter ISO 3166 country code in upper case")
        return value


class TaxIdIn(Body):
    type: str = Field(
        description="Stripe's tax id type: eu_vat, gb_vat, us_ein, ...",
        json_schema_extra=_enum(tax_id_types()),
    )
    value: str = Field(min_length=1, max_length=50)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in tax_id_types():
            raise ValueError("not a tax id type Stripe knows")
        return value


class BillingDetailsIn(Body):
    address: AddressIn | None = Field(
        default=None, description="the billing address; null removes it"
    )
    name: str | None = Field(
        default=None, max_length=256, description="the name invoices show; null keeps it"
    )
    tax_ids: list[TaxIdIn] = Field(
        default_factory=list,
        max_length=25,
        description="the complete list: ids not listed are removed",
    )


class DefaultCardIn(Body):
    payment_method_id: str = Field(min_length=1, max_length=255)


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
    reason: RefundReason | None = None


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

