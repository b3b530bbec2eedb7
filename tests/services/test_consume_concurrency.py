"""Invariant 2: N concurrent consumers of a balance B succeed exactly min(N, B) times, across
processes and threads, on SQLite and on PostgreSQL, and the ledger sums to the balance."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from multiprocessing.pool import Pool

import pytest
from sqlalchemy import func, select

from plangate.domain.catalog import parse_catalog
from plangate.errors import Conflict
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.entitlements import checks as entitlements
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.store.db import Database
from plangate.store.models import LedgerEntry

pytestmark = pytest.mark.slow

CATALOG = '[items.credits]\nname = "Credits"\n'
CUSTOMER = CustomerRef("custom", "acme")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
# 32 consumers at once, three attempts for every credit. bench/consume_pg measures the speed.
PROCESSES, THREADS, ATTEMPTS, BALANCE = 4, 8, 480, 160


def _consume_many(url: str, attempts: int, in_transaction: bool) -> tuple[int, int]:
    """One process: ``THREADS`` threads consuming 1 credit each, ``attempts`` times in all."""
    db = Database(url, pool_size=THREADS)
    services = entitlements.Services(db, CatalogCache())

    def one(_: int) -> bool:
        try:
            if in_transaction:  # as with an Idempotency-Key
                with db.write() as session:
                    entitlements.consume(session, services, CUSTOMER, "credits", 1, NOW)
            else:  # the one-statement fast path
                entitlements.consume_now(services, CUSTOMER, "credits", 1, NOW)
            return True
        except Conflict as exc:
            assert exc.code == "insufficient_quantity"
            return False

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(one, range(attempts)))
    db.dispose()
    return sum(results), len(results) - sum(results)


@pytest.fixture(scope="module")
def processes() -> Iterator[Pool]:
    """The consuming processes, started once for the module's tests (each call of
    `_consume_many` opens its own database connections)."""
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        yield pool


@pytest.mark.parametrize("in_transaction", [False, True], ids=["statement", "transaction"])
def test_concurrent_consumers_never_overspend(
    database_url: str, in_transaction: bool, processes: Pool
) -> None:
    db = Database(database_url, pool_size=2)
    services = entitlements.Services(db, CatalogCache())
    with db.write() as session:
        catalog_service.apply_catalog(session, parse_catalog(CATALOG), NOW)
    with db.write() as session:
        entitlements.change(session, services, CUSTOMER, "credits", BALANCE, NOW)

    results = processes.starmap(
        _consume_many, [(database_url, ATTEMPTS // PROCESSES, in_transaction)] * PROCESSES
    )

    successes = sum(ok for ok, _ in results)
    refusals = sum(no for _, no in results)
    assert successes == BALANCE
    assert refusals == ATTEMPTS - BALANCE
    assert entitlements.item_balance(services, CUSTOMER, "credits", NOW) == 0
    with db.read() as session:
        ledger_sum = session.scalar(
            select(func.sum(LedgerEntry.delta)).where(
                LedgerEntry.customer_type == CUSTOMER.type,
                LedgerEntry.customer_id == CUSTOMER.id,
                LedgerEntry.item_id == "credits",
            )
        )
        consumptions = session.scalar(
            select(func.count()).where(LedgerEntry.kind == "consume")
        )
    assert ledger_sum == 0
    assert consumptions == BALANCE
    db.dispose()
