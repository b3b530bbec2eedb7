"""Recording usage, and reading the current period's usage per meter.

A usage record is the app's report that a customer used `quantity` of a meter's unit at a
moment; its `event_id` (the app's own, unique per customer) makes a retry count once. Usage
of a team's member is recorded on the team (`user_id` names the member), which is what the
team's metered prices bill. Each record waits in the reporting queue (``reporting``) until
Stripe has it.

A meter with a ``limit_item`` caps usage by that item's balance: the record consumes its
usage from the customer's balance in the same transaction (atomically, as
``POST {c}/items/{item}/consume`` does), or is refused with 409 ``usage_limit_reached`` and
nothing is recorded or consumed. A repeated event id consumes nothing more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog
from plangate.domain.intervals import period_bounds
from plangate.errors import Conflict, InvalidRequest, NotFound
from plangate.services.entitlements import teams
from plangate.services.entitlements.checks import Services, consume
from plangate.services.entitlements.customers import CustomerRef, ensure_customer
from plangate.store.models import Ownership
from plangate.store.usage_models import UsageRecord

# Stripe takes meter events up to 35 days old and 5 minutes ahead; plangate keeps to a
# narrower window so a record is still reportable after retries.
MAX_AGE = timedelta(days=30)
MAX_AHEAD = timedelta(minutes=5)
LIVE_STATUSES = ("active", "trialing", "past_due")


@dataclass(frozen=True)
class UsageRequest:
    meter_id: str
    quantity: int
    event_id: str
    user_id: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Recorded:
    id: str
    meter_id: str
    quantity: int
    event_id: str
    user_id: str | None
    occurred_at: datetime
    duplicate: bool


@dataclass(frozen=True)
class MeterUsage:
    meter_id: str
    name: str
    aggregation: str
    quantity: int
    period_start: datetime
    period_end: datetime
    # The team members' shares (empty for a user's own usage), by user id.
    by_member: dict[str, int]


def _check(session: Session, catalog: Catalog, ref: CustomerRef, req: UsageRequest,
           now: datetime) -> datetime:
    if req.meter_id not in catalog.meters:
        raise NotFound("meter_not_found", f"no meter {req.meter_id!r} in the catalog",
                       param="meter")
    if req.user_id is not None:
        if ref.type != "team":
            raise InvalidRequest("user_id_not_allowed", "user_id names a team's member: only "
                                 "usage recorded on a team takes it", param="user_id")
        if teams.member_role(session, ref.id, req.user_id) is None:
            raise Conflict("not_a_team_member",
                           f"{req.user_id!r} is not a member of team {ref.id!r}",
                           param="user_id")
    at = req.occurred_at or now
    if not now - MAX_AGE <= at <= now + MAX_AHEAD:
        raise InvalidRequest("usage_time_out_of_range", "occurred_at must be within the last "
                             "30 days and at most 5 minutes ahead", param="occurred_at")
    return at


def record_usage(session: Session, catalog: Catalog, ref: CustomerRef, req: UsageRequest,
                 now: datetime, services: Services) -> Recorded:
    """Records the usage once: the same event id again answers the first record
    (`duplicate`), or 409 `usage_event_reused` if it said something else. A meter's
    ``limit_item`` is consumed with it, or 409 `usage_limit_reached`."""
    at = _check(session, catalog, ref, req, now)
    existing = _by_event(session, ref, req.event_id)
    if existing is None:
        ensure_customer(session, ref, now)
        row = UsageRecord(
            id="usg_" + uuid.uuid4().hex, customer_type=ref.type, customer_id=ref.id,
            meter_id=req.meter_id, event_id=req.event_id, quantity=req.quantity,
            user_id=req.user_id, occurred_at=at, recorded_at=now, next_report_at=now,
            report_attempts=0)
        try:
            # A concurrent twin may insert first: its unique key undoes this savepoint, the
            # consumption of the limit item included.
            with session.begin_nested():
                _consume_limit(session, services, catalog, ref, req, now)
                session.add(row)
            return _recorded(row, duplicate=False)
        except Conflict as exc:
            # The twin that committed first may have taken what was left of the limit.
            existing = _by_event(session, ref, req.event_id)
            if exc.code != "usage_limit_reached" or existing is None:
                raise
        except IntegrityError:
            existing = _by_event(session, ref, req.event_id)
            if existing is None:
                raise
    same = (existing.meter_id, existing.quantity, existing.user_id) == (
        req.meter_id, req.quantity, req.user_id)
    if not same:
        raise Conflict("usage_event_reused", f"event {req.event_id!r} was recorded with other "
                       "values; an event id is one usage record", param="event_id")
    return _recorded(existing, duplicate=True)


def _consume_limit(session: Session, services: Services, catalog: Catalog, ref: CustomerRef,
                   req: UsageRequest, now: datetime) -> None:
    meter = catalog.meters[req.meter_id]
    if meter.limit_item is None:
        return
    used = 1 if meter.aggregation == "count" else req.quantity
    if used == 0:
        return
    try:
        consume(session, services, ref, meter.limit_item, used, now,
                description=f"usage {req.meter_id} {req.event_id}")
    except Conflict as exc:
        if exc.code != "insufficient_quantity":
            raise
        raise Conflict("usage_limit_reached", f"{ref} may use {exc.extra.get('quantity', 0)} "
                       f"more of {meter.name!r} ({meter.limit_item}); {used} were reported: "
                       "nothing was recorded", param="quantity", item_id=meter.limit_item,
                       quantity=exc.extra.get("quantity", 0)) from exc


def _by_event(session: Session, ref: CustomerRef, event_id: str) -> UsageRecord | None:
    return session.scalar(select(UsageRecord).where(
        UsageRecord.customer_type == ref.type, UsageRecord.customer_id == ref.id,
        UsageRecord.event_id == event_id))


def _recorded(row: UsageRecord, *, duplicate: bool) -> Recorded:
    return Recorded(row.id, row.meter_id, row.quantity, row.event_id, row.user_id,
                    row.occurred_at, duplicate)


def current_period(session: Session, catalog: Catalog, ref: CustomerRef, meter_id: str,
                   now: datetime) -> tuple[datetime, datetime]:
    """The billing period usage is counted in: that of the customer's live subscription with
    a metered price on the meter, else the calendar month."""
    products = {p.product for p in catalog.metered_prices.values() if p.meter == meter_id}
    owned = session.scalars(select(Ownership).where(
        Ownership.customer_type == ref.type, Ownership.customer_id == ref.id,
        Ownership.ended_at.is_(None), Ownership.status.in_(LIVE_STATUSES),
        Ownership.product_id.in_(products), Ownership.current_period_start.is_not(None),
    ).order_by(Ownership.id.desc())).first() if products else None
    if owned is not None and owned.current_period_start and owned.current_period_end:
        return owned.current_period_start, owned.current_period_end
    from plangate.domain.intervals import Interval

    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return period_bounds(first, Interval("month"), now)


def current_usage(session: Session, catalog: Catalog, ref: CustomerRef,
                  now: datetime) -> list[MeterUsage]:
    """Each catalog meter's usage by the customer in its current period, as the meter
    aggregates it (sum, count of records, or the last value)."""
    out = []
    for meter in catalog.meters.values():
        start, end = current_period(session, catalog, ref, meter.id, now)
        where = (UsageRecord.customer_type == ref.type, UsageRecord.customer_id == ref.id,
                 UsageRecord.meter_id == meter.id, UsageRecord.occurred_at >= start,
                 UsageRecord.occurred_at < end)
        members: dict[str, int] = {}
        if meter.aggregation == "last":
            last = session.scalars(select(UsageRecord).where(*where).order_by(
                UsageRecord.occurred_at.desc(), UsageRecord.recorded_at.desc())).first()
            total = last.quantity if last is not None else 0
        else:
            value = func.count() if meter.aggregation == "count" else func.sum(
                UsageRecord.quantity)
            rows = session.execute(select(UsageRecord.user_id, value).where(*where)
                                   .group_by(UsageRecord.user_id)).all()
            members = {user: int(v or 0) for user, v in rows if user is not None}
            total = sum(int(v or 0) for _, v in rows)
        out.append(MeterUsage(meter.id, meter.name, meter.aggregation, total, start, end,
                              members))
    return out
