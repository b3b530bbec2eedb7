"""Shared pieces of the benchmarks: a prepared database, a served plangate, wrk runs."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from plangate.domain.catalog import parse_catalog
from plangate.services.access.keys import create_key
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.entitlements import checks as entitlements
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.entitlements.ownership import grant_product
from plangate.store.db import Database
from plangate.store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "plangate.toml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A fresh migrated database: a temp SQLite file, or a new database on the PostgreSQL
    server named by PLANGATE_TEST_POSTGRES_URL (``make bench`` starts one)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    admin_url = os.environ.get("PLANGATE_TEST_POSTGRES_URL")
    if not admin_url:
        raise SystemExit("PostgreSQL benchmarks need PLANGATE_TEST_POSTGRES_URL (use make bench)")
    name = f"plangate_bench_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(url: str, customers: int = 1000) -> str:
    """Applies the example catalog, gives every other user Pro, returns a secret key."""
    db = Database(url, pool_size=2)
    now = datetime.now(UTC)
    catalog = parse_catalog(EXAMPLE.read_text())
    with db.write() as session:
        catalog_service.apply_catalog(session, catalog, now)
        key = create_key(session, "bench", now).secret
    for i in range(customers):
        with db.write() as session:
            ref = CustomerRef("user", f"u{i}")
            if i % 2 == 0:
                grant_product(session, ref, catalog, catalog.products["pro"], now)
            else:
                entitlements.change(
                    session, entitlements.Services(db, CatalogCache()), ref, "credits", 1, now
                )
    db.dispose()
    return key


@contextmanager
def served(url: str, port: int) -> Iterator[str]:
    env = {**os.environ, "PLANGATE_DATABASE_URL": url, "PLANGATE_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "plangate.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise RuntimeError("plangate did not start")
        yield base
    finally:
        process.terminate()
        process.wait(10)


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    latency_p50_ms: float
    latency_p99_ms: float
    non_2xx: int
    requests: int = 0


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, *, key: str | None, seconds: int, connections: int, threads: int = 1,
        script: list[str] | None = None) -> WrkResult:
    """One wrk run; ``script``: a Lua script and its arguments (``-s script -- args``)."""
    command = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url]
    if key:
        command[1:1] = ["-H", f"Authorization: Bearer {key}"]
    if script:
        command[1:1] = ["-s", script[0]]
        command += ["--", *script[1:]]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = re.search(r"(\d+) requests in", output)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        rps,
        _ms(*p50.groups()) if p50 else float("nan"),
        _ms(*p99.groups()) if p99 else float("nan"),
        int(non2xx.group(1)) if non2xx else 0,
        int(requests.group(1)) if requests else 0,
    )


def median(values: list[float]) -> float:
    return statistics.median(values)
