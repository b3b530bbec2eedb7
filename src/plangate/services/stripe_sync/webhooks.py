"""Receiving Stripe's events: verify, store once, acknowledge. Handling is the worker's.

Invariant 4: an event is stored before Stripe hears 200 (at least once; a crash after the
commit loses nothing, the worker finds the row), and stored under its id with
``INSERT ... ON CONFLICT DO NOTHING`` (at most once; a redelivery changes nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from plangate.errors import InvalidRequest
from plangate.gateways.webhook_signature import SignatureInvalid, verify_signature
from plangate.store.models import StripeEvent

# The event types plangate acts on: register the endpoint with these (``plangate dev`` does).
# Others are stored and acknowledged too, then need nothing; leaving them out saves work.
WEBHOOK_EVENTS = (
    "checkout.session.completed",
    "checkout.session.expired",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "invoice.paid",
    "invoice.payment_failed",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "charge.dispute.created",
    "charge.dispute.closed",
)


@dataclass(frozen=True)
class Received:
    event_id: str
    type: str
    stored: bool  # False: a duplicate delivery, nothing was written


def _signature_invalid(reason: str) -> InvalidRequest:
    return InvalidRequest(
        "signature_invalid",
        f"the Stripe-Signature header does not verify: {reason}",
        param="Stripe-Signature",
    )


def parse_verified_event(payload: bytes, header: str | None, secret: str) -> dict[str, Any]:
    """The event in ``payload`` once its signature verifies; 400 ``signature_invalid`` or
    ``event_invalid`` otherwise, before anything is stored."""
    try:
        verify_signature(payload, header, secret)
    except SignatureInvalid as exc:
        raise _signature_invalid(str(exc)) from None
    try:
        event = json.loads(payload)
    except ValueError:
        event = None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
    ):
        raise InvalidRequest("event_invalid", "the body is not a Stripe event")
    return event


def store_event(session: Session, event: dict[str, Any], received_at: datetime) -> Received:
    obj = (event.get("data") or {}).get("object") or {}
    created = event.get("created")
    values = {
        "id": event["id"],
        "type": event["type"],
        "object_id": obj.get("id") if isinstance(obj.get("id"), str) else None,
        "object_type": obj.get("object") if isinstance(obj.get("object"), str) else None,
        "payload": event,
        "created": datetime.fromtimestamp(created, UTC)
        if isinstance(created, int)
        else received_at,
        "received_at": received_at,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": received_at,
        "locked_until": None,
        "last_error": None,
        "handled_at": None,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(StripeEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(StripeEvent.id)
    ).scalar_one_or_none()
    return Received(event["id"], event["type"], stored=inserted is not None)
