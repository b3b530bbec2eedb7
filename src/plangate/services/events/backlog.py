"""How far outbound webhook delivery is behind: figures for ``/metrics``, read at scrape time
from the delivery queue's index (``status, next_attempt_at``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from plangate.store.db import Database
from plangate.store.outbox_models import OutboxDelivery


@dataclass(frozen=True)
class Backlog:
    # status -> deliveries, for pending (to be tried) and failed (given up) ones.
    queued: dict[str, int] = field(default_factory=dict)
    # Seconds since the oldest pending delivery became due (0 with none due).
    lag: float = 0.0


def delivery_backlog(db: Database, now: datetime) -> Backlog:
    with db.read() as session:
        rows = session.execute(
            select(OutboxDelivery.status, func.count())
            .where(OutboxDelivery.status.in_(("pending", "failed")))
            .group_by(OutboxDelivery.status)
        ).all()
        due = session.scalar(
            select(func.min(OutboxDelivery.next_attempt_at)).where(
                OutboxDelivery.status == "pending", OutboxDelivery.next_attempt_at <= now
            )
        )
    lag = 0.0
    if due is not None:
        if due.tzinfo is None:
            due = due.replace(tzinfo=now.tzinfo)
        lag = max((now - due).total_seconds(), 0.0)
    queued = {"pending": 0, "failed": 0}
    queued.update({str(status): int(count) for status, count in rows})
    return Backlog(queued=queued, lag=lag)
