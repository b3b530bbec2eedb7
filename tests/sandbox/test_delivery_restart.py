"""A webhook delivery outlives the sandbox process: killed with deliveries pending, the
sandbox retries them when it starts again on the same database."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from sandbox_harness import free_port

from tests.serving import serve_in_background


def start_sandbox(db: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "plangate.sandbox", "--port", str(port), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/customers", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the sandbox did not start")


@pytest.fixture
def sandbox_port() -> Iterator[int]:
    yield free_port()


def receive(port: int, got: list[dict[str, Any]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    serve_in_background(server)
    return server


def test_a_pending_delivery_is_sent_after_a_kill_and_restart(
    tmp_path: Path, sandbox_port: int
) -> None:
    db = tmp_path / "sandbox.db"
    receiver_port = free_port()
    proc = start_sandbox(db, sandbox_port)
    try:
        client = stripe.StripeClient(
            "sk_test_x", base_addresses={"api": f"http://127.0.0.1:{sandbox_port}"}
        )
        client.v1.webhook_endpoints.create(
            {"url": f"http://127.0.0.1:{receiver_port}/hook", "enabled_events": ["*"]}
        )
        # Nobody listens yet: the delivery fails and waits for its retry.
        customer = client.v1.customers.create({"email": "kept@example.com"})
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    got: list[dict[str, Any]] = []
    server = receive(receiver_port, got)
    proc = start_sandbox(db, sandbox_port)
    try:
        deadline = time.monotonic() + 20
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e["type"] for e in got] == ["customer.created"]
        assert got[0]["data"]["object"]["id"] == customer.id
    finally:
        proc.terminate()
        proc.wait(10)
        server.shutdown()
        server.server_close()


def test_the_retry_schedule_is_stripes_three_days_of_backoff() -> None:
    from plangate.sandbox.config import STRIPE_RETRY_SECONDS

    assert STRIPE_RETRY_SECONDS[:4] == (0.5, 1.0, 2.0, 4.0)
    assert max(STRIPE_RETRY_SECONDS) == 3600
    assert 2.9 * 86400 < sum(STRIPE_RETRY_SECONDS) <= 3 * 86400


def test_a_deleted_endpoint_gets_no_more_retries(tmp_path: Path) -> None:
    from sandbox_harness import start

    from plangate.sandbox import SandboxConfig

    running = start(SandboxConfig(db_path=str(tmp_path / "s.db"), tick_seconds=0.5))
    try:
        client = running.client()
        endpoint = client.v1.webhook_endpoints.create(
            {"url": f"http://127.0.0.1:{free_port()}/hook", "enabled_events": ["*"]}
        )
        client.v1.customers.create({"email": "x@example.com"})
        deadline = time.monotonic() + 10
        while not running.sandbox.webhooks.log and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running.sandbox.store.deliveries, "the failed delivery waits for its retry"
        client.v1.webhook_endpoints.delete(endpoint.id)
        running.sandbox.wait_for_deliveries(10)
        assert running.sandbox.store.deliveries == {}
    finally:
        running.stop()


def test_a_stored_delivery_is_sent_by_a_sandbox_opened_in_process(tmp_path: Path) -> None:
    """Sending starts once the sandbox is whole: a delivery due at once must not find it
    half-built (its sender runs a unit of work on the sandbox)."""
    from sandbox_harness import start

    from plangate.sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(db_path=str(tmp_path / "s.db"), tick_seconds=0.5)
    receiver_port = free_port()
    running = start(config)
    try:
        client = running.client()
        client.v1.webhook_endpoints.create(
            {"url": f"http://127.0.0.1:{receiver_port}/hook", "enabled_events": ["*"]})
        client.v1.customers.create({"email": "kept@example.com"})
        deadline = time.monotonic() + 10
        while not running.sandbox.webhooks.log and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        running.stop()
    got: list[dict[str, Any]] = []
    server = receive(receiver_port, got)
    crashed: list[BaseException | None] = []
    previous_hook = threading.excepthook
    threading.excepthook = lambda args: crashed.append(args.exc_value)
    sandbox = Sandbox(config)
    try:
        sandbox.wait_for_deliveries(10)
        assert [e["type"] for e in got] == ["customer.created"]
        assert sandbox.store.deliveries == {}
    finally:
        sandbox.close()
        threading.excepthook = previous_hook
        server.shutdown()
        server.server_close()
    assert crashed == []
