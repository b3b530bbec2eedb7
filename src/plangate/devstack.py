"""``plangate dev`` on the sandbox: a local Stripe inside plangate's own server.

Without a ``PLANGATE_STRIPE_API_KEY``, ``plangate dev`` mounts the sandbox at ``/sandbox``,
points the stripe gateway at it, registers a webhook endpoint on it aimed at plangate's
``/v1/stripe/webhooks`` (reused across restarts; its secret is kept in ``.plangate/``), pushes
the catalog, and runs the worker in-process. Checkout, webhooks, the sync and the hosted pages
then all work offline, through the same code paths as production.

Ready means ready: ``/healthz`` answers 503 ``starting`` until the catalog is in the sandbox
and the worker runs; only then is the banner printed and ``.plangate/dev.json`` (the effective
settings, for the commands of a second shell) written. A catalog applied while it runs
(``PUT /v1/catalog``) is pushed to the sandbox before the response is sent.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import stripe
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from plangate.devmail import MailCatcher, mount_pages
from plangate.domain.catalog import Catalog
from plangate.gateways.stripe_client import make_stripe_client
from plangate.gateways.tls import tls_context
from plangate.services.emails.worker import EmailWorker
from plangate.services.events.delivery import DeliveryWorker
from plangate.services.events.loop import LoopThread
from plangate.services.stripe_budget import budget_for
from plangate.services.stripe_sync.single_worker import WorkerAlreadyRunning, claim_worker_lock
from plangate.services.stripe_sync.sync import SyncContext
from plangate.services.stripe_sync.webhooks import WEBHOOK_EVENTS
from plangate.services.stripe_sync.worker import Worker, WorkerThread
from plangate.settings import Settings

log = logging.getLogger("plangate.dev")

SANDBOX_PREFIX = "/sandbox"
SANDBOX_KEY = "sk_test_dev"
WEBHOOK_FILE = "sandbox-webhook.json"


def use_sandbox_environment(base_url: str, dev_dir: Path) -> None:
    """Sets the environment so that :class:`Settings` select the stripe gateway on the mounted
    sandbox. Called before the settings are read; a real key in the environment wins."""
    os.environ["PLANGATE_GATEWAY"] = "stripe"
    os.environ["PLANGATE_STRIPE_API_KEY"] = SANDBOX_KEY
    os.environ["PLANGATE_STRIPE_API_BASE"] = base_url.rstrip("/") + SANDBOX_PREFIX
    stored = _read_endpoint(dev_dir)
    if stored is not None:
        os.environ["PLANGATE_STRIPE_WEBHOOK_SECRET"] = stored["secret"]


def mount_sandbox(
    app: FastAPI, settings: Settings, dev_dir: Path, webhook_delay: float = 0.0
) -> Any:
    """Mounts a persistent sandbox at ``/sandbox``; returns it (closed by the caller)."""
    from plangate.sandbox import Chaos, Sandbox, SandboxConfig
    from plangate.sandbox import create_app as create_sandbox_app

    sandbox = Sandbox(
        SandboxConfig(
            db_path=str(dev_dir / "sandbox.db"),
            public_url=settings.base_url.rstrip("/") + SANDBOX_PREFIX,
            chaos=Chaos(seed=0, delay_seconds=webhook_delay) if webhook_delay else None,
        )
    )
    app.mount(SANDBOX_PREFIX, create_sandbox_app(sandbox))
    return sandbox


def _read_endpoint(dev_dir: Path) -> dict[str, str] | None:
    try:
        data = json.loads((dev_dir / WEBHOOK_FILE).read_text())
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str) and data.get("secret"):
        return {"id": data["id"], "secret": str(data["secret"])}
    return None


def ensure_webhook_endpoint(client: stripe.StripeClient, url: str, dev_dir: Path) -> str:
    """The secret of the sandbox's endpoint for ``url``: the stored one while the sandbox
    still has it, else a new endpoint (its secret is only ever shown on creation)."""
    stored = _read_endpoint(dev_dir)
    if stored is not None:
        try:
            endpoint = client.v1.webhook_endpoints.retrieve(stored["id"])
            if endpoint.url == url and endpoint.status == "enabled":
                return stored["secret"]
        except stripe.InvalidRequestError:
            pass
        else:
            # plangate moved (another --port): the old endpoint would only collect retries.
            client.v1.webhook_endpoints.delete(stored["id"])
    endpoint = client.v1.webhook_endpoints.create(
        {"url": url, "enabled_events": list(WEBHOOK_EVENTS)}  # type: ignore[arg-type]
    )
    secret = str(endpoint.secret)
    path = dev_dir / WEBHOOK_FILE
    path.write_text(json.dumps({"id": endpoint.id, "url": url, "secret": secret}))
    path.chmod(0o600)
    return secret


def start_worker(app: FastAPI) -> WorkerThread | None:
    """The worker in a background thread of the serving process, woken by each new event.
    None when a `plangate worker` already handles this SQLite database's events (one worker
    per SQLite file: services/stripe_sync/single_worker.py)."""
    ctx = app.state.plangate
    try:
        # Held for the life of the process; the kernel releases it when the process ends.
        app.state.worker_lock = claim_worker_lock(ctx.db)
    except WorkerAlreadyRunning as exc:
        log.warning("plangate dev runs no worker of its own: %s", exc)
        return None
    worker = Worker(SyncContext(ctx.db, ctx.gateway, ctx.catalogs, ctx.clock), ctx.settings)
    listeners = list(getattr(app.state, "stripe_event_listeners", []))
    app.state.stripe_event_listeners = [*listeners, worker.wake]
    return worker.start()


def start_deliveries(app: FastAPI) -> LoopThread:
    """Outbound webhooks sent from a background thread of the serving process."""
    ctx = app.state.plangate
    return DeliveryWorker(ctx.db, ctx.settings, ctx.clock).start()


def start_emails(app: FastAPI) -> LoopThread:
    """Billing emails written and sent from a background thread of the serving process."""
    ctx = app.state.plangate
    return EmailWorker(ctx.db, ctx.settings, ctx.clock, catalogs=ctx.catalogs).start()


@dataclass(frozen=True)
class DevOptions:
    host: str
    port: int
    dev_dir: Path
    sandbox: bool
    verbose: bool = False
    webhook_delay: float = 0.0
    # Where emails go instead of out (``/dev/mail``), when no SMTP server is configured.
    mail_catcher: MailCatcher | None = None


class _QuietSandboxRequests(logging.Filter):
    """Hides uvicorn's access lines for the sandbox's own traffic (its API, called by the
    gateway, and the start-up polls), which would bury the app's requests."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        path = str(args[2]) if isinstance(args, tuple) and len(args) >= 3 else ""
        return not (path.startswith(SANDBOX_PREFIX + "/v1/") or path == "/livez")


def _push_active_catalog(app: FastAPI) -> int:
    from plangate.services.stripe_sync.catalog_push import push_catalog

    ctx = app.state.plangate
    with ctx.db.read() as session:
        catalog: Catalog = ctx.catalogs.active(session)
    client = make_stripe_client(ctx.settings, budget_for(ctx.db, ctx.settings))
    return push_catalog(client, catalog).changes


def push_applied_catalogs(app: FastAPI) -> None:
    """In dev, applying a catalog over the API also pushes it to the sandbox, before the
    response, so the caller's next checkout finds its prices. (The CLI's `catalog apply`
    pushes on its own.)"""

    @app.middleware("http")
    async def push_after_apply(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if (
            request.method == "PUT"
            and request.url.path == "/v1/catalog"
            and response.status_code < 300
        ):
            try:
                await run_in_threadpool(_push_active_catalog, app)
            except stripe.StripeError as exc:
                log.error("the applied catalog was not pushed to the sandbox: %s", exc)
        return response


def _write_state(settings: Settings, dev_dir: Path) -> Path:
    state = {
        "pid": os.getpid(),
        "database_url": settings.database_url,
        "base_url": settings.base_url,
        "gateway": settings.gateway,
        "stripe_api_key": settings.stripe_api_key,
        "stripe_api_base": settings.stripe_api_base,
        "stripe_webhook_secret": settings.stripe_webhook_secret,
        "webhook_allowed_networks": settings.webhook_allowed_networks,
        "smtp_url": settings.smtp_url,
    }
    path = dev_dir / "dev.json"
    path.write_text(json.dumps(state, indent=2))
    path.chmod(0o600)
    return path


def _wait_until_served(base: str, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            if httpx.get(base + "/livez", timeout=2, verify=tls_context()).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        stop.wait(0.1)
    return False


DEV_OPERATOR = "dev@localhost.localdomain"


def serve(settings: Settings, options: DevOptions, on_ready: Callable[[], None]) -> None:
    """Serves the dev app until Ctrl-C. Set-up that needs the server to answer (the sandbox
    is mounted in it) runs in a thread; ``/healthz`` is 503 ``starting`` until it is done."""
    import uvicorn

    from plangate.web import create_site

    # The developer at this machine's keyboard is the dashboard's owner: signed in at once.
    app = create_site(settings, dev_operator=DEV_OPERATOR)
    ready = threading.Event()
    app.state.ready = ready
    stopping = threading.Event()
    sandbox = None
    if options.sandbox:
        sandbox = mount_sandbox(app, settings, options.dev_dir, options.webhook_delay)
        push_applied_catalogs(app)
    if options.mail_catcher is not None:
        mount_pages(app, options.mail_catcher)
    workers: list[WorkerThread | LoopThread] = []

    def set_up() -> None:
        base = settings.base_url.rstrip("/")
        if not _wait_until_served(base, stopping):
            return
        try:
            if options.sandbox:
                client = make_stripe_client(settings)
                secret = ensure_webhook_endpoint(client, base + "/v1/stripe/webhooks",
                                                 options.dev_dir)
                # Settings are read per request: webhooks verify from now on (the sandbox
                # retries any that came before).
                settings.stripe_webhook_secret = secret
                changes = _push_active_catalog(app)
                log.info("catalog pushed to the sandbox (%d change(s))", changes)
            if not stopping.is_set():
                workers.append(start_deliveries(app))
                workers.append(start_emails(app))
            if settings.gateway == "stripe" and not stopping.is_set():
                # Its loop reconciles first: what was paid while nothing ran is granted.
                running = start_worker(app)
                if running is not None:
                    workers.append(running)
        except (stripe.StripeError, OSError, httpx.HTTPError) as exc:
            log.error("plangate dev could not set up the sandbox: %s", exc)
            return
        _write_state(settings, options.dev_dir)
        ready.set()
        on_ready()

    setup = threading.Thread(target=set_up, name="plangate-dev-setup", daemon=True)
    config = uvicorn.Config(app, host=options.host, port=options.port,
                            log_level=settings.log_level)
    server = uvicorn.Server(config)
    if not options.verbose:
        logging.getLogger("uvicorn.access").addFilter(_QuietSandboxRequests())
    setup.start()
    try:
        server.run()
    finally:
        # Requests in flight were finished by uvicorn; now the worker ends its batch and the
        # sandbox stops sending (its queued deliveries stay stored for the next start).
        stopping.set()
        (options.dev_dir / "dev.json").unlink(missing_ok=True)
        setup.join(timeout=5)
        for worker in workers:
            worker.stop()
        lock = getattr(app.state, "worker_lock", None)
        if lock is not None:
            lock.release()
        if sandbox is not None:
            sandbox.close()
        if options.mail_catcher is not None:
            options.mail_catcher.stop()
        app.state.plangate.db.dispose()
