"""The business figures, computed from plangate's own tables (what the sync recorded from
Stripe): recurring revenue, subscriptions, trials, churn, revenue per day, failed payments,
past-due customers and item consumption. Money is integer minor units with a decimal string
beside it; nothing passes through a float."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plangate.domain.intervals import IntervalError, parse_interval
from plangate.domain.money import MoneyError, from_minor_units, to_minor_units
from plangate.domain.revenue import monthly_share, net_of_discounts, whole_units
from plangate.errors import InvalidRequest
from plangate.store.db import Database
from plangate.store.models import LedgerEntry, Ownership, Transaction

# Subscription statuses that pay (DESIGN.md invariant 5 grants the same, plus trialing).
PAYING = ("active", "past_due")
MAX_DAYS = 366


@dataclass
class Figures:
    as_of: datetime
    period_start: datetime
    days: list[date]
    mrr: dict[str, Decimal] = field(default_factory=dict)
    subscriptions_by_status: dict[str, int] = field(default_factory=dict)
    subscriptions_without_currency: int = 0
    churned: int = 0
    past_due_customers: int = 0
    failed_payments: int = 0
    # currency -> day -> net revenue (payments less refunds) in minor units
    revenue: dict[str, dict[date, int]] = field(default_factory=dict)
    # item -> day -> quantity consumed
    consumed: dict[str, dict[date, int]] = field(default_factory=dict)

    @property
    def active_subscriptions(self) -> int:
        return sum(self.subscriptions_by_status.get(s, 0) for s in (*PAYING, "trialing"))

    @property
    def trials(self) -> int:
        return self.subscriptions_by_status.get("trialing", 0)

    def recurring(self) -> list[dict[str, Any]]:
        out = []
        for currency in sorted(self.mrr):
            mrr, arr = whole_units(self.mrr[currency]), whole_units(self.mrr[currency] * 12)
            out.append(
                {
                    "currency": currency,
                    "mrr": mrr,
                    "mrr_decimal": from_minor_units(mrr, currency),
                    "arr": arr,
                    "arr_decimal": from_minor_units(arr, currency),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "period_start": self.period_start.isoformat(),
            "recurring_revenue": self.recurring(),
            "active_subscriptions": self.active_subscriptions,
            "trials": self.trials,
            "subscriptions_by_status": dict(sorted(self.subscriptions_by_status.items())),
            "subscriptions_without_currency": self.subscriptions_without_currency,
            "churned_this_period": self.churned,
            "past_due_customers": self.past_due_customers,
            "failed_payments_this_period": self.failed_payments,
            "revenue_per_day": [
                {
                    "currency": currency,
                    "days": [
                        {
                            "date": day.isoformat(),
                            "amount": per_day.get(day, 0),
                            "amount_decimal": from_minor_units(per_day.get(day, 0), currency),
                        }
                        for day in self.days
                    ],
                }
                for currency, per_day in sorted(self.revenue.items())
            ],
            "consumed_per_day": [
                {
                    "item_id": item,
                    "days": [
                        {"date": day.isoformat(), "quantity": per_day.get(day, 0)}
                        for day in self.days
                    ],
                }
                for item, per_day in sorted(self.consumed.items())
            ],
        }


def subscription_price(
    product: dict[str, Any], price_id: str | None, paid_in: str | None
) -> tuple[str, int, str] | None:
    """(currency, amount in minor units, interval) of a subscription's price, or None when
    the snapshot cannot say: the currency is the one the customer last paid the product in,
    or the price's only one."""
    prices = product.get("prices") or {}
    price = prices.get(price_id) if price_id else None
    if not isinstance(price, dict) or not price.get("interval"):
        return None
    amounts = price.get("amounts") or {}
    currency = paid_in if paid_in in amounts else None
    if currency is None and len(amounts) == 1:
        currency = next(iter(amounts))
    if currency is None:
        return None
    try:
        return currency, to_minor_units(str(amounts[currency]), currency), str(price["interval"])
    except MoneyError:
        return None


def last_paid_currencies(session: Session) -> dict[tuple[str, str, str], str]:
    rows = session.execute(
        select(
            Transaction.customer_type,
            Transaction.customer_id,
            Transaction.product_id,
            Transaction.currency,
        )
        .where(Transaction.type == "payment", Transaction.product_id.is_not(None))
        .order_by(Transaction.id)
    )
    return {(t, c, str(p)): cur for t, c, p, cur in rows}


def _subscriptions(session: Session, figures: Figures, now: datetime) -> None:
    paid_in = last_paid_currencies(session)
    live = session.scalars(
        select(Ownership).where(Ownership.source == "subscription", Ownership.ended_at.is_(None))
    )
    for row in live:
        figures.subscriptions_by_status[row.status] = (
            figures.subscriptions_by_status.get(row.status, 0) + 1
        )
        if row.status not in PAYING:
            continue  # a trial brings nothing until it converts
        key = (row.customer_type, row.customer_id, row.product_id)
        price = subscription_price(row.product or {}, row.price_id, paid_in.get(key))
        try:
            interval = parse_interval(price[2]) if price else None
        except IntervalError:
            interval = None
        if price is None or interval is None:
            figures.subscriptions_without_currency += 1
            continue
        share = net_of_discounts(
            monthly_share(price[1], interval, row.quantity),
            interval,
            price[0],
            row.discounts,
            int(now.timestamp()),
        )
        figures.mrr[price[0]] = figures.mrr.get(price[0], Decimal(0)) + share


def _per_day(
    session: Session, figures: Figures, since: datetime
) -> None:
    revenue: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    moves = session.execute(
        select(Transaction.type, Transaction.amount, Transaction.currency, Transaction.created_at)
        .where(
            Transaction.created_at >= since,
            Transaction.status == "succeeded",
            Transaction.type.in_(("payment", "refund")),
        )
    )
    for type_, amount, currency, created in moves:
        revenue[currency][created.date()] += amount if type_ == "payment" else -amount
    figures.revenue = {c: dict(days) for c, days in revenue.items()}
    consumed: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    uses = session.execute(
        select(LedgerEntry.item_id, LedgerEntry.delta, LedgerEntry.created_at).where(
            LedgerEntry.kind == "consume", LedgerEntry.created_at >= since
        )
    )
    for item_id, delta, created in uses:
        consumed[item_id][created.date()] += -delta
    figures.consumed = {i: dict(days) for i, days in consumed.items()}


def compute_figures(db: Database, now: datetime, *, days: int = 30) -> Figures:
    """The figures as of ``now``; "this period" is the calendar month so far, and the daily
    series cover the last ``days`` days, today included."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidRequest(
            "days_invalid", f"days must be between 1 and {MAX_DAYS}", param="days"
        )
    period_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    first_day = now.date() - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=now.tzinfo)
    figures = Figures(
        as_of=now,
        period_start=period_start,
        days=[first_day + timedelta(days=n) for n in range(days)],
    )
    with db.read() as session:
        _subscriptions(session, figures, now)
        figures.churned = session.scalar(
            select(func.count()).where(
                Ownership.source == "subscription",
                Ownership.ended_at >= period_start,
                Ownership.ended_at <= now,
            )
        ) or 0
        figures.past_due_customers = session.scalar(
            select(func.count(func.distinct(Ownership.customer_type + ":" + Ownership.customer_id)))
            .where(
                Ownership.source == "subscription",
                Ownership.status == "past_due",
                Ownership.ended_at.is_(None),
            )
        ) or 0
        figures.failed_payments = session.scalar(
            select(func.count()).where(
                Transaction.type == "payment",
                Transaction.status == "failed",
                Transaction.created_at >= period_start,
            )
        ) or 0
        _per_day(session, figures, since)
    return figures
