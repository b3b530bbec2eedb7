"""Webhook endpoints: where facts are sent, with their secrets, filters and attempt log."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from plangate.errors import InvalidRequest, NotFound
from plangate.services.events.destinations import resolve
from plangate.services.events.outbox import WEBHOOK
from plangate.services.events.signing import new_secret
from plangate.store.outbox_models import (
    OutboxDelivery,
    OutboxMessage,
    WebhookAttempt,
    WebhookEndpoint,
)

EVENT_TYPES = (
    "subscription.created",
    "subscription.updated",
    "subscription.active",
    "subscription.pastDue",
    "subscriptionItem.created",
    "subscriptionItem.updated",
    "subscriptionItem.active",
    "subscriptionItem.canceled",
    "subscriptionItem.ended",
    "subscriptionItem.incomplete",
    "subscriptionItem.pastDue",
    "subscriptionItem.freeTrialEnding",
    "subscriptionItem.upcoming",
    "subscriptionItem.abandoned",
    "paymentAttempt.created",
    "paymentAttempt.updated",
    "customer.entitlementsChanged",
    "item.depleted",
    "product.granted",
    "product.revoked",
    "refund.created",
    "dispute.created",
    "dispute.closed",
)
MAX_DESCRIPTION = 500
MAX_LIST = 100


@dataclass(frozen=True)
class EndpointSpec:
    url: str
    event_types: Sequence[str] = ()
    description: str = ""


def _check_event_types(event_types: Sequence[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise InvalidRequest(
            "event_type_unknown",
            f"unknown event type(s): {', '.join(unknown)}; see docs/webhooks.md",
            param="event_types",
        )
    return sorted(set(event_types))


def _check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise InvalidRequest(
            "description_invalid", f"at most {MAX_DESCRIPTION} characters", param="description"
        )
    return description


def endpoint_view(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "disabled": endpoint.disabled_at is not None,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": endpoint.failing_since,
        "created_at": endpoint.created_at,
    }
    if with_secret:
        view["secret"] = endpoint.secret
    return view


def create_endpoint(
    session: Session, spec: EndpointSpec, allowed_networks: Sequence[str], now: datetime
) -> WebhookEndpoint:
    resolve(spec.url, allowed_networks)
    endpoint = WebhookEndpoint(
        id="ep_" + secrets.token_hex(12),
        url=spec.url,
        description=_check_description(spec.description),
        event_types=_check_event_types(spec.event_types),
        secret=new_secret(),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def get_endpoint(session: Session, endpoint_id: str, *, lock: bool = False) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if lock:
        query = query.with_for_update()
    endpoint = session.scalars(query).first()
    if endpoint is None:
        raise NotFound("webhook_endpoint_not_found", f"no webhook endpoint {endpoint_id!r}",
                       param="endpoint_id")
    return endpoint


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at,
                                                                 WebhookEndpoint.id)))


def update_endpoint(
    session: Session,
    endpoint_id: str,
    changes: dict[str, Any],
    allowed_networks: Sequence[str],
    now: datetime,
) -> WebhookEndpoint:
    """Applies ``url``, ``event_types``, ``description`` and ``disabled`` where given."""
    endpoint = get_endpoint(session, endpoint_id, lock=True)
    if changes.get("url") is not None:
        resolve(changes["url"], allowed_networks)
        endpoint.url = changes["url"]
    if changes.get("event_types") is not None:
        endpoint.event_types = _check_event_types(changes["event_types"])
    if changes.get("description") is not None:
        endpoint.description = _check_description(changes["description"])
    if changes.get("disabled") is True and endpoint.disabled_at is None:
        endpoint.disabled_at = now
        endpoint.disabled_reason = "disabled by the operator"
    elif changes.get("disabled") is False:
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
        endpoint.failing_since = None
    endpoint.updated_at = now
    return endpoint


def delete_endpoint(session: Session, endpoint_id: str) -> None:
    get_endpoint(session, endpoint_id, lock=True)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint_id))
    session.execute(delete(OutboxDelivery).where(OutboxDelivery.endpoint_id == endpoint_id))
    session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))


def rotate_secret(
    session: Session, endpoint_id: str, overlap: timedelta, now: datetime
) -> WebhookEndpoint:
    """A new secret signs from now on; the old one also signs until ``now + overlap``."""
    endpoint = get_endpoint(session, endpoint_id, lock=True)
    endpoint.previous_secret = endpoint.secret if overlap > timedelta(0) else None
    endpoint.previous_secret_until = now + overlap if overlap > timedelta(0) else None
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    return endpoint


def secrets_in_use(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    live = [endpoint.secret]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and now < until:
        live.append(endpoint.previous_secret)
    return live


def attempt_view(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "message_id": attempt.message_id,
        "endpoint_id": attempt.endpoint_id,
        "attempted_at": attempt.attempted_at,
        "succeeded": attempt.succeeded,
        "status_code": attempt.status_code,
        "duration_ms": attempt.duration_ms,
        "response": attempt.response,
    }


def list_attempts(
    session: Session, endpoint_id: str, *, message_id: str | None = None, limit: int = MAX_LIST
) -> list[WebhookAttempt]:
    get_endpoint(session, endpoint_id)
    query = select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint_id)
    if message_id is not None:
        query = query.where(WebhookAttempt.message_id == message_id)
    query = query.order_by(WebhookAttempt.id.desc()).limit(max(1, min(limit, MAX_LIST)))
    return list(session.scalars(query))


def replay(
    session: Session,
    endpoint_id: str,
    now: datetime,
    *,
    message_id: str | None = None,
    failed_since: datetime | None = None,
) -> int:
    """Sends one message again (a new delivery if the endpoint never had it), or every
    message that failed for the endpoint since ``failed_since``; the schedule restarts.
    Returns how many deliveries were queued."""
    endpoint = get_endpoint(session, endpoint_id, lock=True)
    if (message_id is None) == (failed_since is None):
        raise InvalidRequest(
            "replay_target_invalid", "give either message_id or since", param="message_id"
        )
    restart = {"status": "pending", "attempts": 0, "next_attempt_at": now, "lease_id": None}
    if message_id is not None:
        if session.get(OutboxMessage, message_id) is None:
            raise NotFound("message_not_found", f"no message {message_id!r}", param="message_id")
        delivery = session.scalars(
            select(OutboxDelivery).where(
                OutboxDelivery.message_id == message_id,
                OutboxDelivery.endpoint_id == endpoint.id,
                OutboxDelivery.consumer == WEBHOOK,
            )
        ).first()
        if delivery is None:
            session.add(OutboxDelivery(message_id=message_id, consumer=WEBHOOK,
                                       endpoint_id=endpoint.id, created_at=now, **restart))
        else:
            for name, value in restart.items():
                setattr(delivery, name, value)
        return 1
    assert failed_since is not None
    ids = select(OutboxMessage.id).where(OutboxMessage.created_at >= failed_since)
    result = session.execute(
        update(OutboxDelivery)
        .where(
            OutboxDelivery.endpoint_id == endpoint.id,
            OutboxDelivery.status == "failed",
            OutboxDelivery.message_id.in_(ids),
        )
        .values(**restart)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
