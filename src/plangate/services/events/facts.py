"""The facts other capabilities report, named and shaped as Clerk Billing's webhooks are.

Each function is called inside the caller's transaction, at the point where it writes the
state change, and records its events through :func:`outbox.record`. Payloads follow Clerk's
nesting (``payer``, ``plan``, ``items[]``) with plangate's names: the payer is a
``{customer_type, customer_id}`` and a plan's ``slug`` is its product id. Times are
milliseconds since the epoch, amounts integer minor units or decimal strings (never floats).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.domain.catalog import Product
from plangate.services.events.outbox import record, withdraw
from plangate.store.models import Ownership, Transaction
from plangate.store.outbox_models import OutboxMessage

GRANTING = frozenset({"active", "trialing", "past_due"})


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def payer(customer_type: str, customer_id: str) -> dict[str, str]:
    return {"customer_type": customer_type, "customer_id": customer_id}


def _plan(ownership: Ownership) -> dict[str, Any]:
    product = Product.from_dict(ownership.product)
    price = product.price(ownership.price_id or "") if ownership.price_id else None
    return {
        "id": product.id,
        "slug": product.id,
        "name": product.name,
        "price_id": ownership.price_id,
        # Decimal strings per currency, as the catalog states them.
        "amounts": dict(price.amounts) if price is not None else {},
        "period": price.interval.unit if price is not None and price.interval else None,
        "is_recurring": bool(price is not None and price.is_recurring),
    }


def _item_status(ownership: Ownership) -> str:
    if ownership.ended_at is not None:
        return "ended"
    if ownership.cancel_at_period_end and ownership.status in GRANTING:
        return "canceled"
    return ownership.status


def subscription_item(ownership: Ownership) -> dict[str, Any]:
    plan = _plan(ownership)
    return {
        # None for an item plangate never held (an abandoned first payment).
        "id": None if ownership.id is None else f"si_{ownership.id}",
        "object": "subscription_item",
        "status": _item_status(ownership),
        "plan_id": plan["id"],
        "plan": plan,
        "plan_period": plan["period"],
        "quantity": ownership.quantity,
        "period_start": _ms(ownership.current_period_start),
        "period_end": _ms(ownership.current_period_end),
        "cancel_at_period_end": ownership.cancel_at_period_end,
        "ended_at": _ms(ownership.ended_at),
        "end_reason": ownership.end_reason,
        "payer": payer(ownership.customer_type, ownership.customer_id),
        "stripe_subscription_id": ownership.stripe_subscription_id,
        "created_at": _ms(ownership.created_at),
    }


def _live_items(session: Session, customer_type: str, customer_id: str) -> list[Ownership]:
    return list(
        session.scalars(
            select(Ownership)
            .where(
                Ownership.customer_type == customer_type,
                Ownership.customer_id == customer_id,
                Ownership.source == "subscription",
                Ownership.ended_at.is_(None),
            )
            .order_by(Ownership.id)
        )
    )


def _subscription_status(items: list[Ownership]) -> str:
    statuses = {o.status for o in items}
    if "past_due" in statuses:
        return "past_due"
    if statuses & GRANTING:
        return "active"
    return "ended" if not items else sorted(statuses)[0]


def subscription(session: Session, customer_type: str, customer_id: str) -> dict[str, Any]:
    """The payer's subscription as Clerk shows it: one per payer, holding every item."""
    items = _live_items(session, customer_type, customer_id)
    return {
        "id": f"sub_{customer_type}_{customer_id}",
        "object": "subscription",
        "status": _subscription_status(items),
        "payer": payer(customer_type, customer_id),
        "items": [subscription_item(o) for o in items],
    }


def _emit(session: Session, event_type: str, data: dict[str, Any], now: datetime,
          customer: tuple[str, str]) -> None:
    record(session, event_type, data, now, customer=customer)


def _subscription_events(
    session: Session, ownership: Ownership, now: datetime, *, was_active: bool, created: bool
) -> None:
    key = (ownership.customer_type, ownership.customer_id)
    session.flush()
    data = subscription(session, *key)
    _emit(session, "subscription.created" if created else "subscription.updated", data, now, key)
    if data["status"] == "active" and not was_active:
        _emit(session, "subscription.active", data, now, key)
    elif data["status"] == "past_due" and ownership.status == "past_due":
        _emit(session, "subscription.pastDue", data, now, key)


def _payer_active(session: Session, customer_type: str, customer_id: str,
                  leaving: Ownership | None = None) -> bool:
    items = [o for o in _live_items(session, customer_type, customer_id) if o is not leaving]
    return _subscription_status(items) == "active"


class _LiveView:
    def __init__(self, status: str) -> None:
        self.status = status


def _as_live(ownership: Ownership) -> Ownership:
    """The item as it was before it ended, for the payer's status before the change."""
    return _LiveView(ownership.status)  # type: ignore[return-value]


def ownership_started(session: Session, ownership: Ownership, now: datetime) -> None:
    """A new holding: a subscription item, or a granted or bought product."""
    key = (ownership.customer_type, ownership.customer_id)
    if ownership.source == "default":
        return  # the line's free default: told through customer.entitlementsChanged
    if ownership.source != "subscription":
        _emit(session, "product.granted", _product_data(ownership), now, key)
        return
    others = [o for o in _live_items(session, *key) if o.id != ownership.id]
    was_active = _subscription_status(others) == "active"
    item = subscription_item(ownership)
    _emit(session, "subscriptionItem.created", item, now, key)
    if ownership.status in GRANTING:
        _emit(session, "subscriptionItem.active", item, now, key)
    elif ownership.status == "incomplete":
        _emit(session, "subscriptionItem.incomplete", item, now, key)
    _subscription_events(session, ownership, now, was_active=was_active, created=not others)


def ownership_ended(session: Session, ownership: Ownership, now: datetime) -> None:
    key = (ownership.customer_type, ownership.customer_id)
    if ownership.source == "default":
        return
    if ownership.source != "subscription":
        _emit(session, "product.revoked", _product_data(ownership), now, key)
        return
    before = [o for o in _live_items(session, *key) if o.id != ownership.id]
    was_active = _subscription_status([*before, _as_live(ownership)]) == "active"
    _emit(session, "subscriptionItem.ended", subscription_item(ownership), now, key)
    _subscription_events(session, ownership, now, was_active=was_active, created=False)


def subscription_item_changed(
    session: Session, ownership: Ownership, before_status: str, before_cancel: bool,
    now: datetime,
) -> None:
    """A live subscription item whose status or cancellation changed."""
    key = (ownership.customer_type, ownership.customer_id)
    if ownership.status == before_status and ownership.cancel_at_period_end == before_cancel:
        return
    item = subscription_item(ownership)
    _emit(session, "subscriptionItem.updated", item, now, key)
    if ownership.status != before_status:
        named = {"active": "active", "past_due": "pastDue", "incomplete": "incomplete"}
        if ownership.status in named and not (
            ownership.status == "active" and before_status in GRANTING - {"past_due"}
        ):
            _emit(session, f"subscriptionItem.{named[ownership.status]}", item, now, key)
    if ownership.cancel_at_period_end and not before_cancel:
        _emit(session, "subscriptionItem.canceled", item, now, key)
    was_active = before_status in GRANTING - {"past_due"} or _payer_active(
        session, *key, leaving=ownership
    )
    _subscription_events(session, ownership, now, was_active=was_active, created=False)


def _once(session: Session, event_type: str, item: dict[str, Any], key: tuple[str, str],
          now: datetime, *, by: str) -> bool:
    """Records ``event_type`` for ``item`` unless it was recorded already for the same item
    and the same ``by`` field (a notice handled twice reports nothing new)."""
    told = session.scalars(
        select(OutboxMessage.payload).where(
            OutboxMessage.type == event_type,
            OutboxMessage.customer_type == key[0],
            OutboxMessage.customer_id == key[1],
        )
    ).all()
    if any(p.get("id") == item["id"] and p.get(by) == item[by] for p in told):
        return False
    _emit(session, event_type, item, now, key)
    return True


def trial_ending(session: Session, ownership: Ownership, now: datetime) -> bool:
    """A trialing item whose trial ends soon (Stripe says so three days ahead): reported once
    per item and trial end, however often the notice is handled."""
    key = (ownership.customer_type, ownership.customer_id)
    item = {**subscription_item(ownership), "trial_end": _ms(ownership.trial_end)}
    return _once(session, "subscriptionItem.freeTrialEnding", item, key, now, by="trial_end")


def renewal_upcoming(session: Session, ownership: Ownership, now: datetime) -> bool:
    """A live item that renews at its period end (Stripe's ``invoice.upcoming``, some days
    ahead): reported once per item and renewal; not for an item set to cancel, which does
    not renew."""
    if ownership.cancel_at_period_end:
        return False
    key = (ownership.customer_type, ownership.customer_id)
    item = {**subscription_item(ownership), "renews_at": _ms(ownership.current_period_end)}
    return _once(session, "subscriptionItem.upcoming", item, key, now, by="renews_at")


def subscription_abandoned(session: Session, ownership: Ownership, now: datetime) -> bool:
    """An incomplete subscription whose first payment never completed expired (Stripe's
    ``incomplete_expired``). ``ownership`` is the item as it would have been held: plangate
    never held one it was not paid for, so it is not written and its ``id`` is None.
    Reported once per Stripe subscription."""
    key = (ownership.customer_type, ownership.customer_id)
    item = {**subscription_item(ownership), "status": "abandoned"}
    return _once(session, "subscriptionItem.abandoned", item, key, now,
                 by="stripe_subscription_id")


def _product_data(ownership: Ownership) -> dict[str, Any]:
    return {
        "id": f"own_{ownership.id}",
        "object": "product_ownership",
        "source": ownership.source,
        "product_id": ownership.product_id,
        "plan": _plan(ownership),
        "quantity": ownership.quantity,
        "payer": payer(ownership.customer_type, ownership.customer_id),
        "created_at": _ms(ownership.created_at),
        "ended_at": _ms(ownership.ended_at),
        "end_reason": ownership.end_reason,
    }


def entitlements_changed(
    session: Session,
    customer_type: str,
    customer_id: str,
    before: tuple[list[str], list[str]],
    after: tuple[list[str], list[str]],
    now: datetime,
) -> None:
    """What ``has()`` answers changed: apps refresh caches and re-mint entitlement tokens.

    One fact per customer and transaction: a request that settles the customer twice (a new
    customer gets the free default, then the plan it asked for) reports where it started and
    where it ended, and nothing when those are the same."""
    key = (customer_type, customer_id)
    transaction = session.get_transaction()
    told: dict[tuple[str, str], tuple[Any, OutboxMessage]] = session.info.setdefault(
        "entitlements_changed", {})
    earlier = told.get(key)
    if earlier is not None and earlier[0] is transaction:
        message = earlier[1]
        previous = message.payload["previous"]
        before = (previous["plans"], previous["features"])
        del told[key]
        withdraw(session, message)
    if before == after:
        return
    data = {
        "object": "entitlements",
        "customer": {"type": customer_type, "id": customer_id},
        "plans": after[0],
        "features": after[1],
        "previous": {"plans": before[0], "features": before[1]},
    }
    told[key] = (transaction, record(session, "customer.entitlementsChanged", data, now,
                                     customer=key))


def item_depleted(
    session: Session, customer_type: str, customer_id: str, item_id: str, balance: int,
    now: datetime,
) -> None:
    data = {
        "object": "item_balance",
        "customer": {"type": customer_type, "id": customer_id},
        "item_id": item_id,
        "quantity": balance,
    }
    _emit(session, "item.depleted", data, now, (customer_type, customer_id))


def _transaction_data(row: Transaction, kind: str) -> dict[str, Any]:
    return {
        "id": row.stripe_id,
        "object": kind,
        "status": row.status,
        "amount": row.amount,
        "currency": row.currency,
        "amount_refunded": row.amount_refunded,
        "product_id": row.product_id,
        "invoice_id": row.invoice_id,
        "payment_intent_id": row.payment_intent_id,
        "charge_id": row.charge_id,
        # Why a payment failed, as the processor put it (None unless it failed).
        "failure_message": row.description if row.status == "failed" else None,
        "payer": payer(row.customer_type, row.customer_id),
        "created_at": _ms(row.created_at),
        "updated_at": _ms(row.updated_at),
    }


DISPUTE_CLOSED = frozenset({"won", "lost", "warning_closed"})


def transaction_recorded(
    session: Session, row: Transaction, before_status: str | None, now: datetime
) -> None:
    """A payment, refund or dispute the sync recorded (``before_status`` None: new)."""
    key = (row.customer_type, row.customer_id)
    if row.type == "payment":
        data = _transaction_data(row, "payment_attempt")
        if before_status is None:
            _emit(session, "paymentAttempt.created", data, now, key)
        elif before_status != row.status:
            _emit(session, "paymentAttempt.updated", data, now, key)
    elif row.type == "refund" and before_status is None:
        _emit(session, "refund.created", _transaction_data(row, "refund"), now, key)
    elif row.type == "dispute":
        data = _transaction_data(row, "dispute")
        if before_status is None:
            _emit(session, "dispute.created", data, now, key)
        if row.status in DISPUTE_CLOSED and before_status not in DISPUTE_CLOSED:
            _emit(session, "dispute.closed", data, now, key)
