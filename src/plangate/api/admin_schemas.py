"""Response shapes of the admin API (``/v1/admin/...``, server key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from plangate.api.schemas import CustomerOut

OwnershipSource = Literal["grant", "default", "subscription", "one_time"]


class AdminCustomerList(BaseModel):
    data: list[CustomerOut]
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
    source: OwnershipSource
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


class WebhookDeliveryOut(BaseModel):
    id: int
    message_id: str
    type: str = Field(description="the event type the message carries")
    endpoint_id: str
    endpoint_url: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int = Field(description="attempts since its schedule last (re)started")
    last_error: str | None = Field(
        description="the last failed attempt's status code and answer, or why there was none"
    )
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(
        description="when the worker tries it next; null once delivered or failed"
    )
    created_at: datetime


class WebhookDeliveryList(BaseModel):
    data: list[WebhookDeliveryOut]
    next_cursor: str | None


class WebhookDeliveryRetried(BaseModel):
    id: int
    status: Literal["pending"]
    attempts: int
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


class RecurringRevenueOut(BaseModel):
    currency: str
    mrr: int = Field(description="monthly recurring revenue in minor units")
    mrr_decimal: str
    arr: int = Field(description="annual run rate: twelve times the MRR, in minor units")
    arr_decimal: str


class DailyAmountOut(BaseModel):
    date: str
    amount: int
    amount_decimal: str


class RevenueSeriesOut(BaseModel):
    currency: str
    days: list[DailyAmountOut]


class DailyQuantityOut(BaseModel):
    date: str
    quantity: int


class ConsumptionSeriesOut(BaseModel):
    item_id: str
    days: list[DailyQuantityOut]


class FiguresOut(BaseModel):
    as_of: datetime
    period_start: datetime = Field(description="the start of this calendar month (UTC)")
    recurring_revenue: list[RecurringRevenueOut]
    active_subscriptions: int = Field(description="active, past due and trialing")
    trials: int
    subscriptions_by_status: dict[str, int]
    subscriptions_without_currency: int = Field(
        description="paying subscriptions whose price or currency plangate cannot tell; "
        "left out of the MRR"
    )
    churned_this_period: int
    past_due_customers: int
    failed_payments_this_period: int
    revenue_per_day: list[RevenueSeriesOut]
    consumed_per_day: list[ConsumptionSeriesOut]


class MrrDayOut(BaseModel):
    date: str
    mrr: int = Field(description="the MRR at the end of that day (today: now), in minor units")
    mrr_decimal: str


class MrrSeriesOut(BaseModel):
    currency: str
    days: list[MrrDayOut] = Field(description="oldest first, one per day")


class MrrHistoryOut(BaseModel):
    as_of: datetime
    mrr_per_day: list[MrrSeriesOut]


class FundsOut(BaseModel):
    currency: str
    amount: int = Field(description="in minor units")


class BalanceOut(BaseModel):
    available: list[FundsOut] = Field(description="may be paid out now, per currency")
    pending: list[FundsOut] = Field(description="not yet available, per currency")


class PayoutOut(BaseModel):
    id: str = Field(description="Stripe's payout id (po_...)")
    amount: int = Field(description="in minor units")
    currency: str
    status: str = Field(description="pending, in_transit, paid, failed or canceled")
    arrival_date: datetime = Field(description="when it reaches (or reached) the bank")
    created: datetime
    automatic: bool = Field(description="made by Stripe's payout schedule, not by hand")
    method: str
    description: str | None
    failure_message: str | None


class PayoutList(BaseModel):
    data: list[PayoutOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class BalanceTransactionOut(BaseModel):
    id: str
    type: str = Field(description="charge, refund, payout, payout_cancel, ...")
    amount: int = Field(description="gross, in minor units; negative when money leaves")
    fee: int
    net: int
    currency: str
    status: str = Field(description="pending or available")
    created: datetime
    available_on: datetime
    source: str | None = Field(description="the Stripe object behind it (ch_..., re_..., po_...)")
    description: str | None


class PayoutDetailOut(PayoutOut):
    balance_transactions: list[BalanceTransactionOut] = Field(
        description="what the payout paid out, newest first (a manual payout: its own)")
    more_balance_transactions: bool
