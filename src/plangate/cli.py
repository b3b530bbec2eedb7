"""The ``plangate`` command line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from plangate.clock import SystemClock
from plangate.domain.catalog import Catalog, CatalogInvalid, diff_catalogs, parse_catalog
from plangate.settings import Settings

app = typer.Typer(help="plangate: billing and entitlements on top of Stripe.", no_args_is_help=True)
keys_app = typer.Typer(help="Server secret keys.", no_args_is_help=True)
catalog_app = typer.Typer(help="The catalog: what the app sells.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(catalog_app, name="catalog")

out = Console()
err = Console(stderr=True)

DEV_DIR = Path(".plangate")
EXAMPLE_CATALOG = Path("examples/plangate.toml")


def _settings() -> Settings:
    return Settings()


def _database(settings: Settings):  # type: ignore[no-untyped-def]
    from plangate.store.db import Database

    return Database(settings.database_url, pool_size=2)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)


def _read_catalog(path: Path) -> tuple[Catalog, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse_catalog(text), text
    except CatalogInvalid as exc:
        err.print(f"[bold red]{path}: {len(exc.problems)} problem(s); nothing was applied[/]")
        for problem in exc.problems:
            err.print(f"  {problem.path or '<file>'}: [yellow]{problem.code}[/] {problem.message}")
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from plangate.store.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    out.print(f"database up to date: {settings.database_url}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the API (run `plangate migrate` first)."""
    import uvicorn

    uvicorn.run(
        "plangate.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=_settings().log_level,
    )


@app.command()
def dev(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    catalog: Annotated[Path, typer.Option(help="catalog file to apply")] = EXAMPLE_CATALOG,
) -> None:
    """Run plangate on its embedded defaults: SQLite under ./.plangate, the example catalog,
    a development secret key."""
    from plangate.api.app import create_app
    from plangate.services.entitlements import catalog as catalog_service
    from plangate.store.migrate import upgrade

    DEV_DIR.mkdir(exist_ok=True)
    os.environ.setdefault("PLANGATE_DATABASE_URL", f"sqlite:///{DEV_DIR}/plangate.db")
    os.environ.setdefault("PLANGATE_BASE_URL", f"http://{host}:{port}")
    key_file = DEV_DIR / "dev-secret-key"
    if not key_file.exists():
        import secrets

        from plangate.services.access.keys import KEY_PREFIX

        key_file.write_text(KEY_PREFIX + "dev_" + secrets.token_urlsafe(24))
        key_file.chmod(0o600)
    dev_key = key_file.read_text().strip()
    os.environ["PLANGATE_SECRET_KEYS"] = json.dumps([dev_key])
    # Without a Stripe key, Stripe is the sandbox, mounted in this server (docs/stripe.md).
    sandbox_mode = not os.environ.get("PLANGATE_STRIPE_API_KEY")
    if sandbox_mode:
        from plangate import devstack

        devstack.use_sandbox_environment(os.environ["PLANGATE_BASE_URL"], DEV_DIR)
    settings = _settings()
    upgrade(settings.database_url)
    parsed, text = _read_catalog(catalog)
    db = _database(settings)
    with db.write() as session:
        applied = catalog_service.apply_catalog(
            session, parsed, SystemClock().now(), source_text=text
        )
    db.dispose()
    base = settings.base_url
    out.print(f"[bold green]plangate[/] dev server on [bold]{base}[/]")
    out.print(f"  API docs     {base}/docs")
    out.print(f"  secret key   {dev_key}")
    out.print(f"  catalog      {catalog} ({applied.version})")
    out.print(f"  database     {settings.database_url}")
    out.print(f"  try:         curl -s {base}/healthz")
    _serve_dev(create_app(settings), settings, parsed, sandbox_mode, host, port)


def _serve_dev(  # type: ignore[no-untyped-def]
    app, settings: Settings, catalog: Catalog, sandbox_mode: bool, host: str, port: int
) -> None:
    """Serves the dev app, with the sandbox mounted (no Stripe key) and the worker running."""
    import uvicorn

    from plangate import devstack

    base = settings.base_url
    sandbox = None
    if sandbox_mode:
        sandbox = devstack.mount_sandbox(app, settings, DEV_DIR)
        devstack.bootstrap_when_served(settings, catalog, DEV_DIR)
        out.print(f"  stripe       sandbox at {base}/sandbox (key {devstack.SANDBOX_KEY})")
    worker = devstack.start_worker(app) if settings.gateway == "stripe" else None
    if worker is not None:
        out.print(f"  webhooks     {base}/v1/stripe/webhooks, worker running in-process")
    try:
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level)
    finally:
        if worker is not None:
            worker.stop()
        if sandbox is not None:
            sandbox.close()


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Option(help="a label")] = "default") -> None:
    """Make a secret key. It is shown once; only its hash is stored."""
    from plangate.services.access.keys import create_key

    db = _database(_settings())
    with db.write() as session:
        key = create_key(session, name, SystemClock().now())
    out.print(key.secret, soft_wrap=True)
    err.print(f"key {key.id} ({name}) created; store it now, it will not be shown again")


@keys_app.command("list")
def keys_list() -> None:
    """List keys (prefixes only)."""
    from plangate.services.access.keys import list_keys

    db = _database(_settings())
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


@keys_app.command("revoke")
def keys_revoke(key_id: int) -> None:
    """Revoke a key (every process stops accepting it within 30 seconds)."""
    from plangate.services.access.keys import revoke_key

    db = _database(_settings())
    with db.write() as session:
        if not revoke_key(session, key_id, SystemClock().now()):
            raise _fail(f"no live key {key_id}")
    out.print(f"key {key_id} revoked")


@catalog_app.command("validate")
def catalog_validate(file: Path) -> None:
    """Check a catalog file and list every problem."""
    catalog, _ = _read_catalog(file)
    out.print(
        f"[green]valid[/]: {len(catalog.products)} products, {len(catalog.features)} features, "
        f"{len(catalog.items)} items, {len(catalog.lines)} lines (version {catalog.version})"
    )


@catalog_app.command("apply")
def catalog_apply(file: Path) -> None:
    """Make a catalog file the active catalog."""
    from plangate.services.entitlements import catalog as catalog_service

    catalog, text = _read_catalog(file)
    settings = _settings()
    if settings.gateway == "stripe":
        # Stripe first: a catalog must not become active before its prices can be sold.
        _push(settings, catalog)
    db = _database(settings)
    with db.write() as session:
        applied = catalog_service.apply_catalog(
            session, catalog, SystemClock().now(), source_text=text
        )
    if applied.created:
        out.print(f"applied new catalog version {applied.version}")
    elif applied.activated:
        out.print(f"catalog version {applied.version} is active again")
    else:
        out.print(f"catalog version {applied.version} is already active; nothing changed")


def _push(settings: Settings, catalog: Catalog) -> None:
    import stripe

    from plangate.gateways.stripe_client import make_stripe_client
    from plangate.services.stripe_sync.catalog_push import push_catalog

    try:
        client = make_stripe_client(settings)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    with out.status("pushing the catalog to Stripe…") as status:

        def progress(message: str) -> None:
            status.update(message)
            out.print(f"  {message}")

        try:
            report = push_catalog(client, catalog, progress)
        except stripe.StripeError as exc:
            raise _fail(f"Stripe refused the push: {exc.user_message or exc}") from None
    if report.changes:
        out.print(f"pushed to Stripe: {report.changes} change(s), {report.unchanged} unchanged")
    else:
        out.print(f"Stripe already matches the catalog ({report.unchanged} objects checked)")


@catalog_app.command("push")
def catalog_push(
    file: Annotated[Path | None, typer.Argument(help="a file; else the active catalog")] = None,
) -> None:
    """Create or update Stripe's products, prices and portal configurations to match the
    catalog (idempotent)."""
    settings = _settings()
    if file is not None:
        catalog, _ = _read_catalog(file)
    else:
        from plangate.services.entitlements.catalog import CatalogCache

        db = _database(settings)
        with db.read() as session:
            catalog = CatalogCache().active(session)
    _push(settings, catalog)


@catalog_app.command("show")
def catalog_show(
    file: Annotated[
        Path | None, typer.Argument(help="a file; default: the active catalog")
    ] = None,
) -> None:
    """Print a catalog (a file, or the active one) as JSON."""
    if file is not None:
        catalog, _ = _read_catalog(file)
    else:
        from plangate.services.entitlements.catalog import CatalogCache

        db = _database(_settings())
        with db.read() as session:
            catalog = CatalogCache().active(session)
    out.print_json(json.dumps(catalog.to_dict()))


@catalog_app.command("diff")
def catalog_diff(file: Path) -> None:
    """What applying FILE would change compared with the active catalog."""
    from plangate.services.entitlements.catalog import CatalogCache

    new, _ = _read_catalog(file)
    db = _database(_settings())
    with db.read() as session:
        old = CatalogCache().active(session)
    changes = diff_catalogs(old, new)
    if not changes:
        out.print("no changes")
    for change in changes:
        out.print(str(change))


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="handle what is pending, then exit")] = False,
) -> None:
    """Handle Stripe events (and reconcile periodically) until stopped. Run one per
    SQLite database, any number on PostgreSQL."""
    import logging
    import signal
    import threading

    from plangate.services.stripe_sync.worker import Worker

    logging.basicConfig(level=_settings().log_level.upper(), format="%(asctime)s %(message)s")
    settings = _settings()
    running = Worker(_sync_context(settings), settings)
    if once:
        running.drain(timeout=3600)
        out.print(f"handled {running.stats.handled} event(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    err.print("plangate worker: handling Stripe events (Ctrl-C stops)")
    running.run_forever(stop)


@app.command()
def reconcile(
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Compare every Stripe customer's subscriptions and payments with plangate's state and
    repair drift (missed webhooks) through the ordinary sync."""
    from plangate.services.stripe_sync.reconcile import reconcile as run_reconcile

    report = run_reconcile(_sync_context(_settings()))
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


@app.command()
def sandbox(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 12111,
    db: Annotated[str | None, typer.Option(help="SQLite file that keeps its state")] = None,
) -> None:
    """Run the local Stripe-compatible sandbox on its own (docs/sandbox.md)."""
    from plangate.sandbox import SandboxConfig
    from plangate.sandbox import serve as serve_sandbox

    serve_sandbox(host, port, SandboxConfig(db_path=db))


def _sync_context(settings: Settings):  # type: ignore[no-untyped-def]
    from plangate.gateways import make_gateway
    from plangate.services.entitlements.catalog import CatalogCache
    from plangate.services.stripe_sync.sync import SyncContext

    if settings.gateway != "stripe":
        raise _fail("PLANGATE_GATEWAY is not stripe: there are no Stripe events to handle")
    try:
        gateway = make_gateway(settings)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    return SyncContext(_database(settings), gateway, CatalogCache(), SystemClock())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
