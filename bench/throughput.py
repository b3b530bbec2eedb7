"""plangate's own throughput with Stripe's reads out of the way: signed events accepted per
second by ``POST /v1/stripe/webhooks``, and events handled per second by ``plangate worker``
processes, with the sandbox in its own process and no rate limit anywhere (the sandbox's
limiter only counts; plangate's call budget is off).

* Set-up: ``--subscriptions`` real subscriptions bought through plangate's checkout and the
  sandbox's hosted page, synced by one worker, which then stops.
* Accept: ``--events`` distinct ``customer.subscription.updated`` events of those
  subscriptions (their current JSON, Stripe's signature scheme with the endpoint's secret),
  signed just before each round, POSTed by wrk (``signed_events.lua``, ``--connections``) to
  ``plangate serve --workers A`` for each A of ``--api-processes``, ``--rounds`` rounds of
  ``--seconds`` alternating with wrk against ``GET /livez`` of the same server; the ratio is
  events/s over livez/s (medians). A round that sends all its events re-sends some: it says
  so (``wrapped``).
* Handle: the queue the accept phase filled, emptied by ``plangate worker`` processes (4 on
  PostgreSQL, 1 on SQLite); the clock starts at the first event handled (not the workers'
  imports) and stops when none is pending. Beside it, the sandbox's requests in that window.
  ``--order interleaved``: consecutive events name different subscriptions, so each leased
  batch fetches every one of its objects (the sandbox's reads count); ``grouped``: consecutive
  events name the same subscription, so a batch needs one fetch and reuses it (plangate's own
  cost with Stripe's reads nearly gone, not Stripe's).

    scripts/with-postgres .venv/bin/python -m bench.throughput --backend both \\
        [--events 20000] [--subscriptions 100] [--order interleaved|grouped|both]

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import stripe
from sqlalchemy import func, select

from bench.harness import EXAMPLE, ROOT, database, free_port, median, wrk
from plangate.domain.catalog import parse_catalog
from plangate.sandbox import pay_checkout_session
from plangate.sandbox.webhooks import sign
from plangate.services.access.keys import create_key
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.stripe_sync.catalog_push import push_catalog
from plangate.services.stripe_sync.webhooks import WEBHOOK_EVENTS
from plangate.store.db import Database
from plangate.store.models import StripeEvent

KEY = "sk_test_throughput"
LUA = Path(__file__).with_name("signed_events.lua")


def run_sandbox(port: int) -> None:
    """The sandbox alone under uvicorn, its limiter far above anything reached (it counts),
    with ``GET /_bench/status``: requests admitted and deliveries still queued."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from plangate.sandbox import RateLimits, Sandbox, SandboxConfig, create_app

    limits = RateLimits(global_per_second=1e9, endpoint_per_second=1e9)
    sandbox = Sandbox(SandboxConfig(rate_limits=limits, public_url=f"http://127.0.0.1:{port}"))

    async def status(_: Request) -> JSONResponse:
        hooks, limiter = sandbox.webhooks, sandbox.limiter
        return JSONResponse({"queued": hooks.pending,
                             "admitted": limiter.admitted if limiter else 0})

    app = Starlette(routes=[Route("/_bench/status", status), Mount("/", create_app(sandbox))])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _wait(url: str, process: subprocess.Popen[bytes], seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


@contextmanager
def _process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def installation(url: str, sandbox_url: str, api_url: str, env: dict[str, str], *,
                 retries: int = 0) -> tuple[stripe.StripeClient, Database, str]:
    """The example catalog pushed to the sandbox and applied, a webhook endpoint for
    ``api_url``, an API key; ``env`` gets the settings of plangate's processes. Returns the
    sandbox's client, the database and the key."""
    client = stripe.StripeClient(KEY, base_addresses={"api": sandbox_url},
                                 max_network_retries=retries)
    endpoint = client.v1.webhook_endpoints.create(
        {"url": api_url + "/v1/stripe/webhooks",
         "enabled_events": list(WEBHOOK_EVENTS)})  # type: ignore[arg-type]
    text = EXAMPLE.read_text()
    catalog = parse_catalog(text)
    push_catalog(client, catalog)
    db = Database(url, pool_size=3)
    with db.write() as session:
        catalog_service.apply_catalog(session, catalog, datetime.now(UTC), source_text=text)
        key = create_key(session, "bench", datetime.now(UTC)).secret
    env.update({"PLANGATE_DATABASE_URL": url, "PLANGATE_BASE_URL": api_url,
                "PLANGATE_GATEWAY": "stripe", "PLANGATE_STRIPE_API_KEY": KEY,
                "PLANGATE_STRIPE_API_BASE": sandbox_url,
                "PLANGATE_STRIPE_WEBHOOK_SECRET": str(endpoint.secret),
                "PLANGATE_STRIPE_RATE_LIMIT": "0", "PLANGATE_WORKER_POLL_SECONDS": "0.2",
                "PLANGATE_RECONCILE_INTERVAL_SECONDS": "0"})
    return client, db, key


@dataclass
class BenchStack:
    """What a benchmark's run starts from: a throwaway database with the example catalog, the
    bench's sandbox in its own process, a free port for plangate's API, and the settings of
    plangate's processes (``env``, see :func:`installation`)."""

    url: str
    sandbox_url: str
    api_port: int
    env: dict[str, str]
    client: stripe.StripeClient
    db: Database
    key: str

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def status(self) -> dict[str, Any]:
        """The sandbox's ``GET /_bench/status``."""
        body: dict[str, Any] = httpx.get(self.sandbox_url + "/_bench/status", timeout=30).json()
        return body


@contextmanager
def bench_stack(backend: str, sandbox_module: str, *, retries: int = 0) -> Iterator[BenchStack]:
    """A fresh database, free ports, ``python -m <sandbox_module> sandbox --port N`` (the
    bench's sandbox, with ``/_bench/status``) until it answers, and the installation; stops
    the sandbox and drops the database after."""
    with database(backend) as url:
        sandbox_port, api_port = free_port(), free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        env = {**os.environ, "PLANGATE_LOG_LEVEL": "warning"}
        with _process(["-m", sandbox_module, "sandbox", "--port", str(sandbox_port)],
                      env) as sandbox_process:
            _wait(sandbox_url + "/_bench/status", sandbox_process)
            client, db, key = installation(url, sandbox_url, f"http://127.0.0.1:{api_port}",
                                           env, retries=retries)
            try:
                yield BenchStack(url, sandbox_url, api_port, env, client, db, key)
            finally:
                db.dispose()


def _pending(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(StripeEvent)
                                  .where(StripeEvent.status == "pending")) or 0)


def _raw_list(url: str) -> list[dict[str, Any]]:
    """Every object of a Stripe list endpoint, as the JSON Stripe sends (events carry it)."""
    objects: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = httpx.get(url, params=params, auth=(KEY, ""), timeout=60).raise_for_status().json()
        objects += page["data"]
        if not page["has_more"]:
            return objects
        params["starting_after"] = objects[-1]["id"]


# --- one run ---------------------------------------------------------------------------------


def _events(subscriptions: list[dict[str, Any]], count: int, first: int, order: str,
            secret: str, path: Path) -> None:
    """``count`` distinct signed ``customer.subscription.updated`` events of the subscriptions."""
    now, n_subs, lines = int(time.time()), len(subscriptions), []
    per_sub = -(-count // n_subs)
    for i in range(count):
        sub = subscriptions[i % n_subs if order == "interleaved" else i // per_sub]
        event = {"id": f"evt_bench{first + i:08d}", "object": "event", "api_version": "2025-08-27",
                 "created": now, "livemode": False, "pending_webhooks": 1,
                 "type": "customer.subscription.updated",
                 "request": {"id": None, "idempotency_key": None},
                 "data": {"object": sub, "previous_attributes": {"metadata": {}}}}
        body = json.dumps(event, separators=(",", ":"))
        lines.append(f"{sign(body, secret, now)}\t{body}\n")
    path.write_text("".join(lines))


def _accept(api_url: str, args: argparse.Namespace, write: Any) -> dict[str, Any]:
    """wrk against ``/livez``, then POSTing the signed events, alternating rounds."""
    wrk(api_url + "/livez", key=None, seconds=1, connections=args.connections)  # warm-up
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.tsv"
        for n in range(args.rounds):
            write(path, n)  # new events, signed now (a signature is good for 5 minutes)
            base = wrk(api_url + "/livez", key=None, seconds=args.seconds,
                       connections=args.connections, threads=2)
            sent = wrk(api_url + "/v1/stripe/webhooks", key=None, seconds=args.seconds,
                      connections=args.connections, threads=2,
                      script=[str(LUA), str(path), "2"])
            assert sent.non_2xx == 0, "the webhook endpoint answered errors"
            rounds.append((sent, base))
    got = [g for g, _ in rounds]
    return {
        "events_per_round": args.events,
        "requests_sent": [g.requests for g in got],
        # A round that sent more requests than it had events re-sent some (duplicates).
        "wrapped": any(g.requests > args.events for g in got),
        "accepted_per_second_median": round(median([g.requests_per_second for g in got])),
        "livez_per_second_median": round(median([b.requests_per_second for _, b in rounds])),
        "ratio_median": round(median([g.requests_per_second / b.requests_per_second
                                      for g, b in rounds]), 3),
        "p50_ms_median": round(median([g.latency_p50_ms for g in got]), 2),
        "p99_ms_median": round(median([g.latency_p99_ms for g in got]), 2),
        "rounds": args.rounds, "seconds": args.seconds, "connections": args.connections,
    }


def run(backend: str, args: argparse.Namespace, order: str) -> dict[str, Any]:
    workers = 1 if backend == "sqlite" else args.workers
    with bench_stack(backend, "bench.throughput") as stack:
        env, db, key, status = stack.env, stack.db, stack.key, stack.status
        sandbox_url, api_url, api_port = stack.sandbox_url, stack.api_url, stack.api_port
        endpoint_secret = env["PLANGATE_STRIPE_WEBHOOK_SECRET"]
        out: dict[str, Any] = {"backend": backend, "order": order, "accept": []}
        serve = ["-m", "plangate.cli", "serve", "--port", str(api_port), "--workers"]
        # Set-up: real subscriptions, synced by one worker.
        with _process([*serve, "1"], env) as api, \
                _process(["-m", "plangate.cli", "worker"], env):
            _wait(api_url + "/livez", api)
            http = httpx.Client(base_url=api_url, timeout=60,
                                headers={"Authorization": f"Bearer {key}"})
            for n in range(args.subscriptions):
                resp = http.post("/v1/checkout-sessions", json={
                    "customer_type": "user", "customer_id": f"t{n}", "product_id": "pro"})
                resp.raise_for_status()
                pay_checkout_session(resp.json()["url"])
            deadline = time.monotonic() + 600
            while status()["queued"] or _pending(db):
                if time.monotonic() > deadline:
                    raise TimeoutError("the set-up's events were not handled")
                time.sleep(0.5)
        subs = _raw_list(sandbox_url + "/v1/subscriptions")
        out["subscriptions"] = len(subs)
        first = 0
        for processes in args.api_processes:
            with _process([*serve, str(processes)], env) as api:
                _wait(api_url + "/livez", api)
                offset = first
                out["accept"].append(_accept(api_url, args, lambda path, n: _events(
                    subs, args.events, offset + n * args.events, order,  # noqa: B023
                    endpoint_secret, path)))
                out["accept"][-1]["api_processes"] = processes
            first += args.rounds * args.events
        queued = _pending(db)
        before = status()["admitted"]
        worker_procs = [_process(["-m", "plangate.cli", "worker"], env)
                        for _ in range(workers)]
        for p in worker_procs:
            p.__enter__()
        try:
            while (left := _pending(db)) == queued:
                time.sleep(0.05)
            started, at_start = time.perf_counter(), left
            requests_at_start = status()["admitted"]
            while (left := _pending(db)) > 0:
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
            requests = status()["admitted"] - requests_at_start
        finally:
            for p in worker_procs:
                p.__exit__(None, None, None)
        out["handle"] = {
            "workers": workers, "queued": queued, "handled_in_window": at_start,
            "seconds": round(elapsed, 2),
            "handled_per_second": round(at_start / elapsed, 1),
            "sandbox_requests": requests,
            "sandbox_requests_per_second": round(requests / elapsed, 1),
            "sandbox_requests_per_event": round(requests / at_start, 3),
            "sandbox_requests_before_window": requests_at_start - before,
        }
        db.dispose()
        return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "sandbox":
        run_sandbox(int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default=None)
    parser.add_argument("--events", type=int, default=20000, help="per API process count")
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--order", choices=("interleaved", "grouped", "both"), default="both")
    parser.add_argument("--api-processes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 2])
    parser.add_argument("--workers", type=int, default=4, help="on PostgreSQL (1 on SQLite)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    backend = args.backend or ("both" if os.environ.get("PLANGATE_TEST_POSTGRES_URL") else "sqlite")
    backends = ("sqlite", "postgresql") if backend == "both" else (backend,)
    orders = ("interleaved", "grouped") if args.order == "both" else (args.order,)
    load = os.getloadavg()
    results = [run(b, args, o) for b in backends for o in orders]
    json.dump({"benchmark": "throughput", "cpus": os.cpu_count(),
               "load_average_at_start": [round(x, 2) for x in load],
               "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
               "results": results}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()

