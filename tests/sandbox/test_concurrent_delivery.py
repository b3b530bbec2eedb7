"""Webhook deliveries go out concurrently, several in flight to one endpoint, as Stripe
sends them; retries keep their stored schedule."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sandbox_harness import Running, start

from plangate.sandbox import SandboxConfig
from tests.serving import serve_in_background


class SlowEndpoint:
    """Answers each POST after `delay` seconds, counting how many are in flight at once."""

    def __init__(self, delay: float, statuses: list[int] | None = None) -> None:
        self.delay = delay
        self.statuses = statuses or []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.received: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with owner.lock:
                    owner.in_flight += 1
                    owner.most_in_flight = max(owner.most_in_flight, owner.in_flight)
                time.sleep(owner.delay)
                with owner.lock:
                    owner.in_flight -= 1
                    owner.received.append(json.loads(body)["id"])
                    status = owner.statuses.pop(0) if owner.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        serve_in_background(self.server)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow() -> Iterator[SlowEndpoint]:
    endpoint = SlowEndpoint(delay=0.3)
    yield endpoint
    endpoint.close()


def _send_events(running: Running, url: str, count: int) -> list[str]:
    client = running.client()
    client.v1.webhook_endpoints.create({"url": url, "enabled_events": ["customer.created"]})
    return [client.v1.customers.create().id for _ in range(count)]


def test_several_deliveries_are_in_flight_to_one_endpoint(slow: SlowEndpoint) -> None:
    running = start(SandboxConfig(tick_seconds=0.5, webhook_concurrency=4))
    try:
        _send_events(running, slow.url, 8)
        running.sandbox.wait_for_deliveries(10)
    finally:
        running.stop()
    assert len(slow.received) == 8
    assert slow.most_in_flight > 1  # one at a time would take 8 × 0.3 s


def test_one_worker_delivers_one_at_a_time(slow: SlowEndpoint) -> None:
    running = start(SandboxConfig(tick_seconds=0.5, webhook_concurrency=1))
    try:
        _send_events(running, slow.url, 3)
        running.sandbox.wait_for_deliveries(10)
    finally:
        running.stop()
    assert len(slow.received) == 3 and slow.most_in_flight == 1


def test_failed_concurrent_deliveries_keep_their_retry_schedule() -> None:
    endpoint = SlowEndpoint(delay=0.05, statuses=[500, 500, 500])
    running = start(SandboxConfig(tick_seconds=0.5, webhook_concurrency=4,
                                  webhook_retry_seconds=(0.2, 0.2)))
    try:
        _send_events(running, endpoint.url, 3)
        running.sandbox.wait_for_deliveries(10)
        log = running.sandbox.webhooks.log
    finally:
        running.stop()
        endpoint.close()
    assert sorted(set(endpoint.received)) == sorted({r.event_id for r in log})
    assert len(endpoint.received) == 6  # three failures, each retried once
    retried = [r for r in log if r.attempt == 1]
    assert len(retried) == 3 and all(r.status == 200 for r in retried)
    for record in retried:
        first = next(r for r in log if r.event_id == record.event_id and r.attempt == 0)
        assert record.at - first.at >= 0.2


def test_an_event_is_not_held_up_by_another_requests_backlog() -> None:
    """One unit of work (an advance renewing everything) makes a backlog of deliveries; an
    event of a later request is sent next, not after all of them."""
    endpoint = SlowEndpoint(delay=0.05)
    running = start(SandboxConfig(tick_seconds=0.5, webhook_concurrency=1))
    try:
        sandbox, client = running.sandbox, running.client()
        client.v1.webhook_endpoints.create(
            {"url": endpoint.url, "enabled_events": ["customer.created"]})
        with sandbox.unit():
            backlog = [sandbox.emit("customer.created", {"id": f"cus_burst{n}",
                                                         "object": "customer"})
                       for n in range(30)]
        later = client.v1.customers.create().id
        sandbox.wait_for_deliveries(10)
        events = {e["id"]: e["data"]["object"]["id"] for e in sandbox.store.all("event")}
    finally:
        running.stop()
        endpoint.close()
    received = [events[i] for i in endpoint.received]
    assert len(received) == 31 and all(e is not None for e in backlog)
    # One delivery at a time (0.05 s each): the backlog's first is in flight when the later
    # request's event is queued; first come first served would send it last.
    assert received.index(later) <= 3
    # Within the backlog, the order it was made in.
    burst = [r for r in received if r != later]
    assert burst == [f"cus_burst{n}" for n in range(30)]
