"""An item's ledger as an operator reads it: the latest changes first, with what each left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from plangate.services.entitlements.customers import CustomerRef
from plangate.store.db import Database
from plangate.store.models import LedgerEntry


@dataclass(frozen=True)
class LedgerLine:
    item_id: str
    delta: int
    balance_after: int
    kind: str
    description: str | None
    expires_at: datetime | None
    created_at: datetime
    # kind "refused" (a keyed consumption that was refused): the quantity asked for
    refused_quantity: int | None = None


def ledger_history(db: Database, ref: CustomerRef, *, limit: int = 50) -> list[LedgerLine]:
    """The customer's latest ledger entries over all items, newest first (the ledger's
    customer-and-item index answers it)."""
    statement = (
        select(LedgerEntry)
        .where(LedgerEntry.customer_type == ref.type, LedgerEntry.customer_id == ref.id)
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
    )
    with db.read() as session:
        return [
            LedgerLine(
                e.item_id, e.delta, e.balance_after, e.kind, e.description, e.expires_at,
                e.created_at, e.refused_quantity,
            )
            for e in session.scalars(statement)
        ]
