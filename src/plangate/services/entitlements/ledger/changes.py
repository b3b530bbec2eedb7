"""Changes the app makes (add, remove) and the ones ownership changes cause (lots that end
with an ownership, a refill schedule moved to a new anchor, balances made due)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from plangate.errors import InvalidRequest
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ledger.entries import (
    MAX_QUANTITY,
    entry_with_key,
    insufficient,
    key_reused,
    record,
)
from plangate.services.entitlements.ledger.fast import Consumed
from plangate.services.entitlements.ledger.settlement import add_lot, lock_item, take
from plangate.services.events import facts
from plangate.store.models import ItemBalance, ItemLot, Ownership


def refuse(
    session: Session,
    ref: CustomerRef,
    item_id: str,
    quantity: int,
    now: datetime,
    *,
    description: str | None,
    idempotency_key: str,
) -> Consumed:
    """Records that a keyed consumption was refused, for the balance there is: an entry of
    kind ``refused`` with delta 0 that its retries replay (the fast path's key lookup finds
    it). The caller holds the customer lock and found the balance short after settling;
    nothing raises it meanwhile, and the item's row lock orders the entry among the fast
    path's. A same-key entry that committed first makes the flush raise ``IntegrityError``,
    with the transaction undone: run the unit of work again to replay that one. An item the
    customer never held gets no balance row for it: its balance is 0."""
    row = session.execute(
        select(ItemBalance)
        .where(ItemBalance.customer_type == ref.type, ItemBalance.customer_id == ref.id,
               ItemBalance.item_id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    balance = row.balance if row is not None else 0
    record(
        session, ref, item_id, 0, balance, "refused", now,
        description=description, idempotency_key=idempotency_key, refused_quantity=quantity,
    )
    session.flush()
    return Consumed(balance, refused=True)


def change(
    session: Session,
    ref: CustomerRef,
    item_id: str,
    delta: int,
    now: datetime,
    *,
    expires_at: datetime | None = None,
    allow_negative: bool = False,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> int:
    """Adds (delta > 0) or removes (delta < 0) a quantity on an item settled to ``now`` in
    this transaction (the customer locked). Returns the new balance."""
    if delta == 0:
        raise InvalidRequest("delta_invalid", "delta must not be zero", param="delta")
    if abs(delta) > MAX_QUANTITY:
        raise InvalidRequest(
            "delta_invalid", f"|delta| must be at most {MAX_QUANTITY}", param="delta"
        )
    if delta > 0 and expires_at is not None and expires_at <= now:
        raise InvalidRequest(
            "expires_at_invalid", "expires_at must be in the future", param="expires_at"
        )
    if delta < 0 and expires_at is not None:
        raise InvalidRequest("expires_at_invalid", "only additions can expire", param="expires_at")
    state = lock_item(session, ref, item_id, now)
    row = state.row
    if idempotency_key is not None:
        earlier = entry_with_key(session, ref, item_id, idempotency_key)
        # A consumption used the key (they share the unique index). An earlier change with it
        # is left to the index: the API's idempotency layer then replays that change's answer.
        if earlier is not None and earlier.kind != "change":
            raise key_reused()
    if delta > 0:
        add_lot(session, state, delta, now, expires_at)
        if expires_at is not None and expires_at < row.settle_at:
            row.settle_at = expires_at
    else:
        if not allow_negative and row.balance < -delta:
            raise insufficient(ref, item_id, row.balance, -delta)
        take(state, -delta)
    before = row.balance
    row.balance += delta
    row.updated_at = now
    if before > 0 >= row.balance:
        facts.item_depleted(session, ref.type, ref.id, item_id, row.balance, now)
    record(
        session,
        ref,
        item_id,
        delta,
        row.balance,
        "change",
        now,
        description=description,
        expires_at=expires_at,
        idempotency_key=idempotency_key,
    )
    return row.balance


def mark_due(session: Session, ref: CustomerRef, at: datetime) -> None:
    """Makes every balance of the customer due for settlement at ``at`` (or earlier, as it
    was): reads and the fast path then stop trusting the row and settle first."""
    session.execute(
        update(ItemBalance)
        .where(
            ItemBalance.customer_type == ref.type,
            ItemBalance.customer_id == ref.id,
            ItemBalance.settle_at > at,
        )
        .values(settle_at=at)
        .execution_options(synchronize_session="fetch")
    )


def _ownership_ref(ownership: Ownership) -> CustomerRef:
    return CustomerRef(ownership.customer_type, ownership.customer_id)


def end_with_ownership(session: Session, ownership: Ownership, at: datetime) -> None:
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
    mark_due(session, _ownership_ref(ownership), at)


def reanchor(session: Session, ownership: Ownership, anchor: datetime, now: datetime) -> None:
    """The ownership's refill schedule moved to ``anchor``: what the old schedule granted
    with an expiry expires at the new anchor at the latest, settled from ``min(anchor, now)``."""
    session.execute(
        update(ItemLot)
        .where(
            ItemLot.ownership_id == ownership.id,
            ItemLot.closed.is_(False),
            ItemLot.expires_at.is_not(None),
            ItemLot.expires_at > anchor,
        )
        .values(expires_at=anchor)
        .execution_options(synchronize_session="fetch")
    )
    mark_due(session, _ownership_ref(ownership), min(anchor, now))
