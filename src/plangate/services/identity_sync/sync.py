"""Applying a verified identity message: once per ``webhook-id``, newest change first.

Unit of work: the Stripe writes run first, outside any transaction, with idempotency keys
derived from the message id; then one transaction records the message and changes the
plangate customer. A failure before that commit leaves nothing recorded, so the provider's
retry does it all again (Stripe replays its part); a message recorded already is a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from plangate.gateways.base import Gateway, GatewayError
from plangate.services.commerce.payment_errors import from_gateway
from plangate.services.entitlements.customers import CustomerRef, get_customer, upsert_customer
from plangate.services.entitlements.ownership import live_ownerships
from plangate.services.identity_sync.clerk import IdentityEvent
from plangate.services.purchases import CancelRequest, PurchaseBackend
from plangate.store.db import Database
from plangate.store.models import IdentityWebhookMessage

CANCEL_AT_PERIOD_END = "cancel_at_period_end"


@dataclass(frozen=True)
class IdentityDeps:
    db: Database
    gateway: Gateway
    purchases: PurchaseBackend
    deleted_policy: str


def handle_message(
    deps: IdentityDeps, message_id: str, event: IdentityEvent, now: datetime
) -> dict[str, Any]:
    """``{"received", "duplicate", "applied"}``: ``applied`` false for an event plangate
    takes nothing from, a customer it does not know, or a change older than one applied."""
    with deps.db.read() as session:
        if session.get(IdentityWebhookMessage, message_id) is not None:
            return _answer(duplicate=True, applied=False)
        customer = get_customer(session, event.ref) if event.ref is not None else None
        stale = event.kind == "updated" and _older_than_applied(session, event)
        changes = {
            field: value
            for field, value in event.changes
            if customer is not None and getattr(customer, field) != value
        }
        stripe_id = customer.stripe_customer_id if customer is not None else None
    applies = customer is not None and not stale and event.kind is not None
    if applies and event.kind == "updated" and changes and stripe_id:
        _gateway(
            lambda: deps.gateway.update_customer(
                stripe_id, changes, idempotency_key=_stripe_key(message_id, changes)
            )
        )
    if applies and event.kind == "deleted" and event.ref is not None:
        _apply_deleted_policy(deps, message_id, event.ref, now)
    with deps.db.write() as session:
        if not _record(session, message_id, event, now):
            return _answer(duplicate=True, applied=False)
        if applies and event.kind == "updated" and changes and event.ref is not None:
            upsert_customer(
                session,
                event.ref,
                now,
                email=changes.get("email"),
                name=changes.get("name"),
                fields_set=frozenset(changes),
            )
    return _answer(duplicate=False, applied=applies)


def _apply_deleted_policy(
    deps: IdentityDeps, message_id: str, ref: CustomerRef, now: datetime
) -> None:
    """``cancel_at_period_end``: every live subscription ends at its period's end, as a
    customer's own cancellation would; ``keep`` changes nothing."""
    if deps.deleted_policy != CANCEL_AT_PERIOD_END:
        return
    with deps.db.read() as session:
        products = sorted(
            {
                o.product_id
                for o in live_ownerships(session, ref)
                if o.source == "subscription" and not o.cancel_at_period_end
            }
        )
    for product_id in products:
        scope = f"identity\x00{message_id}\x00{product_id}"
        deps.purchases.cancel(_Direct(deps.db), CancelRequest(ref, product_id, False, scope), now)


class _Direct:
    """A purchase backend's recorder with no Idempotency-Key to record under: the message's
    own record makes the whole message happen once."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def in_transaction(self, effect: Callable[[Session], dict[str, Any]]) -> dict[str, Any]:
        with self.db.write() as session:
            return effect(session)

    def after_gateway(self, write: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return write()


def _older_than_applied(session: Session, event: IdentityEvent) -> bool:
    if event.updated_at is None or event.ref is None:
        return False
    newest = session.scalar(
        select(func.max(IdentityWebhookMessage.source_updated_at)).where(
            IdentityWebhookMessage.customer_type == event.ref.type,
            IdentityWebhookMessage.customer_id == event.ref.id,
        )
    )
    return newest is not None and int(newest) > event.updated_at


def _record(session: Session, message_id: str, event: IdentityEvent, now: datetime) -> bool:
    """Inserts the message's row; False when a concurrent delivery of it got there first."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(
        insert(IdentityWebhookMessage)
        .values(
            webhook_id=message_id,
            event_type=event.type,
            customer_type=event.ref.type if event.ref else None,
            customer_id=event.ref.id if event.ref else None,
            source_updated_at=event.updated_at,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["webhook_id"])
    )
    return bool(getattr(result, "rowcount", 0))


def _stripe_key(message_id: str, changes: dict[str, str | None]) -> str:
    # The changes are part of the key: a retry that finds other differences is another write.
    digest = hashlib.sha256(repr(sorted(changes.items())).encode()).hexdigest()[:16]
    return f"plangate-identity-{message_id}-{digest}"


def _gateway(call: Callable[[], Any]) -> None:
    try:
        call()
    except GatewayError as exc:
        raise from_gateway(exc) from exc


def _answer(*, duplicate: bool, applied: bool) -> dict[str, Any]:
    return {"received": True, "duplicate": duplicate, "applied": applied}
