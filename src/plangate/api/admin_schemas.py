"""Response shapes of the admin API (``/v1/admin/...``, server key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class AdminCustomerOut(BaseModel):
    customer_type: Literal["user", "team", "custom"]
    customer_id: str
    email: str | None
    name: str | None
    metadata: dict[str, Any]
    has_payment_customer: bool
    created_at: datetime


class AdminCustomerList(BaseModel):
    data: list[AdminCustomerOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class AdminOwnershipOut(BaseModel):
    id: str
    customer_type: Literal["user", "team", "custom"]
    customer_id: str
    product_id: str
    product_name: str | None
    line_id: str | None
    price_id: str | None
    quantity: int
    source: Literal["grant", "default", "subscription", "one_time"]
    status: str
    current_period_start: datetime | None
    current_period_end: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    stripe_subscription_id: str | None
    created_at: datetime
    ended_at: datetime | None
    end_reason: str | None


class AdminOwnershipList(BaseModel):
    data: list[AdminOwnershipOut]
    next_cursor: str | None


class StripeEventOut(BaseModel):
    id: str
    type: str
    object_type: str | None
    object_id: str | None
    status: Literal["pending", "done", "failed"]
    attempts: int
    last_error: str | None
    created: datetime
    received_at: datetime
    next_attempt_at: datetime
    handled_at: datetime | None


class StripeEventList(BaseModel):
    data: list[StripeEventOut]
    next_cursor: str | None


class StripeEventRetried(BaseModel):
    id: str
    status: Literal["pending"]
    attempts: int
    last_error: str | None
    next_attempt_at: datetime


class AuditEntryOut(BaseModel):
    id: str
    actor: str = Field(description='"operator:<email>" or "sk:<key prefix>"')
    action: str
    target_type: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime


class AuditLog(BaseModel):
    data: list[AuditEntryOut]
    next_cursor: str | None
