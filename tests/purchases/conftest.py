"""Fixtures for managing purchases: the purchase catalog applied, buying in test mode, and
client tokens (customer sessions) for authorization checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.entitlements.catalog import CatalogCache
from plangate.services.entitlements.customers import CustomerRef
from plangate.services.purchases.backends import test_ownerships
from plangate.store.db import Database
from tests.e2e.e2e_harness import Stack, start_stack
from tests.purchases.catalog import CATALOG

Buy = Callable[..., None]


@pytest.fixture
def shop(api: TestClient) -> TestClient:
    response = api.put("/v1/catalog", content=CATALOG)
    assert response.status_code == 200, response.text
    return api


@pytest.fixture
def buy(shop: TestClient, db: Database, clock: FrozenClock) -> Buy:
    """Completes a test-mode checkout (what the checkout service does on the test gateway)."""

    def buy(
        customer: str,
        product_id: str,
        price_id: str = "monthly",
        currency: str = "usd",
        customer_type: str = "user",
    ) -> None:
        with db.write() as session:
            catalog = CatalogCache().active(session)
            product = catalog.products[product_id]
            test_ownerships.complete_checkout(
                session,
                CustomerRef(customer_type, customer),
                catalog,
                product,
                product.prices[price_id],
                clock.now(),
                currency=currency,
            )

    return buy


@pytest.fixture
def client_token(shop: TestClient) -> Callable[..., str]:
    """A customer-session token for a user (and its team roles)."""

    def token(user_id: str, teams: dict[str, str] | None = None) -> str:
        response = shop.post(
            "/v1/customer-sessions", json={"user_id": user_id, "teams": teams or {}}
        )
        assert response.status_code in (200, 201), response.text
        return str(response.json()["token"])

    return token


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    """plangate on the stripe gateway with the sandbox, webhooks and the worker
    (tests/e2e/e2e_harness.py), selling the purchase catalog."""
    running = start_stack(database_url, catalog_text=CATALOG)
    yield running
    running.stop()
