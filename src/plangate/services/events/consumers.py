"""Consumers of facts inside plangate (the billing emails), beside the webhook endpoints.

Each consumer has its own delivery record per fact in ``outbox_deliveries`` (consumer set, no
endpoint), written by :func:`outbox.record` in the fact's transaction, so it keeps its own
progress through the outbox: what it took, retries and failures are its own, whatever the
webhooks do. A consumer leases due records here (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, as
webhook delivery does) and settles each in the transaction that writes what it made of the
fact: a fact is taken once however many workers run.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plangate.store.db import Database
from plangate.store.outbox_models import OutboxDelivery, OutboxMessage

EMAIL = "email"

# The facts each consumer hears.
CONSUMER_TYPES: dict[str, frozenset[str]] = {
    EMAIL: frozenset({
        "paymentAttempt.created",
        "paymentAttempt.updated",
        "refund.created",
        "dispute.created",
        "dispute.closed",
        "subscriptionItem.canceled",
        "subscriptionItem.ended",
        "subscriptionItem.freeTrialEnding",
        "webhookEndpoint.disabled",
    }),
}


@dataclass(frozen=True)
class Fact:
    """A leased fact: what a consumer needs of it, read when it was leased."""

    delivery_id: int
    lease_id: str
    attempts: int
    message_id: str
    type: str
    customer: tuple[str, str] | None
    payload: dict[str, Any]
    created_at: datetime


def lease(db: Database, consumer: str, now: datetime, *, lease_seconds: int, limit: int
          ) -> list[Fact]:
    """Leases up to ``limit`` of ``consumer``'s due facts for ``lease_seconds``."""
    lease_id = secrets.token_hex(8)
    with db.write() as session:
        query = (
            select(OutboxDelivery.id, OutboxDelivery.attempts, OutboxMessage)
            .join(OutboxMessage, OutboxMessage.id == OutboxDelivery.message_id)
            .where(
                OutboxDelivery.status == "pending",
                OutboxDelivery.consumer == consumer,
                OutboxDelivery.next_attempt_at <= now,
            )
            .order_by(OutboxDelivery.next_attempt_at, OutboxDelivery.id)
            .limit(limit)
        )
        if not db.is_sqlite:
            query = query.with_for_update(of=OutboxDelivery, skip_locked=True)
        rows = session.execute(query).all()
        if not rows:
            return []
        session.execute(
            update(OutboxDelivery)
            .where(OutboxDelivery.id.in_([row[0] for row in rows]))
            .values(lease_id=lease_id, next_attempt_at=now + timedelta(seconds=lease_seconds))
        )
        return [
            Fact(
                delivery_id=delivery_id,
                lease_id=lease_id,
                attempts=attempts,
                message_id=message.id,
                type=message.type,
                customer=(
                    (message.customer_type, message.customer_id)
                    if message.customer_type and message.customer_id else None
                ),
                payload=dict(message.payload),
                created_at=message.created_at,
            )
            for delivery_id, attempts, message in rows
        ]


def settle(session: Session, fact: Fact, now: datetime) -> bool:
    """Marks the fact taken, in the consumer's transaction; False when the lease was lost
    (another worker took the fact after this one's lease ran out): the caller rolls back."""
    done = session.execute(
        update(OutboxDelivery)
        .where(OutboxDelivery.id == fact.delivery_id, OutboxDelivery.lease_id == fact.lease_id,
               OutboxDelivery.status == "pending")
        .values(status="delivered", delivered_at=now, lease_id=None,
                attempts=OutboxDelivery.attempts + 1)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def postpone(db: Database, fact: Fact, at: datetime, *, max_attempts: int | None) -> None:
    """Taking the fact failed: due again at ``at``, or failed after ``max_attempts``
    (None: the consumer waits for something, which counts no attempt)."""
    attempts = fact.attempts + (1 if max_attempts is not None else 0)
    values: dict[str, object] = (
        {"status": "failed"} if max_attempts is not None and attempts >= max_attempts
        else {"next_attempt_at": at}
    )
    with db.write() as session:
        session.execute(
            update(OutboxDelivery)
            .where(OutboxDelivery.id == fact.delivery_id,
                   OutboxDelivery.lease_id == fact.lease_id)
            .values(attempts=attempts, lease_id=None, **values)
        )


def redo(db: Database, consumer: str, message_id: str, now: datetime) -> bool:
    """Puts a fact back in ``consumer``'s queue (an operator's replay); what the consumer
    already made of it decides whether anything new comes of it."""
    with db.write() as session:
        done = session.execute(
            update(OutboxDelivery)
            .where(OutboxDelivery.consumer == consumer, OutboxDelivery.message_id == message_id,
                   OutboxDelivery.endpoint_id.is_(None))
            .values(status="pending", next_attempt_at=now, lease_id=None)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]
