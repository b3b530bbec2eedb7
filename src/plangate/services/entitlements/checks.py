"""Answers to "may this customer do X right now?", and the item operations apps call.

``check`` reads one row by primary key: the customer's entitlement snapshot (features, plans)
or the item's balance row. Only when that row is missing or past due (a refill or expiry fell
due while nobody looked) does it settle the customer in a write transaction first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plangate.services.entitlements import ledger
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef, lock_customer
from plangate.services.entitlements.ownership import grants_access, product_of, settle_customer
from plangate.services.events import facts
from plangate.store.batching import BatchedReader
from plangate.store.db import Database
from plangate.store.models import EntitlementSnapshot, Ownership

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """What the entitlement operations need: the database, the catalogs, the time."""

    db: Database
    catalogs: CatalogCache


@dataclass(frozen=True)
class Snapshot:
    plans: frozenset[str]
    features: frozenset[str]


# The two hot reads, written for the drivers directly: SQLAlchemy's per-execution work would
# cost more than the lookup itself (tens of microseconds against a few). Each returns the key
# columns first, then the values; the key is bound as k0, k1, ... in the driver's style.
_SNAPSHOT_ONE = (
    "SELECT customer_type, customer_id, plans, features, valid_until FROM entitlement_snapshots"
    " WHERE customer_type = {0} AND customer_id = {1}"
)
_BALANCE_ONE = (
    "SELECT customer_type, customer_id, item_id, balance, settle_at FROM item_balances"
    " WHERE customer_type = {0} AND customer_id = {1} AND item_id = {2}"
)
# PostgreSQL only: many keys at once (store/batching.py).
_SNAPSHOT_BATCH_SQL = (
    "SELECT s.customer_type, s.customer_id, s.plans, s.features, s.valid_until"
    " FROM unnest(%(k0)s::text[], %(k1)s::text[]) AS k(customer_type, customer_id)"
    " JOIN entitlement_snapshots s"
    " ON s.customer_type = k.customer_type AND s.customer_id = k.customer_id"
)
_BALANCE_BATCH_SQL = (
    "SELECT b.customer_type, b.customer_id, b.item_id, b.balance, b.settle_at"
    " FROM unnest(%(k0)s::text[], %(k1)s::text[], %(k2)s::text[])"
    " AS k(customer_type, customer_id, item_id)"
    " JOIN item_balances b ON b.customer_type = k.customer_type"
    " AND b.customer_id = k.customer_id AND b.item_id = k.item_id"
)


def _render(template: str, width: int, *, sqlite: bool) -> str:
    return template.format(*((f":k{i}" if sqlite else f"%(k{i})s") for i in range(width)))


_ONE_SQL = {
    (table, sqlite): _render(template, width, sqlite=sqlite)
    for table, template, width in (("snapshot", _SNAPSHOT_ONE, 2), ("balance", _BALANCE_ONE, 3))
    for sqlite in (True, False)
}


def _hot_read(db: Database, table: str, key: tuple[str, ...]) -> tuple[Any, ...] | None:
    """One row by primary key on a pooled driver connection; the values after the key."""
    params = {f"k{i}": part for i, part in enumerate(key)}
    with db.driver_connection() as conn:
        row: tuple[Any, ...] | None = conn.execute(_ONE_SQL[table, db.is_sqlite], params).fetchone()
    return None if row is None else row[len(key) :]


class HotReads:
    """The two hot reads on the event loop. SQLite answers in microseconds from the same
    process, so it is read in place; on PostgreSQL concurrent reads are coalesced into one
    query per turn of the event loop (:class:`BatchedReader`) and awaited."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._snapshots = BatchedReader(db, _SNAPSHOT_BATCH_SQL, _ONE_SQL["snapshot", False], 2)
        self._balances = BatchedReader(db, _BALANCE_BATCH_SQL, _ONE_SQL["balance", False], 3)

    async def snapshot(self, ref: CustomerRef, now: datetime) -> Snapshot | None:
        if self.db.is_sqlite:
            return read_snapshot(self.db, ref, now)
        return _snapshot_of(await self._snapshots.get((ref.type, ref.id)), now)

    async def balance(self, ref: CustomerRef, item_id: str, now: datetime) -> int | None:
        if self.db.is_sqlite:
            return read_balance(self.db, ref, item_id, now)
        return _balance_of(await self._balances.get((ref.type, ref.id, item_id)), now)


def _instant(value: Any) -> datetime:
    """A stored instant as the driver returns it: aware from psycopg, naive text from SQLite."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _json_list(value: Any) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value)


def _snapshot_of(row: tuple[Any, ...] | None, now: datetime) -> Snapshot | None:
    if row is None or _instant(row[2]) <= now:
        return None
    return Snapshot(frozenset(_json_list(row[0])), frozenset(_json_list(row[1])))


def _balance_of(row: tuple[Any, ...] | None, now: datetime) -> int | None:
    if row is None or _instant(row[1]) <= now:
        return None
    return int(row[0])


def read_snapshot(db: Database, ref: CustomerRef, now: datetime) -> Snapshot | None:
    """One indexed read of the customer's snapshot; None when it is missing or past due."""
    return _snapshot_of(_hot_read(db, "snapshot", (ref.type, ref.id)), now)


def read_balance(db: Database, ref: CustomerRef, item_id: str, now: datetime) -> int | None:
    """One indexed read of an item's balance; None when it is missing or a settlement is due."""
    return _balance_of(_hot_read(db, "balance", (ref.type, ref.id, item_id)), now)


def settled_snapshot(services: Services, ref: CustomerRef, now: datetime) -> Snapshot:
    """Settles the customer (the slow path: a write transaction), then reads the snapshot."""
    with services.db.write() as session:
        settle_customer(session, ref, services.catalogs.active(session), now)
        row = session.get(EntitlementSnapshot, (ref.type, ref.id))
        assert row is not None, "settling writes the snapshot"
        return Snapshot(frozenset(row.plans), frozenset(row.features))


def settled_balance(services: Services, ref: CustomerRef, item_id: str, now: datetime) -> int:
    """Settles the customer, then reads the balance (unknown items read as 0)."""
    with services.db.write() as session:
        settle_customer(session, ref, services.catalogs.active(session), now)
        return ledger.balance_of(session, ref, item_id)


def snapshot(services: Services, ref: CustomerRef, now: datetime) -> Snapshot:
    return read_snapshot(services.db, ref, now) or settled_snapshot(services, ref, now)


def has_feature(services: Services, ref: CustomerRef, feature: str, now: datetime) -> bool:
    return feature in snapshot(services, ref, now).features


def has_plan(services: Services, ref: CustomerRef, plan: str, now: datetime) -> bool:
    return plan in snapshot(services, ref, now).plans


def item_balance(services: Services, ref: CustomerRef, item_id: str, now: datetime) -> int:
    """The balance (negative while the customer owes). Unknown items read as 0."""
    found = read_balance(services.db, ref, item_id, now)
    return found if found is not None else settled_balance(services, ref, item_id, now)


@dataclass(frozen=True)
class ItemView:
    quantity: int
    next_refill_at: datetime | None

    @property
    def non_negative_quantity(self) -> int:
        return max(self.quantity, 0)


@dataclass(frozen=True)
class EntitlementsView:
    plans: list[str]
    features: list[str]
    items: dict[str, ItemView]
    ownerships: list[Ownership]


def entitlements(services: Services, ref: CustomerRef, now: datetime) -> EntitlementsView:
    """Everything a customer holds, settled to ``now``."""
    with services.db.write() as session:
        settled = settle_customer(session, ref, services.catalogs.active(session), now)
        granting = settled.granting
        items = {
            item_id: ItemView(balance, ledger.next_refill_at(granting, item_id, now))
            for item_id, balance in ledger.balances_of(session, ref)
        }
        products = [product_of(o) for o in granting]
        return EntitlementsView(
            plans=sorted({p.id for p in products}),
            features=sorted({f for p in products for f in p.features}),
            items=items,
            ownerships=settled.ownerships,
        )


def item_view(services: Services, ref: CustomerRef, item_id: str, now: datetime) -> ItemView:
    with services.db.write() as session:
        settled = settle_customer(session, ref, services.catalogs.active(session), now)
        return ItemView(
            ledger.balance_of(session, ref, item_id),
            ledger.next_refill_at(settled.granting, item_id, now),
        )


def consume(
    session: Session,
    services: Services,
    ref: CustomerRef,
    item_id: str,
    quantity: int,
    now: datetime,
    *,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> ledger.Consumed:
    """Takes ``quantity`` or nothing, in the caller's write transaction. Returns the
    remaining balance, or raises 409 ``insufficient_quantity``. With ``idempotency_key``, an
    earlier answer with the key for this item is replayed instead (``replayed``); one that
    commits while this runs (PostgreSQL) makes it raise ``IntegrityError`` with the
    transaction undone, and the caller runs the unit of work again (:func:`consume_now`).
    A keyed refusal is not raised but recorded and returned (``refused``): the caller commits
    it, then answers the refusal, so that every retry with the key answers the same.

    Locks the customer before touching the balance row: the ledger's lock order.
    """
    ledger.validate_quantity(quantity)
    lock_customer(session, ref, now)
    conn = session.connection()
    options: dict[str, Any] = {"description": description, "idempotency_key": idempotency_key}
    consumed = ledger.consume_fast(conn, ref, item_id, quantity, now, **options)
    if consumed is None:
        catalog = services.catalogs.active(session)
        settle_customer(session, ref, catalog, now)
        consumed = ledger.consume_fast(conn, ref, item_id, quantity, now, **options)
        if consumed is None and idempotency_key is not None and item_id in catalog.items:
            consumed = ledger.refuse(session, ref, item_id, quantity, now, **options)
    if consumed is None:
        raise ledger.insufficient(ref, item_id, ledger.balance_of(session, ref, item_id), quantity)
    if consumed.balance == 0 and not consumed.replayed and not consumed.refused:
        # The fast path never goes below zero, so reaching it emptied the item.
        facts.item_depleted(session, ref.type, ref.id, item_id, 0, now)
    return consumed


def consume_now(
    services: Services,
    ref: CustomerRef,
    item_id: str,
    quantity: int,
    now: datetime,
    *,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> ledger.Consumed:
    """Takes ``quantity`` or nothing as its own unit of work. While no refill or expiry is
    due this is one statement on PostgreSQL (one short transaction on SQLite), with or
    without ``idempotency_key``; otherwise the customer is settled first.

    A retry with the same ``idempotency_key`` (scoped to the customer and item) replays the
    first answer, a refusal too; the same key with another quantity or description is 409
    ``idempotency_key_reused``.
    """
    consumed = _consume_once(services, ref, item_id, quantity, now, description=description,
                             idempotency_key=idempotency_key)
    if consumed.refused:
        raise ledger.insufficient(ref, item_id, consumed.balance, quantity,
                                  replayed=consumed.replayed)
    return consumed


def _consume_once(
    services: Services,
    ref: CustomerRef,
    item_id: str,
    quantity: int,
    now: datetime,
    *,
    description: str | None,
    idempotency_key: str | None,
) -> ledger.Consumed:
    """:func:`consume_now`'s work: the answer, a keyed refusal (``refused``) included."""
    ledger.validate_quantity(quantity)
    options: dict[str, Any] = {"description": description, "idempotency_key": idempotency_key}
    # The one statement leaves a unit behind: the consumption that empties the item goes
    # through consume() below, which records item.depleted in its transaction.
    if services.db.is_sqlite:
        with services.db.statement_write() as conn:
            consumed = ledger.consume_fast(conn, ref, item_id, quantity, now, floor=1,
                                           **options)
    else:
        with services.db.driver_connection() as driver_conn:
            consumed = ledger.consume_fast_driver(
                driver_conn, ref, item_id, quantity, now, floor=1, **options
            )
    if consumed is not None:
        return consumed
    try:
        with services.db.write() as session:
            return consume(session, services, ref, item_id, quantity, now, **options)
    except IntegrityError:
        if idempotency_key is None:
            raise
    # A request with the same key committed first (the unique index undid this one's
    # transaction): now its entry is visible, and this replays it.
    with services.db.write() as session:
        return consume(session, services, ref, item_id, quantity, now, **options)


def change(
    session: Session,
    services: Services,
    ref: CustomerRef,
    item_id: str,
    delta: int,
    now: datetime,
    **options: Any,
) -> int:
    """Adds or removes a quantity (server only), settling first."""
    settle_customer(session, ref, services.catalogs.active(session), now)
    return ledger.change(session, ref, item_id, delta, now, **options)


__all__ = ["Services", "grants_access"]
