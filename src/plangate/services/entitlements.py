"""Answers to "may this customer do X right now?", and the item operations apps call.

``check`` reads one row by primary key: the customer's entitlement snapshot (features, plans)
or the item's balance row. Only when that row is missing or past due (a refill or expiry fell
due while nobody looked) does it settle the customer in a write transaction first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.services import ledger
from plangate.services.catalog import CatalogCache
from plangate.services.customers import CustomerRef, lock_customer
from plangate.services.ownership import grants_access, product_of, settle_customer
from plangate.store.db import Database
from plangate.store.models import EntitlementSnapshot, ItemBalance, Ownership

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    """What the entitlement operations need: the database, the catalogs, the time."""

    db: Database
    catalogs: CatalogCache


def _settled(
    services: Services, ref: CustomerRef, now: datetime, read: Callable[[Session], T]
) -> T:
    with services.db.write() as session:
        settle_customer(session, ref, services.catalogs.active(session), now)
        return read(session)


def _fresh_read(
    services: Services,
    ref: CustomerRef,
    now: datetime,
    read: Callable[[Session], T | None],
) -> T:
    """``read`` in a read transaction; if it finds nothing fresh, settle and read again."""
    with services.db.read() as session:
        found = read(session)
    if found is not None:
        return found
    result = _settled(services, ref, now, read)
    assert result is not None, "a settled customer has a fresh snapshot"
    return result


def _snapshot(
    ref: CustomerRef, now: datetime
) -> Callable[[Session], tuple[list[str], list[str]] | None]:
    def read(session: Session) -> tuple[list[str], list[str]] | None:
        row = session.execute(
            select(
                EntitlementSnapshot.plans,
                EntitlementSnapshot.features,
                EntitlementSnapshot.valid_until,
            ).where(
                EntitlementSnapshot.customer_type == ref.type,
                EntitlementSnapshot.customer_id == ref.id,
            )
        ).one_or_none()
        if row is None or row.valid_until <= now:
            return None
        return list(row.plans), list(row.features)

    return read


def _balance(ref: CustomerRef, item_id: str, now: datetime) -> Callable[[Session], int | None]:
    def read(session: Session) -> int | None:
        row = session.execute(
            select(ItemBalance.balance, ItemBalance.settle_at).where(
                ItemBalance.customer_type == ref.type,
                ItemBalance.customer_id == ref.id,
                ItemBalance.item_id == item_id,
            )
        ).one_or_none()
        if row is None or row.settle_at <= now:
            return None
        return int(row.balance)

    return read


def has_feature(services: Services, ref: CustomerRef, feature: str, now: datetime) -> bool:
    _, features = _fresh_read(services, ref, now, _snapshot(ref, now))
    return feature in features


def has_plan(services: Services, ref: CustomerRef, plan: str, now: datetime) -> bool:
    plans, _ = _fresh_read(services, ref, now, _snapshot(ref, now))
    return plan in plans


def item_balance(services: Services, ref: CustomerRef, item_id: str, now: datetime) -> int:
    """The balance (negative while the customer owes). Unknown items read as 0."""
    read = _balance(ref, item_id, now)
    with services.db.read() as session:
        found = read(session)
    if found is not None:
        return found
    with services.db.write() as session:
        settle_customer(session, ref, services.catalogs.active(session), now)
        return read(session) or 0


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
        rows = session.scalars(
            select(ItemBalance)
            .where(ItemBalance.customer_type == ref.type, ItemBalance.customer_id == ref.id)
            .order_by(ItemBalance.item_id)
        )
        items = {
            row.item_id: ItemView(row.balance, ledger.next_refill_at(granting, row.item_id, now))
            for row in rows
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
        row = session.get(ItemBalance, (ref.type, ref.id, item_id))
        return ItemView(
            row.balance if row else 0, ledger.next_refill_at(settled.granting, item_id, now)
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
) -> int:
    """Takes ``quantity`` or nothing, in the caller's write transaction (requests with an
    Idempotency-Key, whose record commits with the consumption). Returns the remaining
    balance, or raises 409 ``insufficient_quantity``.

    Locks the customer before touching the balance row: the order settlement uses.
    """
    ledger.validate_quantity(quantity)
    lock_customer(session, ref, now)
    conn = session.connection()
    options: dict[str, Any] = {"description": description, "idempotency_key": idempotency_key}
    balance = ledger.consume_fast(conn, ref, item_id, quantity, now, **options)
    if balance is None:
        settle_customer(session, ref, services.catalogs.active(session), now)
        balance = ledger.consume_fast(conn, ref, item_id, quantity, now, **options)
    if balance is None:
        row = session.get(ItemBalance, (ref.type, ref.id, item_id))
        raise ledger.insufficient(ref, item_id, row.balance if row else 0, quantity)
    return balance


def consume_now(
    services: Services,
    ref: CustomerRef,
    item_id: str,
    quantity: int,
    now: datetime,
    *,
    description: str | None = None,
) -> int:
    """Takes ``quantity`` or nothing as its own unit of work. While no refill or expiry is
    due this is one statement on PostgreSQL (one short transaction on SQLite); otherwise the
    customer is settled first."""
    ledger.validate_quantity(quantity)
    if services.db.is_sqlite:
        with services.db.statement_write() as conn:
            balance = ledger.consume_fast(
                conn, ref, item_id, quantity, now, description=description
            )
    else:
        with services.db.driver_connection() as driver_conn:
            balance = ledger.consume_fast_driver(
                driver_conn, ref, item_id, quantity, now, description=description
            )
    if balance is not None:
        return balance
    with services.db.write() as session:
        return consume(session, services, ref, item_id, quantity, now, description=description)


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
    state = ledger.load_item(session, ref, item_id, now)
    return ledger.apply_change(session, ref, state, delta, now, **options)


__all__ = ["Services", "grants_access"]
