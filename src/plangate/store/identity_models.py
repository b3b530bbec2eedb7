"""The identity provider's webhook messages handled, by their ``webhook-id``.

Written by services/identity_sync alone: a message is recorded in the same transaction as its
changes, so a redelivery (same ``webhook-id``) is recognised and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from plangate.store.models import Base


class IdentityWebhookMessage(Base):
    __tablename__ = "identity_webhook_messages"
    # The newest change applied to a customer (migration 0016): an older one arriving later
    # (deliveries are not ordered) is recorded but not applied.
    __table_args__ = (
        Index(
            "ix_identity_webhook_messages_customer",
            "customer_type",
            "customer_id",
            "source_updated_at",
        ),
    )

    webhook_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    customer_type: Mapped[str | None] = mapped_column(String(16))
    customer_id: Mapped[str | None] = mapped_column(String(255))
    # The provider's ``updated_at`` of the object (milliseconds), when it sends one.
    source_updated_at: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
