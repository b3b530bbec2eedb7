"""A settlement and a fast-path consumption interleaved on purpose: the consumption commits
while the settlement is between reading the balance row and writing it back. Whatever the
interleaving, the consumption must reach the lots, so that a later expiry removes only what
is really left."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from plangate.domain.catalog import parse_catalog
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.entitlements import checks as entitlements
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ledger import settlement
from plangate.store.db import Database
from plangate.store.models import ItemBalance, ItemLot, LedgerEntry

CUSTOMER = CustomerRef("custom", "race")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def services(database_url: str) -> Iterator[entitlements.Services]:
    db = Database(database_url, pool_size=4)
    with db.write() as session:
        catalog_service.apply_catalog(session, parse_catalog("[items.credits]\n"), T0)
    yield entitlements.Services(db, CatalogCache())
    db.dispose()


def _blocked_or_done(db: Database, worker: threading.Thread) -> None:
    """Returns once ``worker`` finished or waits for a lock the settlement holds."""
    deadline = time.monotonic() + 5
    while worker.is_alive() and time.monotonic() < deadline:
        if db.is_sqlite:
            # The consumer waits in SQLite's busy handler: nothing to observe but time.
            worker.join(0.5)
            return
        with db.engine.connect() as conn:
            waiting = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        time.sleep(0.01)


def test_a_consumption_during_a_settlement_reaches_the_lots(
    services: entitlements.Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = services.db
    with db.write() as session:
        entitlements.change(
            session, services, CUSTOMER, "credits", 10, T0, expires_at=T0 + timedelta(days=30)
        )
    assert entitlements.consume_now(services, CUSTOMER, "credits", 4, T0).balance == 6

    consumer_result: list[int] = []
    consumer = threading.Thread(
        target=lambda: consumer_result.append(
            entitlements.consume_now(services, CUSTOMER, "credits", 2, T0).balance
        )
    )
    real_lock_item: Callable[..., Any] = settlement.lock_item
    calls = [0]

    def lock_item_then_let_a_consumer_in(*args: Any, **kwargs: Any) -> Any:
        state = real_lock_item(*args, **kwargs)
        calls[0] += 1
        if calls[0] == 1:  # the settlement has read the balance row: now the consumer runs
            consumer.start()
            _blocked_or_done(db, consumer)
        return state

    monkeypatch.setattr(settlement, "lock_item", lock_item_then_let_a_consumer_in)
    with db.write() as session:
        entitlements.change(session, services, CUSTOMER, "credits", 1, T0)
    consumer.join(10)
    # The consumer waited for the settlement, and then saw its +1.
    assert consumer_result == [5]
    monkeypatch.undo()

    assert entitlements.item_balance(services, CUSTOMER, "credits", T0) == 5
    with db.read() as session:
        row = session.get(ItemBalance, (CUSTOMER.type, CUSTOMER.id, "credits"))
        assert row is not None
        lots = session.scalar(
            select(func.coalesce(func.sum(ItemLot.remaining), 0)).where(
                ItemLot.customer_id == CUSTOMER.id, ItemLot.closed.is_(False)
            )
        )
        assert lots - row.pending_consumption - row.debt == row.balance == 5

    # The 10 credits expire: what is left of them (4) goes, the +1 stays.
    later = T0 + timedelta(days=31)
    assert entitlements.item_balance(services, CUSTOMER, "credits", later) == 1
    with db.read() as session:
        expired = session.scalars(
            select(LedgerEntry.delta).where(LedgerEntry.kind == "expire")
        ).all()
        total = session.scalar(select(func.sum(LedgerEntry.delta)))
    assert expired == [-4]
    assert total == 1
