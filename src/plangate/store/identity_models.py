"""The identity provider's webhook messages handled, by their ``webhook-id``.

Written by services/identity_sync alone: a message is recorded in the same transaction as its
changes, so a redelivery (same ``webhook-id``) is recognised and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from plangate.store.models import Base


class IdentityWebhookMessage(Base):
    __tablename__ = "identity_webhook_messages"

    webhook_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime]
