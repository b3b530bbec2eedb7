"""The outbox's tables: facts to announce, the endpoints that hear them, and each delivery.

A fact (``outbox_messages``) is written once, in the transaction that changed the state it
reports. Each consumer of facts keeps its own delivery record per fact
(``outbox_deliveries``, keyed by consumer and destination), so an outbound webhook and, later,
an email are retried, failed and replayed independently. Written by services/events alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plangate.store.models import CUSTOMER_ID, CUSTOMER_TYPE, Base


class OutboxMessage(Base):
    """One fact: its id is the ``webhook-id`` every attempt of every endpoint carries."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_created", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    customer_type: Mapped[str | None] = mapped_column(CUSTOMER_TYPE)
    customer_id: Mapped[str | None] = mapped_column(CUSTOMER_ID)
    # The event's ``data`` object, as sent.
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(500), default="")
    # Event types delivered; empty: every type.
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(120))
    # After a rotation the old secret also signs, until ``previous_secret_until``.
    previous_secret: Mapped[str | None] = mapped_column(String(120))
    previous_secret_until: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    # The first failure since the last success: five days of it disable the endpoint.
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxDelivery(Base):
    """One consumer's duty to deliver one fact, leased by a worker while it tries."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "consumer", "endpoint_id", name="uq_outbox_deliveries"),
        Index("ix_outbox_deliveries_due", "status", "next_attempt_at"),
        Index("ix_outbox_deliveries_endpoint", "endpoint_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(40), ForeignKey("outbox_messages.id"))
    # webhook (an email sender is the next consumer)
    consumer: Mapped[str] = mapped_column(String(16))
    endpoint_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("webhook_endpoints.id")
    )
    # pending | delivered | failed
    status: Mapped[str] = mapped_column(String(16))
    # Attempts since the last (re)start of the schedule: a replay starts it again.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    # Set while a worker holds it: only that worker's result is written.
    lease_id: Mapped[str | None] = mapped_column(String(40))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Lets one flush write a fact and its deliveries in order.
    message: Mapped[OutboxMessage] = relationship(lazy="raise")


class WebhookAttempt(Base):
    """One HTTP attempt: what the endpoint answered and how long it took."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_endpoint", "endpoint_id", "id"),
        # Pruning deletes a delivery's attempts.
        Index("ix_webhook_attempts_delivery", "delivery_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("outbox_deliveries.id"))
    message_id: Mapped[str] = mapped_column(String(40))
    endpoint_id: Mapped[str] = mapped_column(String(40))
    attempted_at: Mapped[datetime]
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    # The first 1 KB of the answer, or why there was none (timeout, refused destination).
    response: Mapped[str] = mapped_column(Text, default="")


__all__ = ["OutboxDelivery", "OutboxMessage", "WebhookAttempt", "WebhookEndpoint"]
