"""Figure 2: ``consume`` operations per second with 32 concurrent clients on PostgreSQL,
against a raw conditional ``UPDATE ... WHERE quantity >= n`` loop through psycopg at the same
concurrency, in the same run. Each client is a thread with its own connection; each round
runs both for the same time; the medians of the rounds are printed.

    scripts/with-postgres .venv/bin/python -m bench.consume_pg [--rounds 5] [--seconds 5]
"""

from __future__ import annotations

import argparse
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

        def plangate_op(client: int, i: int) -> None:
            # What POST .../consume does without an Idempotency-Key.
            entitlements.consume_now(
                services, refs[(client + i) % CUSTOMERS], "credits", 1, datetime.now(UTC)
            )

        def raw_op(client: int, i: int) -> None:
            row = raw_connections[client].execute(
                "UPDATE raw_balances SET quantity = quantity - %s"
                " WHERE id = %s AND quantity >= %s RETURNING quantity",
                (1, (client + i) % CUSTOMERS, 1),
            ).fetchone()
            assert row is not None

        _hammer(clients, 1, plangate_op)  # warm-up: pools, prepared plans
        _hammer(clients, 1, raw_op)
        ours, raws = [], []
        for _ in range(rounds):
            raws.append(_hammer(clients, seconds, raw_op))
            ours.append(_hammer(clients, seconds, plangate_op))
        for conn in raw_connections:
            conn.close()
        db.dispose()
    ratios = [o / r for o, r in zip(ours, raws, strict=True)]
    return {
        "clients": clients,
        "plangate_consume_ops_median": round(median(ours)),
        "raw_update_ops_median": round(median(raws)),
        "ratio_median": round(median(ratios), 3),
        "rounds": rounds,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args()
    print(json.dumps(run(args.rounds, args.seconds, args.clients)))


if __name__ == "__main__":
    main()
