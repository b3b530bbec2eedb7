"""A renewal burst under Stripe's test-mode rate limits, the sandbox in its own process:
Stripe requests per event, the share answered 429, events per second, and paid → fulfilled
for checkouts made during the burst; reads by list (services/stripe_sync/list_reads.py)
against one fetch per object per batch, in the same run.

Each variant on a fresh database and a fresh sandbox: the sandbox alone under uvicorn (its
limiter off for the set-up), plangate's API as ``plangate serve`` and its workers as
``plangate worker`` processes. ``--subscriptions`` Pro subscriptions are bought through
plangate's checkout and paid on the sandbox's hosted page (``--buyers`` at once), all on one
test clock, and synced by as many workers as the burst has (one on SQLite).
Then the sandbox refuses past ``--limit`` requests per second (Stripe's test mode: 25, for
the account and per endpoint), plangate's call budget is a fifth under it, ``--workers``
worker processes start, and one test-clock advance ends every trial at once. During the
burst (from the advance's answer: the sandbox renews everything inside that call) a customer
buys Pro every ``--checkout-every`` seconds; the figure is the time from the hosted page's
answer to ``GET /v1/checkout-sessions/{id}`` saying ``fulfilled: true``, polled as the success
page does (``--poll page``), or to the ownership's existence in the database, the webhooks'
path alone (``--poll database``); each checkout's wait is split into the sandbox's queue,
the delivery, plangate's queue and the poller (``stages``). The burst ends when the
sandbox has delivered every webhook and no event is pending. Requests are counted by the
sandbox (per endpoint, 429s apart), less the advance itself.

    scripts/with-postgres .venv/bin/python -m bench.renewal_burst --subscriptions 1000
        [--limit 25] [--workers 2] [--variants before,after] [--poll page|database]
        [--buyers 8]

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, or_, select

from bench.throughput import KEY, _pending, _process, _wait, bench_stack
from plangate.sandbox import pay_checkout_session
from plangate.store.db import Database
from plangate.store.models import Customer, Ownership, StripeEvent

TRIAL_END = timedelta(days=14, hours=2)


def run_sandbox(port: int) -> None:
    """The sandbox alone under uvicorn. ``GET /_bench/status``: requests admitted (by
    endpoint) and refused, deliveries still queued; ``POST /_bench/limit?per_second=``: the
    limits from now on (0: off)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from plangate.sandbox import RateLimits, Sandbox, SandboxConfig, create_app

    off = RateLimits(global_per_second=1e9, endpoint_per_second=1e9)
    sandbox = Sandbox(SandboxConfig(rate_limits=off, public_url=f"http://127.0.0.1:{port}"))
    limiter = sandbox.limiter
    assert limiter is not None
    by_endpoint: Counter[str] = Counter()
    admit = limiter.admit

    def counted(api_key: str, endpoint: str) -> None:
        admit(api_key, endpoint)
        by_endpoint[endpoint] += 1

    limiter.admit = counted  # type: ignore[method-assign]
    # When each event's deliveries were handed to the dispatcher (its unit of work flushed)
    # and when its first attempt began: the sandbox's share of a checkout's wait.
    hooks = sandbox.webhooks
    scheduled: dict[str, float] = {}
    sent: dict[str, float] = {}
    schedule, attempt = hooks.schedule, hooks._attempt  # noqa: SLF001

    def scheduling(deliveries: list[Any]) -> None:
        for d in deliveries:
            scheduled.setdefault(d.event_id, time.time())
        schedule(deliveries)

    def attempting(d: Any) -> None:
        sent.setdefault(d.event_id, time.time())
        attempt(d)

    hooks.schedule = scheduling  # type: ignore[method-assign]
    hooks._attempt = attempting  # type: ignore[method-assign]  # noqa: SLF001

    async def status(_: Request) -> JSONResponse:
        hooks = sandbox.webhooks
        return JSONResponse({"queued": hooks.pending,
                             "admitted": limiter.admitted, "refused": limiter.refused,
                             "by_endpoint": dict(by_endpoint)})

    async def limit(request: Request) -> JSONResponse:
        rate = float(request.query_params["per_second"])
        limiter.limits = RateLimits(global_per_second=rate, endpoint_per_second=rate) \
            if rate else off
        limiter._buckets.clear()  # noqa: SLF001
        return JSONResponse({"per_second": rate})

    async def event_times(request: Request) -> JSONResponse:
        ids = request.query_params["ids"].split(",")
        return JSONResponse({i: [scheduled.get(i), sent.get(i)] for i in ids})

    app = Starlette(routes=[Route("/_bench/status", status),
                            Route("/_bench/limit", limit, methods=["POST"]),
                            Route("/_bench/events", event_times),
                            Mount("/", create_app(sandbox))])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _buy(http: httpx.Client, customer_id: str) -> tuple[str, float]:
    """A checkout paid on the hosted page: (its id, when the page answered, wall clock)."""
    resp = http.post("/v1/checkout-sessions", json={
        "customer_type": "user", "customer_id": customer_id, "product_id": "pro",
        "price_id": "monthly"})
    resp.raise_for_status()
    body = resp.json()
    pay_checkout_session(body["url"])
    return str(body["id"]), time.time()


def _progress(line: str) -> None:
    """A phase done, on stderr (the JSON goes to stdout at the end)."""
    print(f"{datetime.now(UTC):%H:%M:%S} {line}", file=sys.stderr, flush=True)


def _wall(at: datetime | None) -> float | None:
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _stages(db: Database, sandbox_url: str, customer: str, session_id: str, paid: float,
            seen: float) -> dict[str, Any]:
    """Where one checkout's wait went: of the customer's events, the first one handled (the
    one that fulfilled it), from the page's answer to the sandbox handing it to delivery
    (``scheduled``), its delivery starting (``sent``), plangate storing it (``received``),
    a worker finishing it (``handled``), the poller seeing the ownership (``seen``); seconds
    from ``paid``."""
    rows: list[Any] = []
    # A worker records an event handled just after its sync's commit: a moment to do so.
    for _ in range(20):
        with db.read() as session:
            stripe_id = session.scalar(select(Customer.stripe_customer_id).where(
                Customer.customer_type == "user", Customer.customer_id == customer))
            rows = list(session.execute(
                select(StripeEvent.id, StripeEvent.type, StripeEvent.received_at,
                       StripeEvent.handled_at)
                .where(or_(StripeEvent.stripe_customer_id == stripe_id,
                           StripeEvent.object_id == session_id),
                       StripeEvent.handled_at.is_not(None))).all())
        if rows:
            break
        time.sleep(0.05)
    if not rows:
        return {"by": "poll", "seen": round(seen - paid, 3)}
    first = min(rows, key=lambda r: _wall(r.handled_at) or 0.0)
    scheduled, sent = httpx.get(sandbox_url + "/_bench/events", params={"ids": first.id},
                                timeout=30).json()[first.id]

    def since(at: float | None) -> float | None:
        return None if at is None else round(at - paid, 3)

    # The poll's own sync fulfilled it when the first event was handled after it was seen.
    by = "poll" if (_wall(first.handled_at) or 0.0) > seen + 0.2 else "webhook"
    return {"event": first.type, "by": by, "scheduled": since(scheduled), "sent": since(sent),
            "received": since(_wall(first.received_at)),
            "handled": since(_wall(first.handled_at)), "seen": since(seen)}


def _fulfilled_in_database(db: Database, customer: str) -> None:
    while True:
        with db.read() as session:
            owned = session.scalar(select(func.count()).select_from(Ownership).where(
                Ownership.customer_id == customer, Ownership.ended_at.is_(None)))
        if owned:
            return
        time.sleep(0.01)


def _fulfilled_on_page(http: httpx.Client, session_id: str) -> int:
    """The hosted success page's polls: at once, then after 1 s, growing by a fifth; returns
    how many it took."""
    delay, polls = 1.0, 1
    while not http.get(f"/v1/checkout-sessions/{session_id}").json()["fulfilled"]:
        time.sleep(delay)
        delay, polls = min(delay * 1.2, 5.0), polls + 1
    return polls


def _checkouts_during(http: httpx.Client, db: Database, sandbox_url: str,
                      args: argparse.Namespace, done: threading.Event,
                      stages: list[dict[str, Any]], failed: list[str]) -> None:
    """A checkout every ``--checkout-every`` seconds until ``done``; each one's wait for
    fulfilment is watched as ``--poll`` says: ``page``, as the success page polls plangate's
    API (whose poll syncs the session itself); ``database``, the ownership watched in the
    database (the webhooks' path alone), then confirmed by the API. A checkout plangate
    could not create is counted in ``failed``."""
    n = 0
    while not done.wait(args.checkout_every):
        customer = f"during{n}"
        n += 1
        try:
            session_id, paid = _buy(http, customer)
        except httpx.HTTPStatusError as exc:
            failed.append(f"{exc.response.status_code}: {exc.response.text[:200]}")
            continue
        polls = None
        if args.poll == "page":
            polls = _fulfilled_on_page(http, session_id)
        else:
            _fulfilled_in_database(db, customer)
        seen = time.time()
        assert http.get(f"/v1/checkout-sessions/{session_id}").json()["fulfilled"]
        stage = _stages(db, sandbox_url, customer, session_id, paid, seen)
        if args.poll == "database":
            stage["by"] = "webhook"  # nothing polled: a worker's record only came late
        stages.append({**stage, "polls": polls})


def _stage_figures(stages: list[dict[str, Any]]) -> dict[str, Any]:
    """Per step (sandbox's queue, delivery, plangate's queue, poller), p50 and max of each
    checkout's time in it, and the slowest checkouts' whole breakdown."""
    steps = ("scheduled", "sent", "received", "handled", "seen")
    out: dict[str, Any] = {}
    for before, after in zip(("paid", *steps), steps, strict=False):
        spans = [s[after] - s.get(before, 0.0) for s in stages
                 if s.get(after) is not None and (before == "paid" or s.get(before) is not None)]
        out[f"{before}_to_{after}"] = {"p50_ms": _p(spans, 0.5), "max_ms": _p(spans, 1.0)}
    out["fulfilled_by_poll"] = sum(s["by"] == "poll" for s in stages)
    out["slowest"] = sorted(stages, key=lambda s: -s["seen"])[:5]
    return out


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def _burst(backend: str, args: argparse.Namespace, list_reads: bool) -> dict[str, Any]:
    with bench_stack(backend, "bench.renewal_burst", retries=5) as stack:
        env, db, key, status = stack.env, stack.db, stack.key, stack.status
        sandbox_url, api_url, api_port = stack.sandbox_url, stack.api_url, stack.api_port
        client = stack.client
        t0 = int(time.time())
        clock = client.v1.test_helpers.test_clocks.create({"frozen_time": t0})
        env.update({"PLANGATE_STRIPE_TEST_CLOCK": clock.id,
                    "PLANGATE_STRIPE_LIST_READS": "true" if list_reads else "false"})

        def settled(deadline: float) -> None:
            said = time.monotonic()
            while (queued := status()["queued"]) or (pending := _pending(db)):
                if time.monotonic() > deadline:
                    raise TimeoutError("events were still waiting at the deadline")
                if time.monotonic() - said > 60:
                    _progress(f"waiting: {queued} deliveries queued, "
                              f"{pending if not queued else '?'} events pending")
                    said = time.monotonic()
                time.sleep(0.2)

        serve = ["-m", "plangate.cli", "serve", "--port", str(api_port), "--workers", "1"]
        http = httpx.Client(base_url=api_url, timeout=60,
                            headers={"Authorization": f"Bearer {key}"})
        # Set-up: limits off, as many workers as the burst (one on SQLite), buyers in parallel.
        setup_workers = 1 if backend == "sqlite" else args.workers
        with _process(serve, env) as api, ThreadPoolExecutor(args.buyers) as pool, \
                ExitStack() as setup:
            for _ in range(setup_workers):
                setup.enter_context(_process(["-m", "plangate.cli", "worker"], env))
            _wait(api_url + "/livez", api)
            set_up = time.perf_counter()
            list(pool.map(lambda n: _buy(http, f"s{n}"), range(args.subscriptions)))
            settled(time.monotonic() + 3 * 3600)
            setup_seconds = time.perf_counter() - set_up
        _progress(f"set-up: {args.subscriptions} subscriptions synced in {setup_seconds:.0f} s")
        with db.read() as session:
            trial_end = {sub: end for sub, end in session.execute(
                select(Ownership.stripe_subscription_id, Ownership.current_period_end)
                .where(Ownership.ended_at.is_(None)))}
            stored_before = int(session.scalar(
                select(func.count()).select_from(StripeEvent)) or 0)
        assert len(trial_end) == args.subscriptions, "the set-up did not sync"
        if args.limit:
            httpx.post(sandbox_url + f"/_bench/limit?per_second={args.limit}")
        # Every process of the installation shares a budget a fifth under the limit.
        env["PLANGATE_STRIPE_RATE_LIMIT"] = str(0.8 * args.limit)
        with _process(serve, env) as api:
            _wait(api_url + "/livez", api)
            before = status()
            workers = [_process(["-m", "plangate.cli", "worker"], env)
                       for _ in range(args.workers)]
            for p in workers:
                p.__enter__()
            done, stages, failed = threading.Event(), list[dict[str, Any]](), list[str]()
            buyer = threading.Thread(target=_checkouts_during, args=(
                http, db, sandbox_url, args, done, stages, failed))
            try:
                started = time.perf_counter()
                # The sandbox renews every subscription inside this call, and answers
                # nothing else meanwhile; the checkouts start once it returns.
                # Past the SDK's 80 s timeout at a few thousand renewals (its retry would
                # reuse the idempotency key of the advance still running): one long POST.
                httpx.post(f"{sandbox_url}/v1/test_helpers/test_clocks/{clock.id}/advance",
                           data={"frozen_time": t0 + int(TRIAL_END.total_seconds())},
                           auth=(KEY, ""), timeout=3600).raise_for_status()
                advanced = time.perf_counter() - started
                _progress(f"advance answered in {advanced:.0f} s")
                buyer.start()
                settled(time.monotonic() + 3600)
                elapsed = time.perf_counter() - started
                _progress(f"burst handled in {elapsed:.0f} s, {len(stages)} checkouts during it")
                done.set()
                buyer.join()
                settled(time.monotonic() + 600)
            finally:
                for p in workers:
                    p.__exit__(None, None, None)
            after = status()
        with db.read() as session:
            events = int(session.scalar(
                select(func.count()).select_from(StripeEvent)) or 0) - stored_before
            renewed = 0
            for sub, end in session.execute(
                    select(Ownership.stripe_subscription_id, Ownership.current_period_end)
                    .where(Ownership.ended_at.is_(None))):
                was = trial_end.get(sub)
                renewed += was is not None and end is not None and end > was
    latencies = [s["seen"] for s in stages]
    admitted = after["admitted"] - before["admitted"] - 1  # less the advance
    refused = after["refused"] - before["refused"]
    by_endpoint = {k: v - before["by_endpoint"].get(k, 0)
                   for k, v in after["by_endpoint"].items()
                   if v - before["by_endpoint"].get(k, 0)}
    return {
        "list_reads": list_reads,
        "setup_seconds": round(setup_seconds, 1),
        "events": events,
        "stripe_requests": admitted + refused,
        "requests_per_event": round((admitted + refused) / events, 3),
        "answered_429": refused,
        "share_429": round(refused / max(admitted + refused, 1), 4),
        "requests_by_endpoint": by_endpoint,
        "seconds": round(elapsed, 1),
        "advance_seconds": round(advanced, 1),
        "events_per_second": round(events / elapsed, 1),
        # From the advance's answer on: plangate's handling while the sandbox delivers.
        "events_per_second_after_advance": round(events / (elapsed - advanced), 1),
        "renewed": renewed,
        "checkouts_during": len(latencies),
        "checkouts_failed": failed,
        "paid_to_fulfilled_p50_ms": _p(latencies, 0.5),
        "paid_to_fulfilled_p99_ms": _p(latencies, 0.99),
        "paid_to_fulfilled_max_ms": _p(latencies, 1.0),
        "stages": _stage_figures(stages),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "sandbox":
        run_sandbox(int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--limit", type=float, default=25.0, help="sandbox rate (0: none)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--buyers", type=int, default=8,
                        help="threads buying the set-up's subscriptions")
    parser.add_argument("--checkout-every", type=float, default=2.0)
    parser.add_argument("--poll", choices=("page", "database"), default="page",
                        help="how a checkout's fulfilment is watched")
    parser.add_argument("--variants", default="before,after")
    args = parser.parse_args()
    load = os.getloadavg()
    results = [_burst(args.backend, args, variant == "after")
               for variant in args.variants.split(",")]
    out: dict[str, Any] = {
        "benchmark": "renewal_burst", "cpus": os.cpu_count(), "backend": args.backend,
        "subscriptions": args.subscriptions, "workers": args.workers, "poll": args.poll,
        "sandbox_limit_per_second": args.limit or None,
        "load_average_at_start": [round(x, 2) for x in load],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "results": results,
    }
    if len(results) == 2:
        out["requests_per_event_ratio"] = round(
            results[1]["requests_per_event"] / results[0]["requests_per_event"], 3)
        out["events_per_second_ratio"] = round(
            results[1]["events_per_second"] / results[0]["events_per_second"], 2)
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
