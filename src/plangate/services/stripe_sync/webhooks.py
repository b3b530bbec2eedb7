"""Receiving Stripe's events: verify, store once, acknowledge. Handling is the worker's.

Invariant 4: an event is stored before Stripe hears 200 (at least once; a crash after the
commit loses nothing, the worker finds the row), and stored under its id with
``INSERT ... ON CONFLICT DO NOTHING`` (at most once; a redelivery changes nothing).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Text, bindparam, cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from plangate.errors import InvalidRequest
from plangate.gateways.webhook_signature import SignatureInvalid, verify_signature
from plangate.services.stripe_sync.sync import subscription_id_of_invoice
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
    "customer.subscription.trial_will_end",
    # A downgrade waits in a schedule: its changes are the subscription's.
    "subscription_schedule.created",
    "subscription_schedule.updated",
    "subscription_schedule.released",
    "subscription_schedule.canceled",
    "invoice.paid",
    "invoice.upcoming",
    "invoice.payment_failed",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "charge.dispute.created",
    "charge.dispute.closed",
)


# Events a customer is waiting on: a new customer's access (a checkout paid, at once or after
# a delayed payment method), a failed payment and an ended plan. The worker leases them before
# everything else, so that a paying customer is not queued behind a burst of renewals.
URGENT_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "invoice.payment_failed",
        "customer.subscription.deleted",
    }
)
PRIORITY_URGENT = 0
PRIORITY_NORMAL = 1


def priority_of(event_type: str) -> int:
    return PRIORITY_URGENT if event_type in URGENT_EVENTS else PRIORITY_NORMAL


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


# Stripe's ids are short ("evt_" and 24 characters); the column holds 255.
MAX_EVENT_ID_LENGTH = 255
MAX_EVENT_TYPE_LENGTH = 100
# Stripe's events nest a handful of levels; far deeper JSON is no event.
MAX_EVENT_DEPTH = 64
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")


def _event_invalid(reason: str) -> InvalidRequest:
    return InvalidRequest("event_invalid", f"the body is not a Stripe event plangate can store: "
                          f"{reason}")


def _unsafe_text_at(value: Any) -> str | None:
    """A reason if ``value`` nests deeper than ``MAX_EVENT_DEPTH`` or holds a string neither
    database stores alike (NUL, an unpaired surrogate); walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, str):
            if _UNSAFE_TEXT.search(current):
                return "it contains NUL or an unpaired surrogate character"
        elif isinstance(current, (dict, list)):
            if depth >= MAX_EVENT_DEPTH:
                return f"it nests deeper than {MAX_EVENT_DEPTH} levels"
            children = list(current.items()) if isinstance(current, dict) else current
            for child in children:
                if isinstance(child, tuple):
                    stack.append((child[0], depth + 1))
                    stack.append((child[1], depth + 1))
                else:
                    stack.append((child, depth + 1))
    return None


def _payload_problem(payload: bytes, event: Any) -> str | None:
    """:func:`_unsafe_text_at` of the event parsed from ``payload``, cheaper for what events
    look like. Only an escape (``\\u0000``, ``\\udc00``), a UTF-8-encoded surrogate (which
    starts with byte 0xED) or a NUL byte (also how UTF-16 and UTF-32 text looks) can decode
    to text the walk refuses: without any of those bytes only the depth is left to check,
    over the containers alone."""
    if b"\\u" in payload or b"\xed" in payload or b"\x00" in payload:
        return _unsafe_text_at(event)
    level: list[Any] = [event]
    depth = 0
    while level:
        if depth >= MAX_EVENT_DEPTH:
            return f"it nests deeper than {MAX_EVENT_DEPTH} levels"
        inner: list[Any] = []
        for container in level:
            for child in container.values() if type(container) is dict else container:
                if type(child) is dict or type(child) is list:
                    inner.append(child)
        level = inner
        depth += 1
    return None


def _not_json(constant: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON (and PostgreSQL) do not have.
    raise ValueError(f"{constant} is not JSON")


def parse_verified_event(payload: bytes, header: str | None, secret: str) -> dict[str, Any]:
    """The event in ``payload`` once its signature verifies; 400 ``signature_invalid`` or
    ``event_invalid`` otherwise, before anything is stored.

    A signed event plangate cannot store (too deep, an id that is empty or too long, text a
    database refuses) is refused with 400 ``event_invalid`` rather than failing with a 500:
    Stripe retries a 500 for days, a 400 shows at once in its dashboard."""
    try:
        verify_signature(payload, header, secret)
    except SignatureInvalid as exc:
        raise _signature_invalid(str(exc)) from None
    try:
        event = json.loads(payload, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise _event_invalid("it is not JSON (or nests too deeply)") from None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
    ):
        raise _event_invalid("it has no string id and type")
    if not 0 < len(event["id"]) <= MAX_EVENT_ID_LENGTH:
        raise _event_invalid(f"its id must be 1 to {MAX_EVENT_ID_LENGTH} characters")
    if not 0 < len(event["type"]) <= MAX_EVENT_TYPE_LENGTH:
        raise _event_invalid(f"its type must be 1 to {MAX_EVENT_TYPE_LENGTH} characters")
    reason = _payload_problem(payload, event)
    if reason is not None:
        raise _event_invalid(reason)
    return event


def _short_str(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and len(value) <= limit else None


def _created_at(value: Any, default: datetime) -> datetime:
    # Stripe's ``created`` is Unix seconds; anything else (a bool, a year past 9999) is not.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 253402300800:
        return datetime.fromtimestamp(value, UTC)
    return default


def _customer_of(obj: dict[str, Any]) -> str | None:
    """The Stripe customer an event's object belongs to: the customer itself, or its
    ``customer`` (an id, or an object when expanded)."""
    if obj.get("object") == "customer":
        return _short_str(obj.get("id"), 255)
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return _short_str(customer, 255)


def insert_row(event: dict[str, Any], payload_text: str, received_at: datetime) -> dict[str, Any]:
    """The parameters of :data:`INSERT_EVENT` for a verified ``event`` whose JSON is
    ``payload_text``: its ``stripe_events`` row, pending from ``received_at``."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        obj = {}
    object_id, object_type = _short_str(obj.get("id"), 255), _short_str(obj.get("object"), 64)
    if event.get("type") == "invoice.upcoming":
        # A preview of the next invoice has no id of its own: the event is about the
        # subscription it renews, which the handler fetches.
        object_id = _short_str(subscription_id_of_invoice(obj), 255)
        object_type = "subscription" if object_id else None
    elif object_type == "subscription_schedule":
        # A schedule's events are about its subscription (what it will switch to).
        object_id = _short_str(obj.get("subscription") or obj.get("released_subscription"), 255)
        object_type = "subscription" if object_id else None
    return {
        "id": event["id"],
        "type": event["type"],
        "object_id": object_id,
        "object_type": object_type,
        "payload_text": payload_text,
        "created": _created_at(event.get("created"), received_at),
        "received_at": received_at,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": received_at,
        "locked_until": None,
        "last_error": None,
        "handled_at": None,
        "priority": priority_of(event["type"]),
        "stripe_customer_id": _customer_of(obj),
    }


def store_event(session: Session, event: dict[str, Any], received_at: datetime) -> Received:
    """Stores one event in ``session``'s transaction (the endpoint stores through
    :class:`~plangate.services.stripe_sync.inbox.EventInbox`, several at a time)."""
    statement = INSERT_EVENT[session.get_bind().dialect.name == "postgresql"]
    row = insert_row(event, json.dumps(event), received_at)
    inserted = session.execute(statement, row).scalar_one_or_none()
    return Received(event["id"], event["type"], stored=inserted is not None)


def _insert_once(insert: Any, payload: Any) -> Any:
    """``INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`` on the table, built once with
    its values bound at execution: an ORM ``insert(StripeEvent).values(**row)`` is rebuilt,
    coerced and cache-keyed for every event, which cost the webhook endpoint more than the
    INSERT itself (docs/benchmarks.md §11)."""
    table = StripeEvent.__table__
    return (
        insert(table)
        .values(payload=payload)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table.c.id)
    )


# The statement storing an event, by "is PostgreSQL". The payload is bound as text (the bytes
# Stripe sent, or the event encoded once): SQLite keeps JSON as text, and PostgreSQL's json
# type keeps the text as it is.
INSERT_EVENT = {
    True: _insert_once(postgresql.insert, cast(bindparam("payload_text", type_=Text), JSON)),
    False: _insert_once(sqlite.insert, bindparam("payload_text", type_=Text)),
}
