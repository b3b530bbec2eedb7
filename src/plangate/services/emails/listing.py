"""What the API shows of the emails: the list per customer, and the target of an action link."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from plangate.errors import InvalidRequest
from plangate.services.admin.paging import check_limit, decode_cursor, encode_cursor
from plangate.services.emails.compose import KINDS
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.db import Database
from plangate.store.email_models import EmailMessage

STATUSES = ("pending", "sent", "failed", "skipped")
# How long the link of a payment-failed email opens a billing portal session.
LINK_LIFETIME = timedelta(days=30)


def _view(row: EmailMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "customer_type": row.customer_type,
        "customer_id": row.customer_id,
        "recipient": row.recipient,
        "subject": row.subject,
        "detail": row.detail,
        "attempts": row.attempts,
        "message_id": row.message_id,
        "created_at": row.created_at,
        "sent_at": row.sent_at,
    }


def list_emails(
    db: Database,
    *,
    customer: CustomerRef | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Emails newest first, and the cursor of the next page (None: the last page)."""
    check_limit(limit)
    if status is not None and status not in STATUSES:
        raise InvalidRequest("parameter_invalid",
                             f"status must be one of {', '.join(STATUSES)}", param="status")
    if kind is not None and kind not in KINDS:
        raise InvalidRequest("parameter_invalid",
                             f"kind must be one of {', '.join(KINDS)}", param="kind")
    query = select(EmailMessage).order_by(EmailMessage.id.desc()).limit(limit + 1)
    if customer is not None:
        query = query.where(EmailMessage.customer_type == customer.type,
                            EmailMessage.customer_id == customer.id)
    if status is not None:
        query = query.where(EmailMessage.status == status)
    if kind is not None:
        query = query.where(EmailMessage.kind == kind)
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        if not isinstance(after, int):
            raise InvalidRequest("cursor_invalid", "the cursor is not one this list gave",
                                 param="cursor")
        query = query.where(EmailMessage.id < after)
    with db.read() as session:
        rows = list(session.scalars(query))
    page = rows[:limit]
    more = len(rows) > limit
    return [_view(r) for r in page], (encode_cursor(page[-1].id) if more and page else None)


def fix_card_customer(db: Database, token: str, now: datetime) -> CustomerRef | None:
    """The customer a payment-failed email's link is for, while the link is valid."""
    if not token or len(token) > 64:
        return None
    with db.read() as session:
        row = session.scalars(
            select(EmailMessage).where(EmailMessage.link_token == token)
        ).first()
    if row is None or row.kind != "payment_failed" or row.customer_type is None:
        return None
    if row.created_at + LINK_LIFETIME < now or row.customer_id is None:
        return None
    return CustomerRef(row.customer_type, row.customer_id)
