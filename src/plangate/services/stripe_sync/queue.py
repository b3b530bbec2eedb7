"""Where the Stripe event queue stands: figures for ``/metrics`` and ``/healthz``, and the
events an operator looks at from the command line. Reads only; the worker and
:mod:`requeue` write ``stripe_events``.

Every figure is one query on the queue index (``status, next_attempt_at``) or on the
pending and failed rows alone, never a scan of the handled ones, which only grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from plangate.errors import InvalidRequest, NotFound
from plangate.store.db import Database
from plangate.store.models import StripeEvent

EVENT_STATES = ("pending", "failed", "done")
# The states a scrape counts by type; handled (done) events are the worker's counter.
QUEUED_STATES = ("pending", "failed")


@dataclass(frozen=True)
class QueueFigures:
    # (state, type) -> events, for the pending and the failed (given up) ones.
    queued: dict[tuple[str, str], int] = field(default_factory=dict)
    # Seconds since the oldest pending event was received (0 with none pending).
    oldest_pending_age: float = 0.0
    # The worker's lag: seconds since the oldest pending event became due (0 with none due).
    # An event waiting for its retry's backoff is not late until its retry time has passed.
    lag: float = 0.0


def _seconds_since(moment: datetime | None, now: datetime) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=now.tzinfo)
    return max((now - moment).total_seconds(), 0.0)


def worker_lag(db: Database, now: datetime) -> float:
    """Seconds since the oldest due pending event became due: one index lookup."""
    with db.read() as session:
        due = session.scalar(
            select(func.min(StripeEvent.next_attempt_at)).where(
                StripeEvent.status == "pending", StripeEvent.next_attempt_at <= now
            )
        )
    return _seconds_since(due, now)


def queue_figures(db: Database, now: datetime) -> QueueFigures:
    with db.read() as session:
        rows = session.execute(
            select(StripeEvent.status, StripeEvent.type, func.count())
            .where(StripeEvent.status.in_(QUEUED_STATES))
            .group_by(StripeEvent.status, StripeEvent.type)
        ).all()
        oldest = session.scalar(
            select(func.min(StripeEvent.received_at)).where(StripeEvent.status == "pending")
        )
        due = session.scalar(
            select(func.min(StripeEvent.next_attempt_at)).where(
                StripeEvent.status == "pending", StripeEvent.next_attempt_at <= now
            )
        )
    return QueueFigures(
        queued={(str(status), str(type_)): int(count) for status, type_, count in rows},
        oldest_pending_age=_seconds_since(oldest, now),
        lag=_seconds_since(due, now),
    )


@dataclass(frozen=True)
class EventSummary:
    id: str
    type: str
    status: str
    attempts: int
    object_type: str | None
    object_id: str | None
    received_at: datetime
    next_attempt_at: datetime
    handled_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class EventDetail:
    summary: EventSummary
    created: datetime
    locked_until: datetime | None
    payload: dict[str, Any]


def _summary(event: StripeEvent) -> EventSummary:
    return EventSummary(
        id=event.id,
        type=event.type,
        status=event.status,
        attempts=event.attempts,
        object_type=event.object_type,
        object_id=event.object_id,
        received_at=event.received_at,
        next_attempt_at=event.next_attempt_at,
        handled_at=event.handled_at,
        last_error=event.last_error,
    )


def find_events(
    db: Database, *, state: str | None = None, type_: str | None = None, limit: int = 50
) -> list[EventSummary]:
    """Events newest received first, filtered by state and type."""
    if state is not None and state not in EVENT_STATES:
        raise InvalidRequest(
            "parameter_invalid", f"state must be one of {', '.join(EVENT_STATES)}", param="state"
        )
    if not 1 <= limit <= 1000:
        raise InvalidRequest("parameter_invalid", "limit must be 1 to 1000", param="limit")
    statement = (
        select(StripeEvent)
        .order_by(StripeEvent.received_at.desc(), StripeEvent.id.desc())
        .limit(limit)
    )
    if state is not None:
        statement = statement.where(StripeEvent.status == state)
    if type_ is not None:
        statement = statement.where(StripeEvent.type == type_)
    with db.read() as session:
        return [_summary(event) for event in session.scalars(statement)]


def event_detail(db: Database, event_id: str) -> EventDetail:
    with db.read() as session:
        event = session.get(StripeEvent, event_id)
        if event is None:
            raise NotFound(
                "stripe_event_not_found", f"no Stripe event {event_id!r}", param="event_id"
            )
        return EventDetail(
            summary=_summary(event),
            created=event.created,
            locked_until=event.locked_until,
            payload=dict(event.payload),
        )
