"""Reporting usage to Stripe's meters: a durable queue, the usage records themselves.

Each pass claims up to a batch of due records (a lease: their `next_report_at` moves ahead,
so another worker passes them over), sends one meter event per record outside any database
lock, and marks the outcomes in one transaction. The record's id is the meter event's
`identifier`: a record sent again after a crash between Stripe's answer and the commit is
refused by Stripe as a duplicate, which counts as reported, so usage is never billed twice.
Calls go through the gateway, so the installation's Stripe call budget paces them
(``PLANGATE_STRIPE_RATE_LIMIT``), well under Stripe's meter event rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from plangate.clock import Clock
from plangate.domain.catalog import meter_event_name
from plangate.gateways.base import Gateway, GatewayError
from plangate.store.db import Database
from plangate.store.models import Customer
from plangate.store.usage_models import UsageRecord

BATCH = 100
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 12
NO_STRIPE_CUSTOMER = "no Stripe customer: nothing at Stripe bills this customer's usage"


@dataclass
class ReportPass:
    """What one pass did: records Stripe took (`sent`), had already (`duplicates`), refused
    for good (`given_up`), or will be retried (`retrying`)."""

    claimed: int = 0
    sent: int = 0
    duplicates: int = 0
    retrying: int = 0
    given_up: int = 0


@dataclass(frozen=True)
class _Due:
    id: str
    meter_id: str
    quantity: int
    occurred_at: datetime
    attempts: int
    stripe_customer_id: str | None


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, 3600))


def _claim(db: Database, now: datetime, limit: int) -> list[_Due]:
    with db.write() as session:
        query = (
            select(UsageRecord.id, UsageRecord.meter_id, UsageRecord.quantity,
                   UsageRecord.occurred_at, UsageRecord.report_attempts,
                   Customer.stripe_customer_id)
            .join(Customer, (Customer.customer_type == UsageRecord.customer_type)
                  & (Customer.customer_id == UsageRecord.customer_id), isouter=True)
            .where(UsageRecord.reported_at.is_(None), UsageRecord.next_report_at <= now)
            .order_by(UsageRecord.next_report_at, UsageRecord.recorded_at)
            .limit(limit)
        )
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=UsageRecord)
        due = [_Due(*row) for row in session.execute(query).all()]
        if due:
            session.execute(update(UsageRecord)
                            .where(UsageRecord.id.in_([d.id for d in due]))
                            .values(next_report_at=now + LEASE))
    return due


def report_due(db: Database, gateway: Gateway, clock: Clock, limit: int = BATCH) -> ReportPass:
    """Reports one batch of due usage records; see the module doc."""
    now = clock.now()
    result = ReportPass()
    due = _claim(db, now, limit)
    result.claimed = len(due)
    outcomes: dict[str, tuple[datetime | None, datetime | None, str | None]] = {}
    for record in due:
        if record.stripe_customer_id is None:
            outcomes[record.id] = (None, None, NO_STRIPE_CUSTOMER)
            result.given_up += 1
            continue
        try:
            created = gateway.create_meter_event(
                event_name=meter_event_name(record.meter_id),
                stripe_customer_id=record.stripe_customer_id, value=record.quantity,
                identifier=record.id, timestamp=int(record.occurred_at.timestamp()))
        except GatewayError as exc:
            give_up = not exc.retryable or record.attempts + 1 >= MAX_ATTEMPTS
            retry_at = None if give_up else now + _backoff(record.attempts)
            outcomes[record.id] = (None, retry_at, f"{exc.code}: {exc}"[:500])
            result.given_up += give_up
            result.retrying += not give_up
            continue
        outcomes[record.id] = (clock.now(), None, None)
        result.sent += created
        result.duplicates += not created
    _settle(db, outcomes)
    return result


def _settle(db: Database, outcomes: dict[str, tuple[datetime | None, datetime | None,
                                                    str | None]]) -> None:
    if not outcomes:
        return
    with db.write() as session:
        for record_id, (reported_at, retry_at, error) in outcomes.items():
            session.execute(
                update(UsageRecord)
                .where(UsageRecord.id == record_id, UsageRecord.reported_at.is_(None))
                .values(reported_at=reported_at, next_report_at=retry_at, report_error=error,
                        report_attempts=UsageRecord.report_attempts + 1))


def drain(db: Database, gateway: Gateway, clock: Clock) -> ReportPass:
    """Reports until no record is due (tests, the CLI)."""
    total = ReportPass()
    while (batch := report_due(db, gateway, clock)).claimed:
        for name in ("claimed", "sent", "duplicates", "retrying", "given_up"):
            setattr(total, name, getattr(total, name) + getattr(batch, name))
    return total
