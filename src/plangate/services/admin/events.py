"""Stripe events as received, with where each stands, and a retry that writes an audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from plangate.errors import InvalidRequest
from plangate.services.admin.paging import check_limit, decode_cursor, encode_cursor
from plangate.services.audit import record_action
from plangate.services.events.deliveries import DeliveryRow, list_deliveries, retry_delivery
from plangate.services.stripe_sync.requeue import requeue_event, requeue_failed
from plangate.store.db import Database
from plangate.store.models import StripeEvent

EVENT_STATUSES = ("pending", "done", "failed")


@dataclass(frozen=True)
class EventRow:
    id: str
    type: str
    object_type: str | None
    object_id: str | None
    status: str
    attempts: int
    last_error: str | None
    created: datetime
    received_at: datetime
    next_attempt_at: datetime
    handled_at: datetime | None


def _row(event: StripeEvent) -> EventRow:
    return EventRow(
        id=event.id,
        type=event.type,
        object_type=event.object_type,
        object_id=event.object_id,
        status=event.status,
        attempts=event.attempts,
        last_error=event.last_error,
        created=event.created,
        received_at=event.received_at,
        next_attempt_at=event.next_attempt_at,
        handled_at=event.handled_at,
    )


def list_events(
    db: Database,
    *,
    status: str | None = None,
    type_: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[EventRow], str | None]:
    """Stripe events newest received first; returns a page and the cursor of the next one."""
    check_limit(limit)
    if status is not None and status not in EVENT_STATUSES:
        raise InvalidRequest(
            "parameter_invalid",
            f"status must be one of {', '.join(EVENT_STATUSES)}",
            param="status",
        )
    statement = (
        select(StripeEvent)
        .order_by(StripeEvent.received_at.desc(), StripeEvent.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        statement = statement.where(StripeEvent.status == status)
    if type_ is not None:
        statement = statement.where(StripeEvent.type == type_)
    if cursor is not None:
        received, event_id = decode_cursor(cursor, 2)
        try:
            moment = datetime.fromisoformat(received) if isinstance(received, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None or not isinstance(event_id, str):
            raise InvalidRequest(
                "cursor_invalid", "the cursor is not one this list gave", param="cursor"
            )
        statement = statement.where(
            tuple_(StripeEvent.received_at, StripeEvent.id) < (moment, event_id)
        )
    with db.read() as session:
        rows = [_row(event) for event in session.scalars(statement)]
    page = rows[:limit]
    next_cursor = (
        encode_cursor(page[-1].received_at.isoformat(), page[-1].id)
        if len(rows) > limit
        else None
    )
    return page, next_cursor


def last_event_received(db: Database) -> datetime | None:
    with db.read() as session:
        return session.scalar(
            select(StripeEvent.received_at).order_by(StripeEvent.received_at.desc()).limit(1)
        )


def _audit_retry(session: Session, actor: str, event_id: str, before: dict[str, Any],
                 after: dict[str, Any], now: datetime) -> None:
    record_action(session, actor=actor, action="stripe_event.retry",
                  target_type="stripe_event", target=event_id, before=before, after=after,
                  now=now)


def retry_event(session: Session, event_id: str, *, actor: str, now: datetime) -> dict[str, Any]:
    """Puts the event back in the sync's queue, due now, and records who did it."""
    before, after = requeue_event(session, event_id, now)
    _audit_retry(session, actor, event_id, before, after, now)
    return {"id": event_id, **after}


def retry_failed_events(
    session: Session, *, actor: str, now: datetime, limit: int = 1000
) -> list[str]:
    """Puts every failed event (up to ``limit``) back in the queue, one audit entry each."""
    retried = []
    for event_id, before, after in requeue_failed(session, now, limit):
        _audit_retry(session, actor, event_id, before, after, now)
        retried.append(event_id)
    return retried


def retry_webhook_delivery(
    session: Session, delivery_id: int, *, actor: str, now: datetime
) -> dict[str, Any]:
    """Sends an outbound webhook delivery again, due now with a fresh schedule, and records
    who did it."""
    before, after = retry_delivery(session, delivery_id, now)
    record_action(session, actor=actor, action="webhook_delivery.retry",
                  target_type="webhook_delivery", target=str(delivery_id), before=before,
                  after=after, now=now)
    return {"id": delivery_id, **after}


def list_webhook_deliveries(
    db: Database,
    *,
    status: str | None = None,
    endpoint_id: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[DeliveryRow], str | None]:
    """Outbound webhook deliveries newest first; returns a page and the cursor of the next."""
    check_limit(limit)
    before_id = None
    if cursor is not None:
        (before_id,) = decode_cursor(cursor, 1)
        if not isinstance(before_id, int) or isinstance(before_id, bool) or before_id < 1:
            raise InvalidRequest(
                "cursor_invalid", "the cursor is not one this list gave", param="cursor"
            )
    page, next_id = list_deliveries(
        db, status=status, endpoint_id=endpoint_id, limit=limit, before_id=before_id
    )
    return page, (encode_cursor(next_id) if next_id is not None else None)
