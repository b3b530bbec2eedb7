"""The outbox writer: a fact recorded in the caller's transaction, fanned out to its consumers.

Other capabilities call :func:`record` inside the unit of work that changed the state the fact
reports, so the fact commits with the change or not at all (DESIGN.md invariant 6). The
delivery records are written in the same transaction, one per endpoint whose filter takes the
type: a worker that finds one finds the fact committed.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plangate.services.events import wake
from plangate.services.events.consumers import CONSUMER_TYPES
from plangate.store.outbox_models import OutboxDelivery, OutboxMessage, WebhookEndpoint

WEBHOOK = "webhook"


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


def endpoint_takes(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return not endpoint.event_types or event_type in endpoint.event_types


def record(
    session: Session,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
    *,
    customer: tuple[str, str] | None = None,
    webhooks: bool = True,
) -> OutboxMessage:
    """Writes the fact ``event_type`` with ``data`` and a pending delivery per listening
    endpoint and per consumer that hears it (the emails). The caller's transaction decides
    whether any of it happened. ``webhooks=False``: a fact for plangate's operator only,
    sent to no endpoint."""
    message = OutboxMessage(
        id=new_message_id(),
        type=event_type,
        customer_type=customer[0] if customer else None,
        customer_id=customer[1] if customer else None,
        payload=data,
        created_at=now,
    )
    session.add(message)
    wake.announce(session)  # the workers hear of it at the commit
    for consumer, types in CONSUMER_TYPES.items():
        if event_type in types:
            session.add(
                OutboxDelivery(
                    message=message,
                    consumer=consumer,
                    endpoint_id=None,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    if not webhooks:
        return message
    with session.no_autoflush:  # the caller's rows may be half-written
        endpoints = session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.disabled_at.is_(None))
        ).all()
    for endpoint in endpoints:
        if endpoint_takes(endpoint, event_type):
            session.add(
                OutboxDelivery(
                    message=message,
                    consumer=WEBHOOK,
                    endpoint_id=endpoint.id,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    return message


def withdraw(session: Session, message: OutboxMessage) -> None:
    """Takes back a fact recorded earlier in the same transaction, with its deliveries."""
    if message in session.new:
        for delivery in [o for o in session.new if isinstance(o, OutboxDelivery)]:
            if delivery.message is message:
                session.expunge(delivery)
        session.expunge(message)
        return
    session.execute(delete(OutboxDelivery).where(OutboxDelivery.message_id == message.id))
    session.delete(message)


def envelope(message: OutboxMessage) -> dict[str, Any]:
    """The body sent for a fact, shaped as Clerk's webhooks are: ``{data, object, type,
    timestamp}`` (milliseconds), plus the id receivers dedupe on."""
    return {
        "id": message.id,
        "object": "event",
        "type": message.type,
        "timestamp": int(message.created_at.timestamp() * 1000),
        "data": message.payload,
    }
