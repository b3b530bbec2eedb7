"""Outbound HTTP clients share one TLS context per process.

httpx loads the CA bundle (about 30 ms of CPU) for every client it builds unless it is given a
context. An SDK client made per request, the sandbox's webhook sender, plangate's outbound
webhooks, its JWKS fetch and the dev stack's probes would each pay that again and again.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
import pytest

import plangate_sdk
from plangate.clock import FrozenClock
from plangate.errors import GatewayFailed
from plangate.sandbox import Sandbox, SandboxConfig, pay_checkout_session
from plangate.services.access.identity import IdentityProvider
from plangate.services.events.delivery import DeliveryWorker
from plangate.settings import Settings
from plangate.store.db import Database

UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def ca_loads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every CA bundle loaded from here on, by anything in this process."""
    loads: list[Any] = []
    original = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    return loads


def test_sdk_clients_made_again_and_again_load_the_ca_bundle_once(ca_loads: list[Any]) -> None:
    for _ in range(3):
        plangate_sdk.Client(api_key="sk_test", base_url=UNREACHABLE).close()
        asyncio.run(plangate_sdk.AsyncClient(api_key="sk_test", base_url=UNREACHABLE).aclose())
    assert len(ca_loads) <= 1


def test_the_sandbox_loads_the_ca_bundle_once(ca_loads: list[Any]) -> None:
    for _ in range(3):
        Sandbox(SandboxConfig()).close()
        with pytest.raises(httpx.ConnectError):
            pay_checkout_session(UNREACHABLE + "/c/pay/cs_test")
    assert len(ca_loads) <= 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_plangates_outbound_clients_load_the_ca_bundle_once(
    ca_loads: list[Any], db: Database, clock: FrozenClock
) -> None:
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        gateway="test", identity_jwks_url=UNREACHABLE + "/jwks")
    for _ in range(3):
        deliveries = DeliveryWorker(db, settings, clock)
        deliveries._client()
        deliveries.close()
        with pytest.raises(GatewayFailed):
            IdentityProvider(settings)._fetch()
    assert len(ca_loads) <= 1
