"""Pruning the outbox: facts every consumer has finished with, longer ago than the retention
(``PLANGATE_OUTBOX_RETENTION_DAYS``), are deleted with their deliveries and attempt logs.

A fact is kept while any of its deliveries is pending, whatever its age, and while any of
them finished (delivered, or failed for good) within the retention: a replay of a failed
delivery restarts its clock. Deletion goes in bounded batches, one short transaction each, so
the delivery worker that prunes never holds the tables for long; a delivery replayed while a
batch runs is left alone (its delete re-checks the status under the row's lock).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select

from plangate.store.db import Database
from plangate.store.outbox_models import OutboxDelivery, OutboxMessage, WebhookAttempt

BATCH = 500


def _still_needed(cutoff: datetime):  # type: ignore[no-untyped-def]
    return exists().where(
        OutboxDelivery.message_id == OutboxMessage.id,
        or_(
            OutboxDelivery.status == "pending",
            func.coalesce(OutboxDelivery.delivered_at, OutboxDelivery.next_attempt_at) >= cutoff,
        ),
    )


def prune_batch(db: Database, now: datetime, retention_days: int, batch: int = BATCH) -> int:
    """Deletes up to ``batch`` finished facts older than the retention; returns how many."""
    cutoff = now - timedelta(days=retention_days)
    with db.write() as session:
        ids = list(session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.created_at < cutoff, ~_still_needed(cutoff))
            .order_by(OutboxMessage.created_at)
            .limit(batch)
        ))
        if not ids:
            return 0
        finished = and_(OutboxDelivery.message_id.in_(ids), OutboxDelivery.status != "pending")
        session.execute(
            delete(WebhookAttempt).where(
                WebhookAttempt.delivery_id.in_(select(OutboxDelivery.id).where(finished))
            )
        )
        session.execute(delete(OutboxDelivery).where(finished))
        gone = session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.id.in_(ids),
                ~exists().where(OutboxDelivery.message_id == OutboxMessage.id),
            )
        )
        return int(gone.rowcount)  # type: ignore[attr-defined]


def prune(db: Database, now: datetime, retention_days: int, *, batch: int = BATCH,
          max_batches: int = 20) -> int:
    """Prunes in batches until nothing is left to prune or ``max_batches`` ran; returns how
    many facts were deleted (the rest waits for the next round)."""
    total = 0
    for _ in range(max_batches):
        done = prune_batch(db, now, retention_days, batch)
        total += done
        if done < batch:
            break
    return total
