"""The item ledger: balances that never overspend.

Every change of a quantity is an append-only :class:`LedgerEntry`. Behind it, quantities are
kept as lots (what one grant gave, with its expiry), consumed soonest-expiring first; a
customer may owe (``debt``) when a change allowed a negative balance, and later grants pay
the debt first.

Two paths keep this both correct and fast:

* The fast path: a consumption that needs no settlement is one conditional ``UPDATE`` of the
  balance row (``balance >= n AND settle_at > now``) plus the ledger insert. The database makes
  the check-and-decrement atomic, so concurrent consumers can never take the balance below
  zero. What it took is added to ``pending_consumption``.
* Settlement: when a refill or expiry is due (``settle_at <= now``), or for any grant, the
  customer's row is locked and events are applied in time order: first the pending
  consumption is spread over the open lots (all of it happened before any due event, because
  the fast path refuses to run past ``settle_at``), then expiries and refills as they fell due.
  Spreading the pending consumption late gives the same lots as spreading each consumption at
  once, because between two settlements no lot is added and none expires.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, bindparam, or_, select, text, update
from sqlalchemy.orm import Session

from plangate.domain.catalog import ItemGrant, Product
from plangate.domain.intervals import add_intervals, period_index
from plangate.errors import Conflict, InvalidRequest
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.models import ItemBalance, ItemLot, LedgerEntry, Ownership
from plangate.store.types import UTCDateTime

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
MAX_QUANTITY = 10**15


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
class _ItemState:
    """One item of one customer while it is being settled."""

    row: ItemBalance
    lots: list[ItemLot] = field(default_factory=list)


def validate_quantity(quantity: int, param: str = "quantity") -> None:
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise InvalidRequest(
            "quantity_invalid", f"{param} must be between 1 and {MAX_QUANTITY}", param=param
        )


def _entry(
    session: Session,
    ref: CustomerRef,
    item_id: str,
    delta: int,
    balance_after: int,
    kind: str,
    at: datetime,
    *,
    description: str | None = None,
    expires_at: datetime | None = None,
    ownership_id: int | None = None,
    idempotency_key: str | None = None,
) -> None:
    session.add(
        LedgerEntry(
            customer_type=ref.type,
            customer_id=ref.id,
            item_id=item_id,
            delta=delta,
            balance_after=balance_after,
            kind=kind,
            description=description,
            expires_at=expires_at,
            ownership_id=ownership_id,
            idempotency_key=idempotency_key,
            created_at=at,
        )
    )


# --- the fast path -------------------------------------------------------------------------

_CONSUME_PARAMS = (
    bindparam("now", type_=UTCDateTime()),
    bindparam("quantity", type_=BigInteger()),
)

# PostgreSQL: the conditional decrement and its ledger entry in one statement, so that without
# an Idempotency-Key a consumption is one round trip and its own transaction.
_CONSUME_PG = text(
    """
    WITH consumed AS (
        UPDATE item_balances
           SET balance = balance - :quantity,
               pending_consumption = pending_consumption + :quantity,
               updated_at = :now
         WHERE customer_type = :customer_type AND customer_id = :customer_id
           AND item_id = :item_id AND balance >= :quantity AND settle_at > :now
        RETURNING balance)
    INSERT INTO ledger_entries (customer_type, customer_id, item_id, delta, balance_after, kind,
                                description, idempotency_key, created_at)
    SELECT :customer_type, :customer_id, :item_id, -:quantity, balance, 'consume',
           :description, :idempotency_key, :now
      FROM consumed
    RETURNING balance_after
    """
).bindparams(*_CONSUME_PARAMS)

_DECREMENT = text(
    """
    UPDATE item_balances
       SET balance = balance - :quantity,
           pending_consumption = pending_consumption + :quantity,
           updated_at = :now
     WHERE customer_type = :customer_type AND customer_id = :customer_id
       AND item_id = :item_id AND balance >= :quantity AND settle_at > :now
    RETURNING balance
    """
).bindparams(*_CONSUME_PARAMS)

_RECORD = text(
    """
    INSERT INTO ledger_entries (customer_type, customer_id, item_id, delta, balance_after, kind,
                                description, idempotency_key, created_at)
    VALUES (:customer_type, :customer_id, :item_id, -:quantity, :balance, 'consume',
            :description, :idempotency_key, :now)
    """
).bindparams(*_CONSUME_PARAMS)


def consume_fast(
    conn: Connection,
    ref: CustomerRef,
    item_id: str,
    quantity: int,
    now: datetime,
    *,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> int | None:
    """Consumes with one conditional update when no settlement is due. Returns the new
    balance, or None when the fast path cannot decide (not enough, or settlement due).

    The database makes the check-and-decrement atomic: concurrent consumers can never take
    the balance below zero. On PostgreSQL, an UPDATE that waited for a concurrent writer and
    then found the row no longer qualifies keeps the row locked until its transaction ends;
    so callers either run this as its own statement-transaction, or hold the customer lock
    first (the order settlement uses), never the other way round.
    """
    params = {
        "customer_type": ref.type,
        "customer_id": ref.id,
        "item_id": item_id,
        "quantity": quantity,
        "now": now,
        "description": description,
        "idempotency_key": idempotency_key,
    }
    if conn.dialect.name == "postgresql":
        balance = conn.execute(_CONSUME_PG, params).scalar_one_or_none()
        return None if balance is None else int(balance)
    return _consume_sqlite(conn, params)


def _consume_sqlite(conn: Connection, params: dict[str, Any]) -> int | None:
    balance = conn.execute(_DECREMENT, params).scalar_one_or_none()
    if balance is None:
        return None
    conn.execute(_RECORD, {**params, "balance": balance})
    return int(balance)


# The same statement for a bare psycopg connection in autocommit (the hot path).
_CONSUME_PG_DRIVER = (
    _CONSUME_PG.text.replace(":quantity", "%(quantity)s")
    .replace(":now", "%(now)s")
    .replace(":customer_type", "%(customer_type)s")
    .replace(":customer_id", "%(customer_id)s")
    .replace(":item_id", "%(item_id)s")
    .replace(":description", "%(description)s")
    .replace(":idempotency_key", "%(idempotency_key)s")
)


def consume_fast_driver(
    driver_conn: Any,
    ref: CustomerRef,
    item_id: str,
    quantity: int,
    now: datetime,
    *,
    description: str | None = None,
) -> int | None:
    """:func:`consume_fast` on a psycopg connection in autocommit: one round trip, and the
    statement is its own transaction, so a refused consumption holds no lock afterwards."""
    row = driver_conn.execute(
        _CONSUME_PG_DRIVER,
        {
            "customer_type": ref.type,
            "customer_id": ref.id,
            "item_id": item_id,
            "quantity": quantity,
            "now": now,
            "description": description,
            "idempotency_key": None,
        },
    ).fetchone()
    return None if row is None else int(row[0])


# --- settlement ----------------------------------------------------------------------------


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


def load_item(session: Session, ref: CustomerRef, item_id: str, now: datetime) -> _ItemState:
    row = session.get(ItemBalance, (ref.type, ref.id, item_id))
    if row is None:
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
    return _ItemState(row, lots)


def _take(state: _ItemState, quantity: int) -> None:
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


def _add_lot(
    session: Session,
    state: _ItemState,
    quantity: int,
    at: datetime,
    expires_at: datetime | None,
    *,
    ownership_id: int | None = None,
    ends_with_ownership: bool = False,
) -> ItemLot:
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


def settle_item(
    session: Session,
    ref: CustomerRef,
    item_id: str,
    granting: list[Ownership],
    now: datetime,
) -> _ItemState:
    """Applies everything due for one item up to ``now``. The caller holds the customer lock."""
    state = load_item(session, ref, item_id, now)
    row = state.row
    if row.pending_consumption:
        _take(state, row.pending_consumption)
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
            lot = event.lot
            if lot.closed:
                continue
            lot.closed = True
            state.lots.remove(lot)
            if lot.remaining:
                row.balance -= lot.remaining
                _entry(
                    session,
                    ref,
                    item_id,
                    -lot.remaining,
                    row.balance,
                    "expire",
                    event.at,
                    ownership_id=lot.ownership_id,
                )
                lot.remaining = 0
            continue
        ownership, grant = event.ownership, event.grant
        assert ownership is not None and grant is not None
        quantity = grant.quantity * ownership.quantity
        expires_at = _lot_expiry(grant, ownership, event.period)
        periods = dict(ownership.granted_periods)
        periods[item_id] = event.period
        ownership.granted_periods = periods
        if quantity == 0:
            continue
        lot = _add_lot(
            session,
            state,
            quantity,
            event.at,
            expires_at,
            ownership_id=ownership.id,
            ends_with_ownership=grant.expires != "never",
        )
        row.balance += quantity
        _entry(
            session,
            ref,
            item_id,
            quantity,
            row.balance,
            "grant" if event.period == 0 else "refill",
            event.at,
            expires_at=expires_at,
            ownership_id=ownership.id,
        )
        if expires_at is not None and expires_at <= now and not lot.closed:
            seq[0] += 1
            heapq.heappush(events, _Event(expires_at, 0, seq[0], lot=lot))
    expiries = [lot.expires_at for lot in state.lots if lot.expires_at is not None]
    refill = next_refill_at(granting, item_id, now)
    row.settle_at = min([*expiries, *([refill] if refill else []), FAR_FUTURE])
    row.updated_at = now
    return state


def end_ownership_lots(session: Session, ownership: Ownership, at: datetime) -> None:
    """Plan quantities stop with the ownership: their lots expire when it ends."""
    session.execute(
        update(ItemLot)
        .where(
            ItemLot.ownership_id == ownership.id,
            ItemLot.ends_with_ownership.is_(True),
            ItemLot.closed.is_(False),
            or_(ItemLot.expires_at.is_(None), ItemLot.expires_at > at),
        )
        .values(expires_at=at)
        .execution_options(synchronize_session="fetch")
    )
    # The balance rows must be settled at ``at`` so the expiry is applied.
    session.execute(
        update(ItemBalance)
        .where(
            ItemBalance.customer_type == ownership.customer_type,
            ItemBalance.customer_id == ownership.customer_id,
            ItemBalance.settle_at > at,
        )
        .values(settle_at=at)
        .execution_options(synchronize_session="fetch")
    )


# --- changes made by the app ---------------------------------------------------------------


def apply_change(
    session: Session,
    ref: CustomerRef,
    state: _ItemState,
    delta: int,
    now: datetime,
    *,
    expires_at: datetime | None = None,
    allow_negative: bool = False,
    kind: str = "change",
    description: str | None = None,
    idempotency_key: str | None = None,
) -> int:
    """Adds (delta > 0) or removes (delta < 0) a quantity on a settled item."""
    row = state.row
    if delta == 0:
        raise InvalidRequest("delta_invalid", "delta must not be zero", param="delta")
    if abs(delta) > MAX_QUANTITY:
        raise InvalidRequest(
            "delta_invalid", f"|delta| must be at most {MAX_QUANTITY}", param="delta"
        )
    if delta > 0:
        if expires_at is not None and expires_at <= now:
            raise InvalidRequest(
                "expires_at_invalid", "expires_at must be in the future", param="expires_at"
            )
        _add_lot(session, state, delta, now, expires_at)
        if expires_at is not None and expires_at < row.settle_at:
            row.settle_at = expires_at
    else:
        if expires_at is not None:
            raise InvalidRequest(
                "expires_at_invalid", "only additions can expire", param="expires_at"
            )
        if not allow_negative and row.balance < -delta:
            raise insufficient(ref, state.row.item_id, row.balance, -delta)
        _take(state, -delta)
    row.balance += delta
    row.updated_at = now
    _entry(
        session,
        ref,
        row.item_id,
        delta,
        row.balance,
        kind,
        now,
        description=description,
        expires_at=expires_at,
        idempotency_key=idempotency_key,
    )
    return row.balance


def insufficient(ref: CustomerRef, item_id: str, balance: int, wanted: int) -> Conflict:
    return Conflict(
        "insufficient_quantity",
        f"{ref} has {max(balance, 0)} {item_id}, {wanted} were asked for; nothing was consumed",
        param="quantity",
        item_id=item_id,
        quantity=balance,
    )
