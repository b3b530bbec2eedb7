"""A real sandbox per test, driven through the official SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from tests.sandbox.sandbox_harness import Running, start


@pytest.fixture
def sandbox_server() -> Iterator[Running]:
    running = start()
    yield running
    running.stop()


@pytest.fixture
def stripe_client(sandbox_server: Running) -> stripe.StripeClient:
    return sandbox_server.client()
