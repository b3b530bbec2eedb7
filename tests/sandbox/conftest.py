"""Fixtures: a real sandbox on a free port, driven through the official `stripe` SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe
from sandbox_harness import FIXTURES, Receiver, Running, start

from plangate.sandbox import Sandbox
from tests.browser_harness import browser, page  # noqa: F401 - Chromium fixtures for the pages
from tests.serving import serve_in_background


@pytest.fixture
def running() -> Iterator[Running]:
    r = start()
    yield r
    r.stop()


@pytest.fixture
def client(running: Running) -> stripe.StripeClient:
    return running.client()


@pytest.fixture
def sandbox(running: Running) -> Sandbox:
    return running.sandbox


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with rec.lock:
                rec.requests.append((dict(self.headers.items()), body))
                status = rec.statuses.pop(0) if rec.statuses else 200
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks"
    serve_in_background(server)
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def fixtures() -> dict[str, Any]:
    """Stripe's example object per resource, by resource name. A missing file fails the test
    that needs it (a KeyError naming the resource): the files are part of the repository."""
    return {path.stem: json.loads(path.read_text()) for path in FIXTURES.glob("*.json")}
