"""The whole stack for end-to-end tests: the sandbox and plangate, each served by uvicorn on a
free port in a thread, talking real HTTP; the official SDK as plangate's Stripe client; the
sandbox's webhook endpoint pointing at plangate; the worker in-process.

Time: every Stripe customer plangate creates joins one test clock, and plangate's clock is
moved to the test clock's time before each advance, so both sides agree on "now".
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import stripe
from sqlalchemy import func, select

from plangate.api.app import create_app
from plangate.clock import FrozenClock
from plangate.domain.catalog import parse_catalog
from plangate.gateways.stripe_gateway import StripeGateway
from plangate.gateways.stripe_http import PacedHttpClient
from plangate.gateways.tls import tls_context
from plangate.sandbox import Sandbox, SandboxConfig, pay_checkout_session
from plangate.sandbox import create_app as create_sandbox_app
from plangate.services.access.keys import create_key
from plangate.services.entitlements import catalog as catalog_service
from plangate.services.stripe_budget import budget_for
from plangate.services.stripe_sync.catalog_push import push_catalog
from plangate.services.stripe_sync.sync import SyncContext
from plangate.services.stripe_sync.webhooks import WEBHOOK_EVENTS
from plangate.services.stripe_sync.worker import Worker, WorkerThread
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.store.models import StripeEvent
from tests.serving import PromptServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CATALOG = ROOT / "examples" / "plangate.toml"
T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
STRIPE_KEY = "sk_test_e2e"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """An ASGI app under uvicorn in a daemon thread."""

    def __init__(self, app: Any, port: int) -> None:
        self.server = PromptServer.for_app(app, host="127.0.0.1", port=port)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.join()

    def join(self) -> None:
        self.thread.join(timeout=10)


@dataclass
class Stack:
    sandbox: Sandbox
    stripe: stripe.StripeClient
    db: Database
    clock: FrozenClock
    settings: Settings
    test_clock_id: str
    worker: Worker
    http: httpx.Client
    url: str
    secret_key: str
    _servers: list[Served] = field(default_factory=list)
    _worker_threads: list[WorkerThread] = field(default_factory=list)

    # --- time ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, to: datetime) -> None:
        """Moves both clocks to ``to``; Stripe runs everything due on the way (renewals,
        retries, trial ends) before this returns; webhooks follow (see :meth:`settle`)."""
        self.clock.set(to)
        self.stripe.v1.test_helpers.test_clocks.advance(
            self.test_clock_id, {"frozen_time": int(to.timestamp())}
        )

    def advance_by(self, delta: timedelta) -> None:
        self.advance(self.now() + delta)

    # --- the pipeline ----------------------------------------------------------------------

    def pending_events(self) -> int:
        with self.db.read() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(StripeEvent)
                    .where(StripeEvent.status == "pending")
                )
                or 0
            )

    def settle(self, timeout: float = 30.0) -> None:
        """Waits until every webhook is delivered and every stored event handled."""
        deadline = time.monotonic() + timeout
        while True:
            self.sandbox.wait_for_deliveries(max(deadline - time.monotonic(), 0.1))
            for thread in self._worker_threads:
                thread.worker.wake()
            if self.pending_events() == 0:
                # Handling may have caused nothing new at Stripe; check deliveries once more.
                self.sandbox.wait_for_deliveries(max(deadline - time.monotonic(), 0.1))
                if self.pending_events() == 0:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.pending_events()} Stripe events still pending")
            time.sleep(0.02)

    def renewal_backlog(self, prefix: str, subscribers: int) -> None:
        """``subscribers`` Pro subscriptions whose trials end together: bought and synced, then
        renewed by one advance, their events stored and left pending (no worker runs)."""
        for n in range(subscribers):
            session = self.checkout("user", f"{prefix}{n}", "pro", price_id="monthly")
            pay_checkout_session(session["url"])
        self.sandbox.wait_for_deliveries(30)
        self.worker.drain()
        self.advance(self.now() + timedelta(days=14, hours=2))
        self.sandbox.wait_for_deliveries(30)

    # --- plangate's API --------------------------------------------------------------------

    def checkout(
        self, customer_type: str, customer_id: str, product_id: str, **extra: Any
    ) -> dict[str, Any]:
        resp = self.http.post(
            "/v1/checkout-sessions",
            json={
                "customer_type": customer_type,
                "customer_id": customer_id,
                "product_id": product_id,
                **extra,
            },
        )
        assert resp.status_code == 201, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def buy(
        self,
        customer_id: str,
        product_id: str = "pro",
        card: str = "4242424242424242",
        customer_type: str = "user",
        **extra: Any,
    ) -> dict[str, Any]:
        """Checkout, paid on the hosted page, synced."""
        session = self.checkout(customer_type, customer_id, product_id, **extra)
        pay_checkout_session(session["url"], card)
        self.settle()
        return session

    def session_status(self, session_id: str) -> dict[str, Any]:
        resp = self.http.get(f"/v1/checkout-sessions/{session_id}")
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def products(self, customer_id: str, customer_type: str = "user") -> dict[str, dict[str, Any]]:
        resp = self.http.get(f"/v1/customers/{customer_type}/{customer_id}/products")
        assert resp.status_code == 200, resp.text
        return {p["product_id"]: p for p in resp.json()["data"]}

    def entitlements(self, customer_id: str, customer_type: str = "user") -> dict[str, Any]:
        resp = self.http.get(f"/v1/customers/{customer_type}/{customer_id}/entitlements")
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def credits(self, customer_id: str) -> int:
        return int(self.entitlements(customer_id)["items"]["credits"]["quantity"])

    def stripe_customer(self, customer_id: str, customer_type: str = "user") -> str:
        from plangate.store.models import Customer

        with self.db.read() as session:
            row = session.get(Customer, (customer_type, customer_id))
            assert row is not None and row.stripe_customer_id
            return row.stripe_customer_id

    def subscription_of(self, customer_id: str) -> Any:
        subs = self.stripe.v1.subscriptions.list(
            {"customer": self.stripe_customer(customer_id), "status": "all"}
        )
        assert len(subs.data) == 1
        return subs.data[0]

    def stop(self) -> None:
        for thread in self._worker_threads:
            thread.stop()
        # The client's keep-alive connection first (uvicorn waits for open connections to
        # close), then every server told at once: each takes a tick of its loop to notice.
        self.http.close()
        for server in self._servers:
            server.server.should_exit = True
        for server in reversed(self._servers):
            server.join()
        self.sandbox.close()


def start_stack(
    database_url: str,
    *,
    sandbox_config: SandboxConfig | None = None,
    start_worker: bool = True,
    reconcile_interval_seconds: int = 0,
    catalog_text: str | None = None,
    events: Sequence[str] = WEBHOOK_EVENTS,
    workers: int = 1,
    site: bool = False,
    stripe_rate_limit: float = 0,
    settings_overrides: dict[str, Any] | None = None,
) -> Stack:
    """The stack; with ``site``, plangate serves its pages (dashboard, pricing) as well.
    ``stripe_rate_limit``: plangate's Stripe call budget (0: none, as in most tests)."""
    config = sandbox_config or SandboxConfig(tick_seconds=0.5)
    sandbox = Sandbox(config)
    servers = [Served(create_sandbox_app(sandbox), free_port())]
    under_load = config.rate_limits is not None or config.faults is not None
    client = stripe.StripeClient(
        STRIPE_KEY, base_addresses={"api": servers[0].url},
        # The test's own calls retry 429s and faults as plangate's do, when there are some;
        # otherwise a connection the sandbox closed as the call reused it (keep-alive).
        **({"http_client": PacedHttpClient(stripe.new_default_http_client()),
            "max_network_retries": 0} if under_load else {"max_network_retries": 2}),
    )
    test_clock = client.v1.test_helpers.test_clocks.create({"frozen_time": int(T0.timestamp())})

    clock = FrozenClock(T0)
    db = Database(database_url, pool_size=10)
    text = catalog_text if catalog_text is not None else EXAMPLE_CATALOG.read_text()
    catalog = parse_catalog(text)
    with db.write() as session:
        catalog_service.apply_catalog(session, catalog, clock.now(), source_text=text)
        secret_key = create_key(session, "e2e", clock.now()).secret
    push_catalog(client, catalog)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    endpoint = client.v1.webhook_endpoints.create(
        {"url": url + "/v1/stripe/webhooks", "enabled_events": list(events)}
    )
    settings = Settings(
        database_url=database_url,
        base_url=url,
        gateway="stripe",
        stripe_api_key=STRIPE_KEY,
        stripe_api_base=servers[0].url,
        stripe_webhook_secret=str(endpoint.secret),
        stripe_test_clock=test_clock.id,
        worker_poll_seconds=0.2,
        reconcile_interval_seconds=reconcile_interval_seconds,
        stripe_rate_limit=stripe_rate_limit,
        **(settings_overrides or {}),
    )
    gateway = StripeGateway.from_settings(settings, budget_for(db, settings))
    if site:
        from plangate.web import create_site

        app = create_site(settings, db=db, clock=clock, gateway=gateway)
    else:
        app = create_app(settings, db=db, clock=clock, gateway=gateway)
    ctx = app.state.plangate
    worker = Worker(SyncContext(db, gateway, ctx.catalogs, clock), settings)
    app.state.stripe_event_listeners = [worker.wake]
    servers.append(Served(app, port))
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret_key}"},
                        timeout=30, verify=tls_context())
    stack = Stack(
        sandbox=sandbox,
        stripe=client,
        db=db,
        clock=clock,
        settings=settings,
        test_clock_id=test_clock.id,
        worker=worker,
        http=http,
        url=url,
        secret_key=secret_key,
        _servers=servers,
    )
    if start_worker:
        stack._worker_threads = [worker.start()]
        # More workers share the queue on PostgreSQL (SKIP LOCKED); SQLite runs one.
        for _ in range(1, workers if not db.is_sqlite else 1):
            extra = Worker(worker.sync, settings)
            app.state.stripe_event_listeners.append(extra.wake)
            stack._worker_threads.append(extra.start())
    return stack
