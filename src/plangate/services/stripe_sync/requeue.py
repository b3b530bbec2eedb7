"""Putting a Stripe event back in the queue, for an operator who fixed what made it fail.
The sync owns ``stripe_events``; the admin API and the dashboard call this."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.errors import NotFound
from plangate.store.models import StripeEvent


def event_state(event: StripeEvent) -> dict[str, Any]:
    return {
        "status": event.status,
        "attempts": event.attempts,
        "last_error": event.last_error,
        "next_attempt_at": event.next_attempt_at.isoformat(),
    }


def requeue_event(
    session: Session, event_id: str, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Makes the event due now, whatever its status: a failed event gets the worker's full
    count of attempts again, and a handled one is synced once more (handlers re-fetch the
    object, so a second sync converges on Stripe's current state). Returns the state before
    and after."""
    event = session.get(StripeEvent, event_id, with_for_update=True)
    if event is None:
        raise NotFound("stripe_event_not_found", f"no Stripe event {event_id!r}", param="event_id")
    before = event_state(event)
    event.status = "pending"
    event.attempts = 0
    event.next_attempt_at = now
    event.locked_until = None
    return before, event_state(event)


def requeue_failed(
    session: Session, now: datetime, limit: int = 1000
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Requeues up to ``limit`` failed events (oldest received first), each as
    :func:`requeue_event` does; returns each id with its state before and after."""
    ids = session.scalars(
        select(StripeEvent.id)
        .where(StripeEvent.status == "failed")
        .order_by(StripeEvent.received_at, StripeEvent.id)
        .limit(limit)
    ).all()
    return [(event_id, *requeue_event(session, event_id, now)) for event_id in ids]
