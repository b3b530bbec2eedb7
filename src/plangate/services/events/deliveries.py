"""Outbound webhook deliveries as an operator reads them (where each stands, its last error,
when it is tried next) and a retry of one, which restarts its schedule like a replay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plangate.errors import Conflict, InvalidRequest, NotFound
from plangate.services.events.endpoints import replay
from plangate.services.events.outbox import WEBHOOK
from plangate.store.db import Database
from plangate.store.outbox_models import (
    OutboxDelivery,
    OutboxMessage,
    WebhookAttempt,
    WebhookEndpoint,
)

DELIVERY_STATUSES = ("pending", "delivered", "failed")
ERROR_SHOWN = 200


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    message_id: str
    type: str
    endpoint_id: str
    endpoint_url: str
    status: str
    attempts: int
    # The last failed attempt's status code and answer (or why there was none).
    last_error: str | None
    last_attempt_at: datetime | None
    # When the worker tries it next; None once delivered or failed.
    next_attempt_at: datetime | None
    created_at: datetime


def _error(attempt: WebhookAttempt | None) -> str | None:
    if attempt is None or attempt.succeeded:
        return None
    text = " ".join(attempt.response.split())[:ERROR_SHOWN]
    return f"HTTP {attempt.status_code}: {text}" if attempt.status_code else text


def list_deliveries(
    db: Database, *, status: str | None = None, endpoint_id: str | None = None,
    limit: int = 50, before_id: int | None = None,
) -> tuple[list[DeliveryRow], int | None]:
    """Webhook deliveries newest first (optionally of one status or endpoint); returns a page
    and the id to pass as ``before_id`` for the next one."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidRequest("parameter_invalid",
                             f"status must be one of {', '.join(DELIVERY_STATUSES)}",
                             param="status")
    query = (
        select(OutboxDelivery, OutboxMessage.type, WebhookEndpoint.url)
        .join(OutboxMessage, OutboxMessage.id == OutboxDelivery.message_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == OutboxDelivery.endpoint_id)
        .where(OutboxDelivery.consumer == WEBHOOK)
        .order_by(OutboxDelivery.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(OutboxDelivery.status == status)
    if endpoint_id is not None:
        query = query.where(OutboxDelivery.endpoint_id == endpoint_id)
    if before_id is not None:
        query = query.where(OutboxDelivery.id < before_id)
    with db.read() as session:
        found = session.execute(query).all()
        ids = [row[0].id for row in found[:limit]]
        last_ids = select(func.max(WebhookAttempt.id)).where(
            WebhookAttempt.delivery_id.in_(ids)).group_by(WebhookAttempt.delivery_id)
        last = {a.delivery_id: a for a in session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.id.in_(last_ids)))} if ids else {}
        rows = [
            DeliveryRow(
                id=delivery.id, message_id=delivery.message_id, type=type_,
                endpoint_id=str(delivery.endpoint_id), endpoint_url=url,
                status=delivery.status, attempts=delivery.attempts,
                last_error=_error(last.get(delivery.id)),
                last_attempt_at=last[delivery.id].attempted_at if delivery.id in last else None,
                next_attempt_at=delivery.next_attempt_at if delivery.status == "pending"
                else None,
                created_at=delivery.created_at,
            )
            for delivery, type_, url in found[:limit]
        ]
    return rows, (rows[-1].id if len(found) > limit else None)


def _state(delivery: OutboxDelivery) -> dict[str, Any]:
    return {"status": delivery.status, "attempts": delivery.attempts,
            "next_attempt_at": delivery.next_attempt_at.isoformat()}


def retry_delivery(
    session: Session, delivery_id: int, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sends one delivery again, due now with a fresh schedule (a replay of its message to its
    endpoint); returns its state before and after. One still pending is 409: the worker has
    it on its schedule already."""
    delivery = session.scalars(
        select(OutboxDelivery)
        .where(OutboxDelivery.id == delivery_id, OutboxDelivery.consumer == WEBHOOK)
        .with_for_update()
    ).first()
    if delivery is None or delivery.endpoint_id is None:
        raise NotFound("webhook_delivery_not_found", f"no webhook delivery {delivery_id}",
                       param="delivery_id")
    if delivery.status == "pending":
        raise Conflict("webhook_delivery_pending",
                       f"webhook delivery {delivery_id} is pending: the worker tries it next at "
                       f"{delivery.next_attempt_at.isoformat()}", param="delivery_id")
    before = _state(delivery)
    replay(session, delivery.endpoint_id, now, message_id=delivery.message_id)
    session.flush()
    return before, _state(delivery)
