"""The processes of the chaos cluster, each started on its own by ``cluster.py``:

    python -m bench.chaos.procs sandbox --port P --seed S [--calm]
    python -m bench.chaos.procs api --port P --workers 2
    python -m bench.chaos.procs worker
    python -m bench.chaos.procs reconcile

``api``, ``worker`` and ``reconcile`` are ``plangate serve``, ``plangate worker`` and
``plangate reconcile`` with one difference: plangate's clock is the simulated time, read from
the file ``PLANGATE_CHAOS_CLOCK`` names (the driver writes it before each test-clock advance),
so that plangate and the sandbox's test clock agree on "now" as in the end-to-end tests. The
queues' leases keep the wall clock, as in production. Everything else (settings, database,
gateway, budget) comes from the environment as for the real commands.

``sandbox`` is the sandbox with Stripe's test-mode rate limits, seeded faults (5xx and
answers later than plangate's Stripe timeout) and webhook chaos (duplicates, reordering,
drops), plus ``GET /_chaos/status`` for the driver: deliveries still queued, dropped and
duplicated events, the limiter's and the faults' counts.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plangate.settings import Settings

CLOCK_ENV = "PLANGATE_CHAOS_CLOCK"


class FileClock:
    """The simulated "now": the ISO timestamp in a file the driver replaces atomically."""

    def __init__(self, path: str | None = None) -> None:
        self.path = Path(path or os.environ[CLOCK_ENV])

    def now(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text().strip()).astimezone(UTC)

    def set(self, when: datetime) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(when.isoformat())
        tmp.replace(self.path)


# --- plangate ----------------------------------------------------------------------------------

# How long uvicorn's supervisor waits for an API process to answer its health check.
API_HEALTHCHECK_SECONDS = 120


def api_app() -> Any:
    """``plangate serve``'s application on the simulated clock (a uvicorn factory)."""
    from plangate.web import create_site

    return create_site(Settings(), clock=FileClock())


def _sync_context(settings: Settings, clock_path: str | None = None) -> Any:
    from plangate.gateways import make_gateway
    from plangate.services.entitlements.catalog import CatalogCache
    from plangate.services.stripe_budget import budget_for
    from plangate.services.stripe_sync.sync import SyncContext
    from plangate.store.db import Database

    db = Database(settings.database_url, pool_size=4)
    return SyncContext(db, make_gateway(settings, budget_for(db, settings)), CatalogCache(),
                       FileClock(clock_path))


def run_api(port: int, workers: int) -> None:
    import uvicorn

    from plangate.observability.logs import logging_config

    settings = Settings()
    uvicorn.run("bench.chaos.procs:api_app", factory=True, host="127.0.0.1", port=port,
                workers=workers, log_level=settings.log_level, access_log=False,
                log_config=logging_config(settings.log_format, settings.log_level),
                # uvicorn's supervisor kills a child that does not answer its ping within
                # this; its default, 5 s, is shorter than plangate's start on a loaded
                # machine, and the children are then killed and restarted for ever.
                timeout_worker_healthcheck=API_HEALTHCHECK_SECONDS)


def run_worker() -> None:
    from plangate.observability.logs import configure_logging
    from plangate.services.stripe_sync.worker import Worker

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    worker = Worker(_sync_context(settings), settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    # Started: from now on the killer may choose this process (one still importing is left
    # alone, or on a loaded machine no worker would ever get to work).
    Path(os.environ[CLOCK_ENV]).with_name(f"ready-{os.getpid()}").touch()
    worker.run_forever(stop)


def run_reconcile(settings: Settings, clock_path: str | None = None) -> dict[str, Any]:
    """``plangate reconcile --json`` on the simulated clock: the report."""
    from plangate.services.stripe_sync.reconcile import reconcile

    ctx = _sync_context(settings, clock_path)
    try:
        lease = _reconcile_lease(ctx.db)
        if lease is None:
            report = reconcile(ctx)
        else:
            try:
                report = reconcile(ctx, keep_going=lease.keep)
            finally:
                lease.release(finished=True)
    finally:
        ctx.db.dispose()
    result: dict[str, Any] = report.to_dict()
    return result


def _reconcile_lease(db: Any) -> Any:
    """The installation's reconcile lease, once a live worker's reconcile is over; None when
    the holder is a killed worker, whose lease would hold everyone off for LEASE_SECONDS (the
    kills are over by then, and nobody else reconciles)."""
    from plangate.clock import SystemClock
    from plangate.services.stripe_sync import reconcile_lease

    while True:
        lease = reconcile_lease.take(db, SystemClock(), reconcile_lease.new_holder())
        if not isinstance(lease, reconcile_lease.Busy):
            return lease
        if lease.holder is not None and not _alive(lease.holder):
            return None
        threading.Event().wait(1.0)


def _alive(holder: str) -> bool:
    """Whether the process a lease holder names (``host:pid:nonce``) still runs here."""
    try:
        os.kill(int(holder.split(":")[1]), 0)
    except (ProcessLookupError, ValueError, IndexError):
        return False
    except PermissionError:
        return True
    return True


# --- the sandbox -------------------------------------------------------------------------------


def _duplicates(log: list[Any]) -> int:
    """Deliveries answered 2xx beyond the first of their event: what the receiver deduplicated."""
    delivered = [r.event_id for r in list(log) if r.status is not None and 200 <= r.status < 300]
    return len(delivered) - len(set(delivered))


def run_sandbox(port: int, seed: int, calm: bool) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from plangate.sandbox import Chaos, Faults, RateLimits, Sandbox, SandboxConfig, create_app

    chaos = None if calm else Chaos(seed, duplicate_rate=0.3, reorder_window=8, drop_rate=0.05)
    # Slow answers come after plangate's Stripe timeout (PLANGATE_STRIPE_TIMEOUT_SECONDS, set
    # by the cluster below this): timeouts whose work was done.
    faults = None if calm else Faults(seed, error_rate=0.02, slow_rate=0.01, slow_seconds=4.0)
    sandbox = Sandbox(SandboxConfig(
        chaos=chaos, faults=faults, rate_limits=RateLimits(mode="test"), tick_seconds=60,
        public_url=f"http://127.0.0.1:{port}",
    ))
    webhooks = sandbox.webhooks

    async def status(_: Request) -> JSONResponse:
        limiter, injected = sandbox.limiter, sandbox.faults
        return JSONResponse({
            "queued": webhooks.pending,
            "dropped": len(webhooks.dropped),
            "attempts": len(webhooks.log),
            "duplicates": _duplicates(webhooks.log),
            "admitted": limiter.admitted if limiter else 0,
            "refused_429": limiter.refused if limiter else 0,
            "errors_5xx": injected.errors if injected else 0,
            "slow": injected.slow if injected else 0,
        })

    app = Starlette(routes=[Route("/_chaos/status", status), Mount("/", create_app(sandbox))])
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    finally:
        sandbox.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=("sandbox", "api", "worker", "reconcile"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calm", action="store_true", help="sandbox without chaos or faults")
    args = parser.parse_args()
    if args.role == "sandbox":
        run_sandbox(args.port, args.seed, args.calm)
    elif args.role == "api":
        run_api(args.port, args.workers)
    elif args.role == "worker":
        run_worker()
    else:
        import json

        print(json.dumps(run_reconcile(Settings())))


if __name__ == "__main__":
    main()
