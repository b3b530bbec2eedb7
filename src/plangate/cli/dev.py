"""``plangate dev``: plangate on its embedded defaults, the sandbox and the worker inside."""

from __future__ import annotations

import errno
import json
import os
import secrets
import socket
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from plangate.cli.catalog import read_catalog
from plangate.cli.common import (
    DEV_DIR,
    DEV_STATE,
    err,
    fail,
    out,
    running_dev_settings,
    shown_url,
)
from plangate.clock import SystemClock
from plangate.domain.catalog import parse_catalog
from plangate.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from plangate.devmail import MailCatcher

# The example catalog ships inside the package (examples/plangate.toml is its visible copy),
# so `plangate dev` works from any directory.
EXAMPLE_CATALOG = "example_catalog.toml"


def check_port_free(host: str, port: int) -> None:
    """Fails with one line when ``host:port`` cannot be listened on, before anything else is
    done (a second `plangate dev` must not touch the first one's database)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise fail(f"cannot listen on {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: SO_REUSEADDR, so a port in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise fail(
                    f"port {port} on {host} is already in use (another `plangate dev`?); "
                    "stop it or choose another with --port"
                ) from None
            raise fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _dev_key() -> str:
    from plangate.services.access.keys import KEY_PREFIX

    key_file = DEV_DIR / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(KEY_PREFIX + "dev_" + secrets.token_urlsafe(24))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _mail_catcher(settings: Settings) -> MailCatcher | None:
    """Without an SMTP server configured, emails go to a local catcher (``/dev/mail``)."""
    from plangate.devmail import CaughtMail, MailCatcher

    def caught(mail: CaughtMail) -> None:
        err.print(f"mail caught #{mail.number} to {', '.join(mail.recipients)}: "
                  f"{mail.subject} ({settings.base_url}/dev/mail/{mail.number})",
                  soft_wrap=True, markup=False, highlight=False)

    if settings.smtp_url:
        return None
    try:
        catcher = MailCatcher(on_mail=caught).start()
    except ImportError:
        return None
    except OSError as exc:
        err.print(f"plangate dev: no mail catcher ({exc}); emails are recorded as skipped")
        return None
    settings.smtp_url = catcher.url
    return catcher


def dev(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="apply this catalog file at start; without it the example catalog is "
            "applied only to an empty database",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="also log the sandbox's own requests")
    ] = False,
    webhook_delay: Annotated[
        float,
        typer.Option(help="seconds the sandbox waits before each webhook delivery", min=0),
    ] = 0.0,
) -> None:
    """Run plangate on its embedded defaults: SQLite under ./.plangate, the sandbox as Stripe
    (without PLANGATE_STRIPE_API_KEY), the worker in-process, a development secret key."""
    from plangate import devstack
    from plangate.services.entitlements import catalog as catalog_service
    from plangate.store.db import Database
    from plangate.store.migrate import upgrade

    check_port_free(host, port)
    running = running_dev_settings()
    if running is not None:
        raise fail(f"a `plangate dev` already runs from this directory ({DEV_STATE})")
    # Read before anything is written, so a bad file changes nothing.
    chosen = read_catalog(catalog) if catalog is not None else None
    DEV_DIR.mkdir(exist_ok=True)
    os.environ.setdefault("PLANGATE_DATABASE_URL", f"sqlite:///{DEV_DIR}/plangate.db")
    os.environ.setdefault("PLANGATE_BASE_URL", f"http://{host}:{port}")
    # Local receivers (an app on localhost) may get webhooks in development.
    os.environ.setdefault("PLANGATE_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
    dev_key = _dev_key()
    os.environ["PLANGATE_SECRET_KEYS"] = json.dumps([dev_key])
    # Without a Stripe key, Stripe is the sandbox, mounted in this server (docs/stripe.md).
    sandbox_mode = not os.environ.get("PLANGATE_STRIPE_API_KEY")
    if sandbox_mode:
        devstack.use_sandbox_environment(os.environ["PLANGATE_BASE_URL"], DEV_DIR)
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise fail(f"configuration: {exc}") from None
    try:
        upgrade(settings.database_url)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise fail(f"cannot use the database {shown_url(settings)}: {reason}") from None
    db = Database(settings.database_url, pool_size=2)
    with db.write() as session:
        if chosen is not None:
            applied = catalog_service.apply_catalog(
                session, chosen[0], SystemClock().now(), source_text=chosen[1]
            )
            catalog_line = f"{catalog} ({applied.version})"
        elif catalog_service.active_version_id(session) is None:
            text = resources.files("plangate").joinpath(EXAMPLE_CATALOG).read_text("utf-8")
            applied = catalog_service.apply_catalog(
                session, parse_catalog(text), SystemClock().now(), source_text=text
            )
            catalog_line = f"the example catalog ({applied.version})"
        else:
            version = catalog_service.active_version_id(session)
            catalog_line = f"the active catalog ({version}; --catalog FILE applies another)"
    db.dispose()
    base = settings.base_url
    catcher = _mail_catcher(settings)

    def banner() -> None:
        # One line per entry, whatever the terminal's width: people copy the key from here.
        out.soft_wrap = True
        out.print(f"[bold green]plangate[/] dev server ready on [bold]{base}[/]")
        out.print(f"  API docs     {base}/docs")
        out.print(f"  secret key   {dev_key}", soft_wrap=True)
        out.print(f"  catalog      {catalog_line}")
        out.print(f"  database     {settings.database_url}")
        if sandbox_mode:
            out.print(f"  stripe       sandbox at {base}/sandbox (key {devstack.SANDBOX_KEY})")
        if settings.gateway == "stripe":
            out.print(f"  webhooks     {base}/v1/stripe/webhooks, worker running in-process")
        if catcher is not None:
            out.print(f"  emails       caught, not sent: {base}/dev/mail ({catcher.url})")
        elif not settings.smtp_url:
            out.print("  emails       recorded as skipped (no PLANGATE_SMTP_URL, no aiosmtpd)")
        else:
            out.print("  emails       sent through PLANGATE_SMTP_URL")
        out.print(f"  other shells `plangate ...` commands here use {DEV_STATE}")
        out.print(f"  try:         curl -s {base}/healthz")

    err.print(f"plangate dev: starting on {base}…")
    devstack.serve(
        settings,
        devstack.DevOptions(
            host=host,
            port=port,
            dev_dir=DEV_DIR,
            sandbox=sandbox_mode,
            verbose=verbose,
            webhook_delay=webhook_delay,
            mail_catcher=catcher,
        ),
        on_ready=banner,
    )
