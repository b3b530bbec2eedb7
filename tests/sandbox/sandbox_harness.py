"""Test harness: a real sandbox on a free port (uvicorn in a thread) and a webhook receiver."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stripe
import uvicorn

from plangate.sandbox import Sandbox, SandboxConfig, create_app
from tests.browser_harness import serve_in_thread

# Stripe's example objects, one file per resource (tests/fixtures/stripe/README.md).
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    sandbox: Sandbox
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, key: str = "sk_test_sandbox", **kwargs: Any) -> stripe.StripeClient:
        return stripe.StripeClient(key, base_addresses={"api": self.url}, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sandbox.close()


def start(config: SandboxConfig | None = None, app_factory: Any = None) -> Running:
    sandbox = Sandbox(config or SandboxConfig(tick_seconds=0.5))
    app = (app_factory or create_app)(sandbox)
    url, server, thread = serve_in_thread(app)
    return Running(sandbox, url, server, thread)


class MovableTime:
    """A sandbox's `time_source` that a test moves by hand (`now`, in Unix seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Receiver:
    """A webhook endpoint: records every POST; answers `statuses` in turn, then 200."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, body in self.requests]

    def types(self) -> list[str]:
        return [e["type"] for e in self.events()]

    def in_stripe_order(self, sandbox: Sandbox) -> list[dict[str, Any]]:
        """The received events in the order they were created (deliveries run concurrently,
        so they arrive in any order, as from Stripe)."""
        def created(event: dict[str, Any]) -> int:
            stored = sandbox.store.get("event", event["id"])
            return int(stored["_seq"]) if stored else -1

        return sorted(self.events(), key=created)

    def types_in_stripe_order(self, sandbox: Sandbox) -> list[str]:
        return [e["type"] for e in self.in_stripe_order(sandbox)]


