"""Ledger entries, limits and the read side of balances."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.errors import Conflict, InvalidRequest
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.models import ItemBalance, LedgerEntry

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
MAX_QUANTITY = 10**15


def validate_quantity(quantity: int, param: str = "quantity") -> None:
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise InvalidRequest(
            "quantity_invalid", f"{param} must be between 1 and {MAX_QUANTITY}", param=param
        )


def record(
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
    refused_quantity: int | None = None,
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
            refused_quantity=refused_quantity,
            created_at=at,
        )
    )


def entry_with_key(
    session: Session, ref: CustomerRef, item_id: str, idempotency_key: str
) -> LedgerEntry | None:
    """The entry an earlier request with this key wrote for this customer and item."""
    return session.execute(
        select(LedgerEntry).where(
            LedgerEntry.customer_type == ref.type,
            LedgerEntry.customer_id == ref.id,
            LedgerEntry.item_id == item_id,
            LedgerEntry.idempotency_key == idempotency_key,
        )
    ).scalar_one_or_none()


def key_reused() -> Conflict:
    return Conflict(
        "idempotency_key_reused",
        "this Idempotency-Key was used with another request; use a new key",
        param="Idempotency-Key",
    )


class _ReplayedConflict(Conflict):
    """The refusal an earlier request with the same idempotency key was answered."""

    @property
    def headers(self) -> dict[str, str]:
        return {"Idempotent-Replayed": "true"}


def insufficient(
    ref: CustomerRef, item_id: str, balance: int, wanted: int, *, replayed: bool = False
) -> Conflict:
    return (_ReplayedConflict if replayed else Conflict)(
        "insufficient_quantity",
        f"{ref} has {max(balance, 0)} {item_id}, {wanted} were asked for; nothing was consumed",
        param="quantity",
        item_id=item_id,
        quantity=balance,
    )


# --- reads ---------------------------------------------------------------------------------


def balance_of(session: Session, ref: CustomerRef, item_id: str) -> int:
    """The stored balance as the session sees it (0 for an item never held); settle first
    for an answer that includes refills and expiries due by now."""
    row = session.get(ItemBalance, (ref.type, ref.id, item_id))
    return row.balance if row is not None else 0


def items_held(session: Session, ref: CustomerRef) -> list[str]:
    return list(
        session.scalars(
            select(ItemBalance.item_id)
            .where(ItemBalance.customer_type == ref.type, ItemBalance.customer_id == ref.id)
            .order_by(ItemBalance.item_id)
        )
    )


def balances_of(session: Session, ref: CustomerRef) -> list[tuple[str, int]]:
    """Every item the customer holds with its stored balance, by item id."""
    rows = session.execute(
        select(ItemBalance.item_id, ItemBalance.balance)
        .where(ItemBalance.customer_type == ref.type, ItemBalance.customer_id == ref.id)
        .order_by(ItemBalance.item_id)
    )
    return [(item_id, int(balance)) for item_id, balance in rows]
