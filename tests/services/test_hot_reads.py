"""The check route's reads: concurrent lookups (coalesced into one query on PostgreSQL) each
get their own customer's row, and a missing or stale row falls back to settlement."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from plangate.clock import FrozenClock
from plangate.domain.catalog import parse_catalog
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.entitlements import checks as entitlements
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ownership import grant_product
from plangate.store.db import Database

CATALOG = """
[features.export]
[items.credits]
[products.pro]
customer_type = "user"
features = ["export"]
items.credits = { quantity = 10, repeat = "day", expires = "when_repeated" }
"""


def test_concurrent_reads_each_get_their_own_row(db: Database, clock: FrozenClock) -> None:
    catalog = parse_catalog(CATALOG)
    services = entitlements.Services(db, CatalogCache())
    now = clock.now()
    with db.write() as session:
        catalog_service.apply_catalog(session, catalog, now)
    refs = [CustomerRef("user", f"u{i}") for i in range(40)]
    for i, ref in enumerate(refs):
        with db.write() as session:
            if i % 3 == 0:
                grant_product(session, ref, catalog, catalog.products["pro"], now)
        if i % 3 != 2:
            entitlements.snapshot(services, ref, now)  # i % 3 == 2: never settled, no rows
    reads = entitlements.HotReads(db)

    async def read_all() -> tuple[list[object], list[object]]:
        snapshots = await asyncio.gather(*(reads.snapshot(ref, now) for ref in refs))
        balances = await asyncio.gather(*(reads.balance(ref, "credits", now) for ref in refs))
        await db.close_async()
        return list(snapshots), list(balances)

    snapshots, balances = asyncio.run(read_all())
    for i, (snapshot, balance) in enumerate(zip(snapshots, balances, strict=True)):
        if i % 3 == 2:
            assert snapshot is None and balance is None
        elif i % 3 == 0:
            assert snapshot == entitlements.Snapshot(frozenset({"pro"}), frozenset({"export"}))
            assert balance == 10
        else:
            assert snapshot == entitlements.Snapshot(frozenset(), frozenset())
            assert balance == 0

    # A refill fell due: the balance row is stale, and the fast read says so.
    later = now + timedelta(days=1, seconds=1)

    async def read_later() -> int | None:
        balance = await reads.balance(refs[0], "credits", later)
        await db.close_async()
        return balance

    assert asyncio.run(read_later()) is None
    assert entitlements.item_balance(services, refs[0], "credits", later) == 10
