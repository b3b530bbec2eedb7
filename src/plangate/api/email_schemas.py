"""Bodies of the email routes (api/routes/emails.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

EmailKind = Literal[
    "receipt",
    "payment_failed",
    "trial_ending",
    "subscription_canceled",
    "subscription_ended",
    "endpoint_disabled",
    "refund",
    "dispute_created",
    "dispute_closed",
]
EmailStatus = Literal["pending", "sent", "failed", "skipped"]


class EmailOut(BaseModel):
    id: int
    kind: EmailKind
    status: EmailStatus = Field(
        description="`pending` (not sent yet, or waiting for a retry), `sent`, `failed` "
        "(every attempt failed) or `skipped` (see `detail`)"
    )
    customer_type: str | None
    customer_id: str | None
    recipient: str | None
    subject: str
    detail: str = Field(description="why it was skipped, or the last SMTP error")
    attempts: int
    message_id: str = Field(description="the outbox fact (the webhook-id of its webhooks)")
    created_at: datetime
    sent_at: datetime | None


class EmailList(BaseModel):
    data: list[EmailOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")
