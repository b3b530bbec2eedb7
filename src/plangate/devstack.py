"""``plangate dev`` on the sandbox: a local Stripe inside plangate's own server.

Without a ``PLANGATE_STRIPE_API_KEY``, ``plangate dev`` mounts the sandbox at ``/sandbox``,
points the stripe gateway at it, registers a webhook endpoint on it aimed at plangate's
``/v1/stripe/webhooks`` (reused across restarts; its secret is kept in ``.plangate/``), pushes
the catalog, and runs the worker in-process. Checkout, webhooks, the sync and the hosted pages
then all work offline, through the same code paths as production.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import stripe
from fastapi import FastAPI

from plangate.domain.catalog import Catalog
from plangate.gateways.stripe_client import make_stripe_client
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


def mount_sandbox(app: FastAPI, settings: Settings, dev_dir: Path) -> Any:
    """Mounts a persistent sandbox at ``/sandbox``; returns it (closed by the caller)."""
    from plangate.sandbox import Sandbox, SandboxConfig
    from plangate.sandbox import create_app as create_sandbox_app

    sandbox = Sandbox(
        SandboxConfig(
            db_path=str(dev_dir / "sandbox.db"),
            public_url=settings.base_url.rstrip("/") + SANDBOX_PREFIX,
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
    endpoint = client.v1.webhook_endpoints.create(
        {"url": url, "enabled_events": list(WEBHOOK_EVENTS)}  # type: ignore[arg-type]
    )
    secret = str(endpoint.secret)
    path = dev_dir / WEBHOOK_FILE
    path.write_text(json.dumps({"id": endpoint.id, "url": url, "secret": secret}))
    path.chmod(0o600)
    return secret


def bootstrap_when_served(settings: Settings, catalog: Catalog, dev_dir: Path) -> threading.Thread:
    """Once the server answers: register the webhook endpoint and push the catalog. (Both are
    HTTP calls to the mounted sandbox, so they wait for the server to be up.)"""

    def run() -> None:
        base = settings.base_url.rstrip("/")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        from plangate.services.stripe_sync.catalog_push import push_catalog

        try:
            client = make_stripe_client(settings)
            secret = ensure_webhook_endpoint(client, base + "/v1/stripe/webhooks", dev_dir)
            # Settings are read per request: webhooks verify from now on (the sandbox retries
            # any that came before).
            settings.stripe_webhook_secret = secret
            report = push_catalog(client, catalog)
            log.info("sandbox ready: catalog pushed (%d change(s))", report.changes)
        except Exception:  # noqa: BLE001 - dev must keep serving; the log says what broke
            log.exception("setting up the sandbox failed")

    thread = threading.Thread(target=run, name="plangate-dev-bootstrap", daemon=True)
    thread.start()
    return thread


def start_worker(app: FastAPI) -> WorkerThread:
    """The worker in a background thread of the serving process, woken by each new event."""
    ctx = app.state.plangate
    worker = Worker(SyncContext(ctx.db, ctx.gateway, ctx.catalogs, ctx.clock), ctx.settings)
    listeners = list(getattr(app.state, "stripe_event_listeners", []))
    app.state.stripe_event_listeners = [*listeners, worker.wake]
    return worker.start()
