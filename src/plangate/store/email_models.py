"""The billing emails: one row per message plangate sends (or decides not to send) for a fact.

A row is written when the email consumer takes a fact from the outbox, in the same transaction
that settles the consumer's delivery record, so a fact yields its emails once however many
workers run. The row holds the rendered message and its sending state (``pending``, ``sent``,
``failed``, ``skipped``). Written by services/emails alone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plangate.store.models import CUSTOMER_ID, CUSTOMER_TYPE, Base


class EmailMessage(Base):
    __tablename__ = "emails"
    __table_args__ = (
        # At most one email of a kind per fact (the outbox message).
        UniqueConstraint("message_id", "kind", name="uq_emails_message_kind"),
        Index("ix_emails_due", "status", "next_attempt_at"),
        Index("ix_emails_customer", "customer_type", "customer_id", "id"),
        Index("uq_emails_link_token", "link_token", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(40))
    # receipt | payment_failed | trial_ending | subscription_canceled | subscription_ended
    # | endpoint_disabled | refund | dispute_created | dispute_closed
    kind: Mapped[str] = mapped_column(String(32))
    customer_type: Mapped[str | None] = mapped_column(CUSTOMER_TYPE)
    customer_id: Mapped[str | None] = mapped_column(CUSTOMER_ID)
    recipient: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # pending | sent | failed | skipped
    status: Mapped[str] = mapped_column(String(16))
    # Why it was skipped, or the last SMTP error.
    detail: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    # Set while a worker holds it: only that worker's result is written.
    lease_id: Mapped[str | None] = mapped_column(String(40))
    # The secret in the message's action link (payment failed: fix the card), if any.
    link_token: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


__all__ = ["EmailMessage"]
