"""OfflineEntitlements: one token fetch per customer, then has() from memory until the token
is about to expire."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from plangate_sdk import Client, InvalidTokenError, NotFoundError, OfflineEntitlements

from .conftest import RunningServer
from .signing import ISSUER, SigningKey, claims, jwks


class FakePlangate:
    """The two routes OfflineEntitlements uses, signing with a local key."""

    def __init__(self, holdings: dict[str, list[str]]) -> None:
        self.key = SigningKey()
        self.holdings = holdings
        self.token_requests = 0
        self.now = time.time()
        self.token_for: tuple[str, str] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/jwks.json":
            return httpx.Response(200, json=jwks(self.key))
        assert request.url.path == "/v1/entitlement-token"
        self.token_requests += 1
        customer = self.token_for or (
            request.url.params["customer_type"],
            request.url.params["customer_id"],
        )
        features = self.holdings.get(customer[1], [])
        token = self.key.sign(claims(customer, features=features, plans=[], now=self.now))
        body = {
            "token": token,
            "expires_at": int(self.now + 300),
            "customer_type": customer[0],
            "customer_id": customer[1],
        }
        return httpx.Response(200, json=body)


def offline(fake: FakePlangate, clock: Any = None) -> OfflineEntitlements:
    sdk = Client("sk_x", ISSUER, transport=httpx.MockTransport(fake))
    return OfflineEntitlements(sdk, clock=clock or (lambda: fake.now))


def test_has_fetches_one_token_per_customer_then_answers_locally() -> None:
    fake = FakePlangate({"u1": ["export"], "u2": []})
    entitlements = offline(fake)
    for _ in range(100):
        assert entitlements.has("user", "u1", feature="export")
        assert not entitlements.has("user", "u2", feature="export")
    assert fake.token_requests == 2


def test_a_token_near_expiry_is_fetched_again() -> None:
    fake = FakePlangate({"u1": ["export"]})
    now = [fake.now]
    entitlements = offline(fake, clock=lambda: now[0])
    assert entitlements.has("user", "u1", feature="export")
    now[0] += 250
    fake.holdings["u1"] = []
    assert entitlements.has("user", "u1", feature="export")  # still the cached token
    now[0] += 21  # within 30 s of expiry: refreshed
    fake.now = now[0]
    assert not entitlements.has("user", "u1", feature="export")
    assert fake.token_requests == 2


def test_invalidate_forgets_a_customer() -> None:
    fake = FakePlangate({"u1": []})
    entitlements = offline(fake)
    assert not entitlements.has("user", "u1", feature="export")
    fake.holdings["u1"] = ["export"]
    entitlements.invalidate("user", "u1")
    assert entitlements.has("user", "u1", feature="export")


def test_a_token_about_someone_else_is_refused() -> None:
    fake = FakePlangate({})
    fake.token_for = ("user", "intruder")
    with pytest.raises(InvalidTokenError) as caught:
        offline(fake).has("user", "u1", feature="export")
    assert caught.value.code == "token_customer_mismatch"


def test_against_the_real_server(
    client: Client, user_id: str, plangate_server: RunningServer
) -> None:
    try:
        client.entitlement_token("user", user_id)
    except NotFoundError as exc:
        if exc.code == "route_not_found":
            pytest.skip("this plangate does not serve /v1/entitlement-token yet")
        raise
    entitlements = OfflineEntitlements(client, issuer=plangate_server.base_url)
    assert not entitlements.has("user", user_id, feature="export")
    client.grant("user", user_id, "pro")
    entitlements.invalidate("user", user_id)
    assert entitlements.has("user", user_id, feature="export")
    assert entitlements.has("user", user_id, plan="pro")
