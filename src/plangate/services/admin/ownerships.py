"""Every ownership (subscriptions, one-time purchases, grants), filterable the way an
operator asks: by product, line, status, trial, cancellation at period end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from plangate.errors import InvalidRequest
from plangate.services.admin.paging import check_limit, decode_cursor, encode_cursor
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.db import Database
from plangate.store.models import Ownership

SOURCES = ("grant", "default", "subscription", "one_time")


@dataclass(frozen=True)
class OwnershipFilter:
    customer: CustomerRef | None = None
    product_id: str | None = None
    line_id: str | None = None
    status: str | None = None
    source: str | None = None
    trial: bool | None = None
    cancel_at_period_end: bool | None = None
    # False: only live ownerships (not ended); None: all.
    ended: bool | None = False


@dataclass(frozen=True)
class OwnershipRow:
    id: str
    customer_type: str
    customer_id: str
    product_id: str
    product_name: str | None
    line_id: str | None
    price_id: str | None
    quantity: int
    source: str
    status: str
    current_period_start: datetime | None
    current_period_end: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    stripe_subscription_id: str | None
    created_at: datetime
    ended_at: datetime | None
    end_reason: str | None


def ownership_row(row: Ownership) -> OwnershipRow:
    name = (row.product or {}).get("name")
    return OwnershipRow(
        id=f"own_{row.id}",
        customer_type=row.customer_type,
        customer_id=row.customer_id,
        product_id=row.product_id,
        product_name=name if isinstance(name, str) else None,
        line_id=row.line_id,
        price_id=row.price_id,
        quantity=row.quantity,
        source=row.source,
        status=row.status,
        current_period_start=row.current_period_start,
        current_period_end=row.current_period_end,
        trial_end=row.trial_end,
        cancel_at_period_end=row.cancel_at_period_end,
        stripe_subscription_id=row.stripe_subscription_id,
        created_at=row.created_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
    )


def list_ownerships(
    db: Database, where: OwnershipFilter, *, limit: int = 20, cursor: str | None = None
) -> tuple[list[OwnershipRow], str | None]:
    """Ownerships newest first; returns a page and the cursor of the next one."""
    check_limit(limit)
    if where.source is not None and where.source not in SOURCES:
        raise InvalidRequest(
            "parameter_invalid", f"source must be one of {', '.join(SOURCES)}", param="source"
        )
    statement = select(Ownership).order_by(Ownership.id.desc()).limit(limit + 1)
    if where.customer is not None:
        statement = statement.where(
            Ownership.customer_type == where.customer.type,
            Ownership.customer_id == where.customer.id,
        )
    for column, value in (
        (Ownership.product_id, where.product_id),
        (Ownership.line_id, where.line_id),
        (Ownership.status, where.status),
        (Ownership.source, where.source),
        (Ownership.cancel_at_period_end, where.cancel_at_period_end),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if where.trial is not None:
        trialing = Ownership.status == "trialing"
        statement = statement.where(trialing if where.trial else ~trialing)
    if where.ended is not None:
        ended = Ownership.ended_at.is_not(None)
        statement = statement.where(ended if where.ended else ~ended)
    if cursor is not None:
        (last_id,) = decode_cursor(cursor, 1)
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise InvalidRequest(
                "cursor_invalid", "the cursor is not one this list gave", param="cursor"
            )
        statement = statement.where(Ownership.id < last_id)
    with db.read() as session:
        rows = list(session.scalars(statement))
    page = [ownership_row(row) for row in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return page, next_cursor
