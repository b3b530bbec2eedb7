"""Figure 2: ``consume`` operations per second with 32 concurrent clients on PostgreSQL,
against a raw conditional ``UPDATE ... WHERE quantity >= n`` loop through psycopg at the same
concurrency, in the same run. Each client is a thread with its own connection; each round
runs every variant for the same time; the medians of the rounds are printed, each as a ratio
to the raw loop of its own round (the machine may be shared: ratios are what compare).

Variants: what ``POST .../consume`` runs without an Idempotency-Key (REST users), with one
(SDK users: a fresh key per call), a keyed consumption in a write transaction (the path
a keyed consumption takes when a settlement is due, as every keyed one did before), and the
REST path's statement alone through psycopg, as the baseline sends its UPDATE (the database's
share of the REST figure; the rest is plangate's Python).

    scripts/with-postgres .venv/bin/python -m bench.consume_pg [--rounds 5] [--seconds 5]
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from sqlalchemy.engine import make_url

from bench.harness import database, median
from plangate.domain.catalog import parse_catalog
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.entitlements import checks as entitlements
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ledger.fast import _DRIVER_SQL
from plangate.store.db import Database

CLIENTS = 32
CUSTOMERS = 64
BIG = 10**12


def _hammer(clients: int, seconds: float, op: Callable[[int, int], None]) -> float:
    """Runs ``op(client, i)`` in ``clients`` threads for ``seconds``; returns ops/second."""
    counts = [0] * clients
    stop = time.monotonic() + seconds
    barrier = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        barrier.wait()
        i = 0
        while time.monotonic() < stop:
            op(n, i)
            i += 1
        counts[n] = i

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    started = time.monotonic()
    barrier.wait()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def run(rounds: int, seconds: float, clients: int) -> dict[str, object]:
    with database("postgresql") as url:
        db = Database(url, pool_size=clients)
        services = entitlements.Services(db, CatalogCache())
        now = datetime.now(UTC)
        with db.write() as session:
            catalog_service.apply_catalog(session, parse_catalog('[items.credits]\n'), now)
        refs = [CustomerRef("custom", f"c{i}") for i in range(CUSTOMERS)]
        for ref in refs:
            with db.write() as session:
                entitlements.change(session, services, ref, "credits", BIG, now)
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE raw_balances (id int PRIMARY KEY, quantity bigint NOT NULL)"
            )
            conn.execute(
                "INSERT INTO raw_balances SELECT g, %s FROM generate_series(0, %s) g",
                (BIG, CUSTOMERS - 1),
            )
        raw_connections = [psycopg.connect(dsn, autocommit=True) for _ in range(clients)]

        keys = itertools.count()

        def rest_op(client: int, i: int) -> None:
            # What POST .../consume does without an Idempotency-Key.
            entitlements.consume_now(
                services, refs[(client + i) % CUSTOMERS], "credits", 1, datetime.now(UTC)
            )

        def sdk_op(client: int, i: int) -> None:
            # What POST .../consume does with one (the SDK sends a fresh key per call).
            entitlements.consume_now(
                services,
                refs[(client + i) % CUSTOMERS],
                "credits",
                1,
                datetime.now(UTC),
                idempotency_key=f"bench-{next(keys)}",
            )

        def transaction_op(client: int, i: int) -> None:
            with db.write() as session:
                entitlements.consume(
                    session,
                    services,
                    refs[(client + i) % CUSTOMERS],
                    "credits",
                    1,
                    datetime.now(UTC),
                    idempotency_key=f"bench-{next(keys)}",
                )

        statement = _DRIVER_SQL[False]

        def statement_op(client: int, i: int) -> None:
            # The REST path's one statement alone, through psycopg like the baseline: what
            # is left between it and rest_op is plangate's Python (pool, parameters, calls).
            ref = refs[(client + i) % CUSTOMERS]
            row = raw_connections[client].execute(statement, {
                "floor": 1, "customer_type": ref.type, "customer_id": ref.id,
                "item_id": "credits", "quantity": 1, "now": datetime.now(UTC),
                "description": None, "idempotency_key": None}).fetchone()
            assert row is not None

        def raw_op(client: int, i: int) -> None:
            row = raw_connections[client].execute(
                "UPDATE raw_balances SET quantity = quantity - %s"
                " WHERE id = %s AND quantity >= %s RETURNING quantity",
                (1, (client + i) % CUSTOMERS, 1),
            ).fetchone()
            assert row is not None

        variants = {"rest": rest_op, "sdk": sdk_op, "keyed_transaction": transaction_op,
                    "rest_statement_alone": statement_op}
        for op in (raw_op, *variants.values()):  # warm-up: pools, prepared plans
            _hammer(clients, 1, op)
        raws: list[float] = []
        figures: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            raws.append(_hammer(clients, seconds, raw_op))
            for name, op in variants.items():
                figures[name].append(_hammer(clients, seconds, op))
        for conn in raw_connections:
            conn.close()
        db.dispose()
    result: dict[str, object] = {"clients": clients, "rounds": rounds, "seconds": seconds}
    result["raw_update_ops_median"] = round(median(raws))
    for name, ops in figures.items():
        result[f"{name}_ops_median"] = round(median(ops))
        ratios = [o / r for o, r in zip(ops, raws, strict=True)]
        result[f"{name}_ratio_median"] = round(median(ratios), 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args()
    print(json.dumps(run(args.rounds, args.seconds, args.clients)))


if __name__ == "__main__":
    main()
