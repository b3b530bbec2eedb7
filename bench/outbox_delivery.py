"""Outbound webhooks on PostgreSQL: deliveries per second with 2 delivery worker processes,
against the same receiver posted to directly, and the time from a fact's commit to its
arrival at the receiver.

* Throughput: ``--messages`` facts committed at once to one endpoint, with two
  ``plangate webhooks deliver`` processes already polling; the figure is the deliveries
  recorded per second until the last arrives. Baseline, in the same rounds: the same number
  of bodies POSTed straight to the same receiver from two threads with httpx (no outbox,
  no signing, no database): the ratio says what the outbox's guarantees cost.
* Latency: facts committed one per transaction at ``--rate`` per second for ``--seconds``;
  each is timed from its commit to its arrival at the receiver (both in this process). Done
  with workers that poll every ``--poll`` seconds (the default 1 s) and only poll
  (``PLANGATE_OUTBOX_LISTEN=false``: before wake-on-commit), then with workers woken by the
  commit (after), on PostgreSQL (2 worker processes, LISTEN/NOTIFY) and on SQLite (a worker
  thread in this process, the after-commit hook).

    scripts/with-postgres .venv/bin/python -m bench.outbox_delivery [--rounds 3]

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import database
from plangate.clock import SystemClock
from plangate.services.events import endpoints, record
from plangate.services.events.delivery import DeliveryWorker
from plangate.settings import Settings
from plangate.store.db import Database
from tests.services.events.receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _workers(url: str, poll: float = 0.05, listen: bool = True
             ) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "PLANGATE_DATABASE_URL": url,
        "PLANGATE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "PLANGATE_WORKER_POLL_SECONDS": str(poll),
        "PLANGATE_OUTBOX_LISTEN": "true" if listen else "false",
        "PLANGATE_LOG_LEVEL": "warning",
    }
    return [
        subprocess.Popen([sys.executable, "-m", "plangate", "webhooks", "deliver"], cwd=ROOT,
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(2)
    ]


def _wait_for(receiver: Receiver, count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.arrivals()) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(receiver.arrivals())} of {count} arrived")
        time.sleep(0.005)


def _outbox_round(db: Database, receiver: Receiver, messages: int) -> float:
    before = len(receiver.arrivals())
    with db.write() as session:
        for n in range(messages):
            record(session, "item.depleted", {"n": n, "item_id": "credits"},
                   SystemClock().now(), customer=("user", f"u{n}"))
    committed = time.perf_counter()
    _wait_for(receiver, before + messages)
    return messages / (time.perf_counter() - committed)


def _direct_round(url: str, messages: int) -> float:
    body = json.dumps({"type": "item.depleted", "data": {"item_id": "credits"}}).encode()
    per_thread = messages // 2

    def post(client: httpx.Client) -> None:
        for _ in range(per_thread):
            client.post(url, content=body, headers={"content-type": "application/json"})

    clients = [httpx.Client(trust_env=False) for _ in range(2)]
    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    return 2 * per_thread / elapsed


def _latency(db: Database, receiver: Receiver, rate: float, seconds: float) -> list[float]:
    committed: dict[str, float] = {}
    interval = 1 / rate
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        with db.write() as session:
            message = record(session, "customer.entitlementsChanged", {"plans": ["pro"]},
                             SystemClock().now(), customer=("user", "lat"))
        committed[message.id] = time.perf_counter()
        time.sleep(interval)
    deadline = time.monotonic() + 60
    while not set(committed) <= set(receiver.arrivals()):
        if time.monotonic() > deadline:
            raise TimeoutError("facts still undelivered after 60 s")
        time.sleep(0.01)
    arrivals = receiver.arrivals()
    return [(arrivals[m] - t) * 1000 for m, t in committed.items()]


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
        worker.wait(timeout=30)


def _figures(latencies: list[float]) -> dict[str, float]:
    return {
        "p50": round(_percentile(latencies, 0.5), 1),
        "p99": round(_percentile(latencies, 0.99), 1),
        "max": round(max(latencies), 1),
        "samples": len(latencies),
    }


def _wake_latency(backend: str, receiver: Receiver, args: argparse.Namespace
                  ) -> dict[str, dict[str, float]]:
    """Commit → delivery with workers that only poll, then with workers woken by commits."""
    found: dict[str, dict[str, float]] = {}
    with database(backend) as url:
        db = Database(url, pool_size=4)
        with db.write() as session:
            endpoints.create_endpoint(session, endpoints.EndpointSpec(receiver.url),
                                      ["127.0.0.0/8"], SystemClock().now())
        try:
            for mode, listen in (("polling", False), ("woken", True)):
                if backend == "postgresql":
                    workers = _workers(url, args.poll, listen)
                    time.sleep(3)  # both processes up and idle
                    try:
                        found[mode] = _figures(_latency(db, receiver, args.rate, args.seconds))
                    finally:
                        _stop(workers)
                else:
                    settings = Settings(database_url=url, worker_poll_seconds=args.poll,
                                        outbox_listen=listen,
                                        webhook_allowed_networks=["127.0.0.0/8"])
                    running = DeliveryWorker(db, settings, SystemClock()).start()
                    try:
                        found[mode] = _figures(_latency(db, receiver, args.rate, args.seconds))
                    finally:
                        running.stop()
        finally:
            db.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--poll", type=float, default=1.0,
                        help="the workers' poll interval in the wake-on-commit comparison")
    args = parser.parse_args()
    receiver = Receiver().start()
    results: dict[str, Any] = {}
    try:
        with database("postgresql") as url:
            db = Database(url, pool_size=4)
            with db.write() as session:
                endpoints.create_endpoint(session, endpoints.EndpointSpec(receiver.url),
                                          ["127.0.0.0/8"], SystemClock().now())
            workers = _workers(url)
            try:
                time.sleep(3)  # both processes up and polling
                outbox, direct = [], []
                for _ in range(args.rounds):
                    outbox.append(_outbox_round(db, receiver, args.messages))
                    direct.append(_direct_round(receiver.url, args.messages))
                latencies = _latency(db, receiver, args.rate, args.seconds)
            finally:
                _stop(workers)
                db.dispose()
        wake = {backend: _wake_latency(backend, receiver, args)
                for backend in ("postgresql", "sqlite")}
    finally:
        receiver.stop()
    outbox_median, direct_median = statistics.median(outbox), statistics.median(direct)
    results = {
        "deliveries_per_second": round(outbox_median, 1),
        "direct_posts_per_second": round(direct_median, 1),
        "ratio": round(outbox_median / direct_median, 3),
        "rounds": {"outbox": [round(v, 1) for v in outbox],
                   "direct": [round(v, 1) for v in direct]},
        "commit_to_delivery_ms": _figures(latencies),
        f"wake_on_commit_ms_poll_{args.poll}s": wake,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
