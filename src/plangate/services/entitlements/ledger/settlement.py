"""Settlement: applying what fell due (grants, refills, expiries) and spreading what the fast
path took over the lots. Runs with the customer locked, and locks each balance row it reads
(the lock order: ledger/__init__.py)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.domain.catalog import ItemGrant, Product
from plangate.domain.intervals import add_intervals, period_index
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ledger.entries import FAR_FUTURE, record
from plangate.store.models import ItemBalance, ItemLot, Ownership


@dataclass
class _Event:
    at: datetime
    order: int  # expiries (0) before grants (1) at the same instant
    seq: int
    lot: ItemLot | None = None
    ownership: Ownership | None = None
    period: int = 0
    grant: ItemGrant | None = None

    def __lt__(self, other: _Event) -> bool:
        return (self.at, self.order, self.seq) < (other.at, other.order, other.seq)


@dataclass
class ItemState:
    """One item of one customer, its balance row locked, while it is being changed."""

    row: ItemBalance
    lots: list[ItemLot] = field(default_factory=list)


def lock_item(session: Session, ref: CustomerRef, item_id: str, now: datetime) -> ItemState:
    """The item's balance row, locked until the transaction ends, and its open lots.

    The lock is what makes settlement safe next to the fast path, which takes no customer
    lock: without it a consumption committed between this read and the write-back would be
    counted in the balance but never reach the lots. ``populate_existing`` because a row the
    session read earlier, unlocked, may be stale by now. On SQLite ``FOR UPDATE`` is not
    rendered: the write transaction's ``BEGIN IMMEDIATE`` already excludes every other writer.
    """
    row = session.execute(
        select(ItemBalance)
        .where(
            ItemBalance.customer_type == ref.type,
            ItemBalance.customer_id == ref.id,
            ItemBalance.item_id == item_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        # Safe to create: every writer of a new row holds the customer lock.
        row = ItemBalance(
            customer_type=ref.type,
            customer_id=ref.id,
            item_id=item_id,
            balance=0,
            debt=0,
            pending_consumption=0,
            settle_at=FAR_FUTURE,
            updated_at=now,
        )
        session.add(row)
    lots = list(
        session.scalars(
            select(ItemLot)
            .where(
                ItemLot.customer_type == ref.type,
                ItemLot.customer_id == ref.id,
                ItemLot.item_id == item_id,
                ItemLot.closed.is_(False),
            )
            .order_by(ItemLot.id)
        )
    )
    return ItemState(row, lots)


def take(state: ItemState, quantity: int) -> None:
    """Takes ``quantity`` from the open lots, soonest-expiring first; the rest becomes debt."""
    for lot in sorted(state.lots, key=lambda lot: (lot.expires_at or FAR_FUTURE, lot.id)):
        if quantity == 0:
            break
        taken = min(lot.remaining, quantity)
        lot.remaining -= taken
        quantity -= taken
        if lot.remaining == 0:
            lot.closed = True
    state.lots = [lot for lot in state.lots if not lot.closed]
    state.row.debt += quantity


def add_lot(
    session: Session,
    state: ItemState,
    quantity: int,
    at: datetime,
    expires_at: datetime | None,
    *,
    ownership_id: int | None = None,
    ends_with_ownership: bool = False,
) -> ItemLot:
    """A new lot; what the customer owes is paid from it first."""
    paid = min(state.row.debt, quantity)
    state.row.debt -= paid
    lot = ItemLot(
        customer_type=state.row.customer_type,
        customer_id=state.row.customer_id,
        item_id=state.row.item_id,
        quantity=quantity,
        remaining=quantity - paid,
        granted_at=at,
        expires_at=expires_at,
        ownership_id=ownership_id,
        ends_with_ownership=ends_with_ownership,
        closed=quantity == paid,
    )
    session.add(lot)
    if not lot.closed:
        state.lots.append(lot)
    return lot


def _grants_of(ownership: Ownership) -> Mapping[str, ItemGrant]:
    return Product.from_dict(ownership.product).items


def _due_grant_events(
    ownerships: Iterable[Ownership], item_id: str, now: datetime, seq: list[int]
) -> list[_Event]:
    events = []
    for ownership in ownerships:
        grant = _grants_of(ownership).get(item_id)
        if grant is None:
            continue
        last = int(ownership.granted_periods.get(item_id, -1))
        current = 0 if grant.repeat is None else period_index(ownership.anchor, grant.repeat, now)
        for period in range(last + 1, current + 1):
            at = (
                ownership.anchor
                if grant.repeat is None
                else add_intervals(ownership.anchor, grant.repeat, period)
            )
            seq[0] += 1
            events.append(_Event(at, 1, seq[0], ownership=ownership, period=period, grant=grant))
    return events


def next_refill_at(ownerships: Iterable[Ownership], item_id: str, now: datetime) -> datetime | None:
    """When the next repeating grant of ``item_id`` falls due, among ``ownerships``."""
    soonest: datetime | None = None
    for ownership in ownerships:
        grant = _grants_of(ownership).get(item_id)
        if grant is None or grant.repeat is None:
            continue
        at = add_intervals(
            ownership.anchor, grant.repeat, period_index(ownership.anchor, grant.repeat, now) + 1
        )
        soonest = at if soonest is None or at < soonest else soonest
    return soonest


def _lot_expiry(grant: ItemGrant, ownership: Ownership, period: int) -> datetime | None:
    if grant.expires == "when_repeated" and grant.repeat is not None:
        return add_intervals(ownership.anchor, grant.repeat, period + 1)
    return None


def _expire(
    session: Session, ref: CustomerRef, state: ItemState, lot: ItemLot, at: datetime
) -> None:
    lot.closed = True
    state.lots.remove(lot)
    if lot.remaining:
        state.row.balance -= lot.remaining
        record(
            session,
            ref,
            state.row.item_id,
            -lot.remaining,
            state.row.balance,
            "expire",
            at,
            ownership_id=lot.ownership_id,
        )
        lot.remaining = 0


def _grant(session: Session, ref: CustomerRef, state: ItemState, event: _Event) -> ItemLot | None:
    ownership, grant, item_id = event.ownership, event.grant, state.row.item_id
    assert ownership is not None and grant is not None
    quantity = grant.quantity * ownership.quantity
    expires_at = _lot_expiry(grant, ownership, event.period)
    periods = dict(ownership.granted_periods)
    periods[item_id] = event.period
    ownership.granted_periods = periods
    if quantity == 0:
        return None
    lot = add_lot(
        session,
        state,
        quantity,
        event.at,
        expires_at,
        ownership_id=ownership.id,
        ends_with_ownership=grant.expires != "never",
    )
    state.row.balance += quantity
    record(
        session,
        ref,
        item_id,
        quantity,
        state.row.balance,
        "grant" if event.period == 0 else "refill",
        event.at,
        expires_at=expires_at,
        ownership_id=ownership.id,
    )
    return lot


def settle_item(
    session: Session,
    ref: CustomerRef,
    item_id: str,
    granting: list[Ownership],
    now: datetime,
) -> ItemState:
    """Applies everything due for one item up to ``now``. The caller holds the customer lock.

    Events are applied in time order: first the pending consumption is spread over the open
    lots (all of it happened before any due event, because the fast path refuses to run past
    ``settle_at``), then expiries and grants as they fell due.
    """
    state = lock_item(session, ref, item_id, now)
    row = state.row
    if row.pending_consumption:
        take(state, row.pending_consumption)
        row.pending_consumption = 0
    seq = [0]
    events: list[_Event] = []
    for lot in state.lots:
        if lot.expires_at is not None and lot.expires_at <= now:
            seq[0] += 1
            events.append(_Event(lot.expires_at, 0, seq[0], lot=lot))
    events.extend(_due_grant_events(granting, item_id, now, seq))
    heapq.heapify(events)
    while events:
        event = heapq.heappop(events)
        if event.lot is not None:
            if not event.lot.closed:
                _expire(session, ref, state, event.lot, event.at)
            continue
        granted = _grant(session, ref, state, event)
        # A lot granted in the past may itself have expired by now.
        expired_at = granted.expires_at if granted is not None and not granted.closed else None
        if expired_at is not None and expired_at <= now:
            seq[0] += 1
            heapq.heappush(events, _Event(expired_at, 0, seq[0], lot=granted))
    expiries = [lot.expires_at for lot in state.lots if lot.expires_at is not None]
    refill = next_refill_at(granting, item_id, now)
    row.settle_at = min([*expiries, *([refill] if refill else []), FAR_FUTURE])
    row.updated_at = now
    return state
