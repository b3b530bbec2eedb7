"""Subscriptions become ownerships (source ``subscription``).

One live ownership per subscription, carrying Stripe's status, period (from the subscription
items: the Basil shape), cancel flag and trial end. Access follows invariant 5 through
``ownership.grants_access``; ``canceled`` and ``incomplete_expired`` are final at Stripe, so
they end the ownership and the line's default comes back. A subscription that never granted
(``incomplete``) creates nothing, so an unpaid checkout never displaces what the customer has.

Item quantities refill from the ownership's ``anchor`` by calendar (entitlements/ledger/).
The anchor is the subscription's billing cycle anchor, or, while that lies ahead (a trial), the
trial's start. When Stripe moves it (a trial converts, an interval change restarts the cycle),
the ownership is re-anchored: quantities granted for the old cycle expire at the new anchor
and the new cycle's first period is granted, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog, Product
from plangate.domain.intervals import period_index
from plangate.gateways.base import GatewayNotFound, StripeDict
from plangate.gateways.stripe_client import (
    META_PRICE_ID,
    META_PRICE_PRICE_ID,
    META_PRICE_PRODUCT_ID,
    META_PRODUCT_ID,
    held_until_renewal,
    scheduled_change,
)
from plangate.services.entitlements import ledger
from plangate.services.entitlements.customers import CustomerRef, lock_customer
from plangate.services.entitlements.ownership import (
    GRANTING_STATUSES,
    acquire_product,
    end_ownership,
    grants_access,
    live_ownerships,
    product_of,
    settle_customer,
)
from plangate.services.events import facts
from plangate.services.stripe_sync import conflicts, duplicates
from plangate.services.stripe_sync.batch import fetch_locked
from plangate.services.stripe_sync.subscription_discounts import recurring_discounts
from plangate.services.stripe_sync.sync import (
    NOTHING,
    Outcome,
    SyncContext,
    SyncError,
    catalog_for,
    lock_object,
    product_in,
    resolve_customer,
)
from plangate.store.models import Ownership

ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})
LOOKUP_KEY_PREFIX = "plangate:"


def _at(timestamp: Any) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), UTC) if timestamp is not None else None


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def parse_lookup_key(key: Any) -> tuple[str, str] | None:
    """``plangate:<product>:<price>:<currency>`` → (product id, price id)."""
    if not isinstance(key, str) or not key.startswith(LOOKUP_KEY_PREFIX):
        return None
    parts = key.split(":")
    return (parts[1], parts[2]) if len(parts) == 4 and parts[1] and parts[2] else None


@dataclass(frozen=True)
class SubscriptionState:
    """What plangate keeps of a subscription, read from Stripe's object."""

    status: str
    product_id: str | None
    price_id: str | None
    quantity: int
    anchor: datetime
    period_start: datetime | None
    period_end: datetime | None
    cancel_at_period_end: bool
    trial_end: datetime | None
    # What the subscription switches to at the period end (its schedule's next phase, or the
    # older metadata form): {to_product_id, price_id, effective_at (unix seconds)}.
    scheduled_change: dict[str, Any] | None = None
    discounts: list[dict[str, Any]] | None = None  # subscription_discounts


def read_subscription(sub: StripeDict) -> SubscriptionState:
    items = (sub.get("items") or {}).get("data") or []
    product_id = price_id = None
    chosen: StripeDict | None = items[0] if items else None
    held = held_until_renewal(sub)
    if held is not None:
        # A downgrade in the older metadata form waits for the period end: the item has the
        # new price already, but the old product is paid for until then. (A downgrade in a
        # schedule leaves the item's price alone until then: nothing special to do.)
        product_id, price_id = held
    else:
        # The price says what is billed now: a switch (API or Stripe's portal) changes the
        # price, not the metadata written at checkout, so the price wins over the metadata.
        for item in items:
            price = item.get("price") if isinstance(item.get("price"), dict) else {}
            parsed = parse_lookup_key(price.get("lookup_key")) or _from_price_metadata(
                price.get("metadata")
            )
            if parsed is not None:
                (product_id, price_id), chosen = parsed, item
                break
    if product_id is None:
        parsed = _from_metadata(sub.get("metadata"))
        if parsed is not None:
            product_id, price_id = parsed
    item = chosen or {}
    period_start = _at(item.get("current_period_start"))
    period_end = _at(item.get("current_period_end"))
    anchor = _at(sub.get("billing_cycle_anchor")) or _at(sub.get("start_date"))
    assert anchor is not None, "a subscription always has a billing cycle anchor"
    if period_start is not None and anchor > period_start:
        # In a trial, the cycle is anchored at the trial's end; quantities start with it.
        anchor = period_start
    cancel_at = _at(sub.get("cancel_at"))
    return SubscriptionState(
        status=str(sub.get("status")),
        product_id=product_id,
        price_id=price_id,
        quantity=int(item.get("quantity") or 1),
        anchor=anchor,
        period_start=period_start,
        period_end=period_end,
        cancel_at_period_end=bool(sub.get("cancel_at_period_end"))
        or (cancel_at is not None and period_end is not None and cancel_at <= period_end),
        trial_end=_at(sub.get("trial_end")),
        scheduled_change=scheduled_change(sub),
        discounts=recurring_discounts(sub),
    )


def _from_price_metadata(metadata: Any) -> tuple[str, str | None] | None:
    """Prices ``plangate catalog push`` made say which catalog price they are, even after
    their lookup key moved on to a newer price."""
    if isinstance(metadata, dict) and isinstance(metadata.get(META_PRICE_PRODUCT_ID), str):
        price = metadata.get(META_PRICE_PRICE_ID)
        return metadata[META_PRICE_PRODUCT_ID], price if isinstance(price, str) else None
    return None


def _from_metadata(metadata: Any) -> tuple[str, str | None] | None:
    if isinstance(metadata, dict) and isinstance(metadata.get(META_PRODUCT_ID), str):
        price = metadata.get(META_PRICE_ID)
        return metadata[META_PRODUCT_ID], price if isinstance(price, str) else None
    return None


# --- the handler -------------------------------------------------------------------------------


def sync_subscription(ctx: SyncContext, subscription_id: str) -> Outcome:
    outcome, pending = _sync_subscription(ctx, subscription_id)
    if pending:
        # The conflict is committed first: a crash before Stripe is told leaves it pending,
        # and the next sync of the subscription (or the reconciler) resolves it.
        resolved = duplicates.resolve_duplicate(ctx, subscription_id)
        return Outcome(changed=outcome.changed or resolved.changed)
    return outcome


def _sync_subscription(ctx: SyncContext, subscription_id: str) -> tuple[Outcome, bool]:
    """The sync, and whether a duplicate subscription waits to be resolved at Stripe."""
    now = ctx.clock.now()
    # Unit of work: the subscription's lock, the fetch, the ownership write and the customer's
    # settlement commit together.
    with ctx.db.write() as session:
        row = lock_object(session, subscription_id, now)
        try:
            sub = fetch_locked(ctx.batch, row, ctx.gateway.retrieve_subscription)
        except GatewayNotFound:
            return _end_vanished(ctx, session, subscription_id, now), False
        ref = resolve_customer(
            session, ctx.gateway, _id(sub.get("customer")), sub.get("metadata"), now
        )
        if ref is None:
            return Outcome(ignored="the subscription's customer is not plangate's"), False
        bought, active = catalog_for(ctx, session, sub.get("metadata"))
        state = read_subscription(sub)
        found = product_in(bought, active, state.product_id) if state.product_id else None
        if found is None and state.status not in ENDED_STATUSES | GRANTING_STATUSES:
            raise SyncError(
                f"subscription {subscription_id} is for product {state.product_id!r}, "
                "which no catalog version has; apply the catalog that sells it"
            )
        lock_customer(session, ref, now)
        outcome = None
        if state.status in GRANTING_STATUSES:
            outcome = conflicts.refuse_if_invalid(
                session,
                ctx.gateway,
                ref,
                active,
                subscription_id,
                state.product_id,
                found,
                conflicts.sold_by_plangate(sub.get("metadata")),
                now,
            )
        if outcome is None:
            outcome = apply_subscription(session, ref, active, subscription_id, state, found, now)
        # Pending whatever the status: a crash after Stripe canceled the duplicate but before
        # the resolution committed leaves it pending, and the canceled subscription's sync
        # (its deletion event) finishes it.
        return outcome, conflicts.has_pending(session, subscription_id)


def apply_subscription(
    session: Session,
    ref: CustomerRef,
    catalog: Catalog,
    subscription_id: str,
    state: SubscriptionState,
    found: tuple[Product, str] | None,
    now: datetime,
) -> Outcome:
    """Writes ``state`` onto the subscription's ownership. The caller holds the locks."""
    conflicts.clear_conflicts(session, subscription_id, now)
    live = [o for o in live_ownerships(session, ref) if o.stripe_subscription_id == subscription_id]
    if state.status in ENDED_STATUSES or found is None:
        for owned in live:
            owned.status = state.status
            owned.cancel_at_period_end = state.cancel_at_period_end
            reason = "canceled" if state.status == "canceled" else "expired"
            end_ownership(session, owned, now, reason)
        if state.status == "incomplete_expired" and found is not None:
            _abandoned(session, ref, subscription_id, state, found, now)
        settle_customer(session, ref, catalog, now)
        return Outcome(changed=bool(live))
    product, version = found
    current: Ownership | None = None
    changed = False
    for owned in live:
        if owned.product_id == product.id and current is None:
            current = owned
        else:
            # A switch to another product: the old holding ends, the new one starts below.
            end_ownership(session, owned, now, "switched")
            changed = True
    if current is None:
        if state.status not in GRANTING_STATUSES:
            settle_customer(session, ref, catalog, now)
            return Outcome(changed=changed)
        acquire_product(
            session,
            ref,
            catalog,
            product,
            now,
            source="subscription",
            quantity=state.quantity,
            catalog_version=version,
            granted_periods=_periods_before_current(product, state.anchor, now),
            **_fields(state),
            stripe_subscription_id=subscription_id,
        )
        return Outcome(changed=True)
    changed = _update(session, current, state, now) or changed
    settle_customer(session, ref, catalog, now)
    return Outcome(changed=changed)


def _abandoned(session: Session, ref: CustomerRef, subscription_id: str,
               state: SubscriptionState, found: tuple[Product, str], now: datetime) -> None:
    """The first payment never completed: the item the customer would have held is reported
    (``subscriptionItem.abandoned``); it is not written, plangate never held it."""
    product, version = found
    facts.subscription_abandoned(session, Ownership(
        customer_type=ref.type, customer_id=ref.id, product_id=product.id,
        product=product.to_dict(), catalog_version=version, line_id=product.line,
        quantity=state.quantity, source="subscription", stripe_subscription_id=subscription_id,
        created_at=now, ended_at=now, end_reason="expired", **_fields(state),
    ), now)


def _fields(state: SubscriptionState) -> dict[str, Any]:
    return {
        "status": state.status,
        "price_id": state.price_id,
        "anchor": state.anchor,
        "current_period_start": state.period_start,
        "current_period_end": state.period_end,
        "cancel_at_period_end": state.cancel_at_period_end,
        "trial_end": state.trial_end,
        "scheduled_change": state.scheduled_change,
        "discounts": state.discounts,
    }


def _observed(owned: Ownership) -> tuple[Any, ...]:
    return (
        owned.status,
        owned.price_id,
        owned.quantity,
        owned.anchor,
        owned.current_period_start,
        owned.current_period_end,
        owned.cancel_at_period_end,
        owned.trial_end,
        owned.scheduled_change,
        owned.discounts,
    )


def _update(session: Session, owned: Ownership, state: SubscriptionState, now: datetime) -> bool:
    before = _observed(owned)
    was_granting = grants_access(owned)
    before_status, before_cancel = owned.status, owned.cancel_at_period_end
    if state.anchor != owned.anchor:
        _reanchor(session, owned, state.anchor, now)
    for name, value in _fields(state).items():
        setattr(owned, name, value)
    owned.quantity = state.quantity
    granting = grants_access(owned)
    if was_granting and not granting:
        # Unpaid or paused: the plan's quantities stop with the access, as on an end.
        ledger.end_with_ownership(session, owned, now)
    elif granting and not was_granting:
        _grant_current_period_again(owned, now)
    facts.subscription_item_changed(session, owned, before_status, before_cancel, now)
    return _observed(owned) != before


def _periods_before_current(product: Product, anchor: datetime, now: datetime) -> dict[str, int]:
    """Marks every period before the current one as granted: a subscription first seen
    mid-cycle (a reconciled one, a switch) gets this period's quantities, not a backlog."""
    periods: dict[str, int] = {}
    for item_id, grant in product.items.items():
        if grant.repeat is not None:
            index = period_index(anchor, grant.repeat, now)
            if index > 0:
                periods[item_id] = index - 1
    return periods


def _grant_current_period_again(owned: Ownership, now: datetime) -> None:
    """Access came back (paid after ``unpaid``, resumed after ``paused``): the quantities that
    stopped with it are granted for the current period."""
    periods = dict(owned.granted_periods)
    for item_id, grant in product_of(owned).items.items():
        if grant.expires == "never":
            continue  # those lots never stopped
        if grant.repeat is None:
            periods.pop(item_id, None)
        else:
            periods[item_id] = max(period_index(owned.anchor, grant.repeat, now) - 1, -1)
    owned.granted_periods = periods


def _reanchor(session: Session, owned: Ownership, anchor: datetime, now: datetime) -> None:
    """Moves the refill schedule to Stripe's new cycle: what the old cycle granted for a
    period expires when the new cycle starts, and the new cycle's current period is granted."""
    periods = dict(owned.granted_periods)
    repeating = False
    for item_id, grant in product_of(owned).items.items():
        if grant.repeat is not None:
            repeating = True
            periods[item_id] = max(period_index(anchor, grant.repeat, now) - 1, -1)
    owned.granted_periods = periods
    owned.anchor = anchor
    if repeating:
        ledger.reanchor(session, owned, anchor, now)


def _end_vanished(
    ctx: SyncContext, session: Session, subscription_id: str, now: datetime
) -> Outcome:
    """Stripe no longer knows the subscription (deleted with its customer or test clock)."""
    owned = list(
        session.scalars(
            select(Ownership).where(
                Ownership.stripe_subscription_id == subscription_id,
                Ownership.ended_at.is_(None),
            )
        )
    )
    if not owned:
        return NOTHING
    catalog = ctx.catalogs.active(session)
    for ownership in owned:
        ref = CustomerRef(ownership.customer_type, ownership.customer_id)
        lock_customer(session, ref, now)
        end_ownership(session, ownership, now, "subscription_deleted")
        settle_customer(session, ref, catalog, now)
    return Outcome(changed=True)
