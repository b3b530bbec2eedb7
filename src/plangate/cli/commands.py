"""The commands that run plangate and manage its keys: migrate, serve, worker, reconcile,
sandbox, keys."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from plangate.cli.common import command_settings, database, err, fail, out, shown_url
from plangate.clock import SystemClock
from plangate.settings import Settings


def migrate() -> None:
    """Bring the database schema up to date."""
    from plangate.store.migrate import upgrade

    current = command_settings()
    try:
        upgrade(current.database_url)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise fail(f"cannot migrate the database: {reason}") from None
    out.print(f"database up to date: {shown_url(current)}")


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the API and the dashboard (run `plangate migrate` first)."""
    import uvicorn

    from plangate.observability.logs import logging_config

    current = command_settings()
    # Refuse to start on a schema that would make every request fail.
    database(current).dispose()
    uvicorn.run(
        "plangate.web:create_site",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=current.log_level,
        log_config=logging_config(current.log_format, current.log_level),
        # plangate.access logs each request instead, with its request id.
        access_log=False,
        # With several workers, the supervisor restarts a child that does not answer its
        # health check in time; importing plangate on a busy host can take longer than
        # uvicorn's 5 s, which would restart the children over and over.
        timeout_worker_healthcheck=60,
    )


def keys_create(name: Annotated[str, typer.Option(help="a label")] = "default") -> None:
    """Make a secret key. It is shown once; only its hash is stored."""
    from plangate.services.access.keys import create_key

    db = database(command_settings())
    with db.write() as session:
        key = create_key(session, name, SystemClock().now())
    out.print(key.secret, soft_wrap=True)
    err.print(f"key {key.id} ({name}) created; store it now, it will not be shown again")


def keys_list() -> None:
    """List keys (prefixes only)."""
    from plangate.services.access.keys import list_keys

    db = database(command_settings())
    table = Table("id", "name", "prefix", "created", "revoked")
    with db.read() as session:
        for row in list_keys(session):
            table.add_row(
                str(row.id),
                row.name,
                row.prefix + "…",
                str(row.created_at),
                str(row.revoked_at or ""),
            )
    out.print(table)


def keys_revoke(key_id: int) -> None:
    """Revoke a key (every process stops accepting it within 30 seconds)."""
    from plangate.services.access.keys import revoke_key

    db = database(command_settings())
    with db.write() as session:
        if not revoke_key(session, key_id, SystemClock().now()):
            raise fail(f"no live key {key_id}")
    out.print(f"key {key_id} revoked")


def worker(
    once: Annotated[bool, typer.Option(help="handle what is pending, then exit")] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="serve metrics at http://HOST:PORT/metrics (this process's; the "
                     "host's with PROMETHEUS_MULTIPROC_DIR)"),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="interface of --metrics-port")] = "127.0.0.1",
) -> None:
    """Handle Stripe events (and reconcile periodically) until stopped. One per SQLite
    database file (a second one refuses to start), any number on PostgreSQL."""
    import signal
    import threading

    from plangate.observability.logs import configure_logging
    from plangate.services.emails.worker import EmailWorker
    from plangate.services.events.delivery import DeliveryWorker
    from plangate.services.stripe_sync.single_worker import WorkerAlreadyRunning, claim_worker_lock
    from plangate.services.stripe_sync.worker import Worker

    current = command_settings()
    configure_logging(current.log_format, current.log_level)
    running = Worker(_sync_context(current), current)
    try:
        # Held until the process ends (the kernel drops it then, even on kill -9).
        lock = claim_worker_lock(running.sync.db)
    except WorkerAlreadyRunning as exc:
        raise fail(str(exc)) from None
    if metrics_port is not None:
        from prometheus_client import start_http_server

        from plangate.observability.metrics import host_registry

        # This process's counters, or the host's sums with PROMETHEUS_MULTIPROC_DIR.
        start_http_server(metrics_port, addr=metrics_host, registry=host_registry())
    # Outbound webhooks go out from the same process (the facts its sync records, too).
    deliveries = DeliveryWorker(running.sync.db, current, SystemClock())
    # And the billing emails (docs/emails.md).
    emails = EmailWorker(running.sync.db, current, SystemClock())
    if once:
        running.drain(timeout=3600)
        deliveries.drain()
        emails.drain()
        lock.release()
        out.print(f"handled {running.stats.handled} event(s)")
        return
    sending = deliveries.start()
    mailing = emails.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    err.print("plangate worker: handling Stripe events (Ctrl-C stops)")
    # The loop reconciles once at start (events missed while nothing ran), then hourly.
    try:
        running.run_forever(stop)
    finally:
        sending.stop()
        mailing.stop()
        lock.release()


def reconcile(
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Compare every Stripe customer's subscriptions and payments with plangate's state and
    repair drift (missed webhooks) through the ordinary sync."""
    from plangate.clock import SystemClock
    from plangate.services.stripe_sync import reconcile_lease
    from plangate.services.stripe_sync.reconcile import reconcile as run_reconcile

    ctx = _sync_context(command_settings())
    # One reconcile per installation at a time: a worker's (or another command's) may run.
    lease = reconcile_lease.take(ctx.db, SystemClock(), reconcile_lease.new_holder())
    if isinstance(lease, reconcile_lease.Busy):
        err.print(
            f"[red]error:[/] a reconcile is running already ({lease.holder}, its lease runs "
            f"until {lease.expires_at:%Y-%m-%d %H:%M:%S} UTC); try again when it is done"
        )
        raise typer.Exit(1)
    try:
        report = run_reconcile(ctx, keep_going=lease.keep)
    except BaseException:
        lease.release(finished=False)
        raise
    lease.release(finished=True)
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
        return
    repaired = [fix for fix in report.fixed if fix.changed]
    out.print(
        f"checked {report.customers} customer(s), {report.objects_checked} Stripe object(s); "
        f"repaired {len(repaired)}"
    )
    for fix in repaired:
        out.print(f"  {fix.object_type} {fix.object_id}: {fix.reason}")
    for error in report.errors:
        err.print(f"[red]error:[/] {error}")
    if report.errors:
        raise typer.Exit(1)


def sandbox(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 12111,
    db: Annotated[str | None, typer.Option(help="SQLite file that keeps its state")] = None,
    rate_limits: Annotated[
        str, typer.Option(help="Stripe's rate limits: off, test (25/s) or live (100/s)")
    ] = "off",
    error_rate: Annotated[float, typer.Option(help="share of requests answered 500")] = 0.0,
    slow_rate: Annotated[
        float, typer.Option(help="share of requests answered after --slow-seconds")
    ] = 0.0,
    slow_seconds: Annotated[float, typer.Option()] = 2.0,
    seed: Annotated[int, typer.Option(help="seed of the injected faults")] = 0,
) -> None:
    """Run the local Stripe-compatible sandbox on its own (docs/sandbox.md)."""
    from plangate.sandbox import Faults, RateLimits, SandboxConfig
    from plangate.sandbox import serve as serve_sandbox

    if rate_limits not in ("off", "test", "live"):
        raise fail("--rate-limits must be off, test or live")
    limits = RateLimits(mode=rate_limits) if rate_limits != "off" else None  # type: ignore[arg-type]
    faults = (Faults(seed, error_rate=error_rate, slow_rate=slow_rate, slow_seconds=slow_seconds)
              if error_rate or slow_rate else None)
    serve_sandbox(host, port, SandboxConfig(db_path=db, rate_limits=limits, faults=faults))


def _sync_context(current: Settings):  # type: ignore[no-untyped-def]
    from plangate.gateways import make_gateway
    from plangate.services.entitlements.catalog import CatalogCache
    from plangate.services.stripe_budget import budget_for
    from plangate.services.stripe_sync.sync import SyncContext

    if current.gateway != "stripe":
        raise fail("PLANGATE_GATEWAY is not stripe: there are no Stripe events to handle")
    db = database(current)
    try:
        gateway = make_gateway(current, budget_for(db, current))
    except ValueError as exc:
        raise fail(str(exc)) from None
    return SyncContext(db, gateway, CatalogCache(), SystemClock(),
                       dispute_policy=current.dispute_policy)
