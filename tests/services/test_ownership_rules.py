"""Table tests for product lines, defaults, add-ons, stackable products, subscription status
rules (invariant 5) and catalog snapshots, through the real API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from plangate.clock import FrozenClock
from plangate.store.db import Database
from plangate.store.models import Ownership

U = "/v1/customers/user/ada"
T = "/v1/customers/team/acme"


@pytest.fixture
def shop(api: TestClient, example_catalog_text: str) -> TestClient:
    assert api.put("/v1/catalog", content=example_catalog_text).status_code == 200
    return api


def plans(client: TestClient, customer: str = U) -> list[str]:
    return client.get(customer + "/entitlements").json()["plans"]


def test_the_default_is_owned_implicitly_and_comes_back(shop: TestClient) -> None:
    assert plans(shop) == ["free"]
    assert shop.post(U + "/products", json={"product_id": "pro"}).status_code == 201
    assert plans(shop) == ["pro"]
    assert shop.delete(U + "/products/pro").status_code == 200
    assert plans(shop) == ["free"]


def test_a_product_of_a_line_replaces_the_other(shop: TestClient) -> None:
    shop.post(U + "/products", json={"product_id": "pro"})
    assert shop.post(U + "/products", json={"product_id": "enterprise"}).status_code == 201
    assert plans(shop) == ["enterprise"]
    assert shop.get(U + "/check", params={"feature": "sso"}).json()["allowed"] is True


@pytest.mark.parametrize(
    ("setup", "product", "status", "code"),
    [
        ([], "priority_support", 409, "add_on_requires_base"),
        (["pro"], "pro", 409, "already_owned"),
        ([], "team", 400, "customer_type_mismatch"),
        ([], "nope", 404, "product_not_found"),
        ([], "free", 400, "product_is_default"),
    ],
)
def test_refusals(shop: TestClient, setup: list[str], product: str, status: int, code: str) -> None:
    for p in setup:
        assert shop.post(U + "/products", json={"product_id": p}).status_code == 201
    before = shop.get(U + "/entitlements").json()
    response = shop.post(U + "/products", json={"product_id": product})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert shop.get(U + "/entitlements").json() == before


def test_add_ons_end_with_their_base(shop: TestClient) -> None:
    shop.post(U + "/products", json={"product_id": "pro"})
    assert shop.post(U + "/products", json={"product_id": "priority_support"}).status_code == 201
    assert "priority_support" in plans(shop)
    shop.delete(U + "/products/pro")
    assert plans(shop) == ["free"]


def test_stackable_products_add_quantity(shop: TestClient) -> None:
    before = shop.get(U + "/items/credits").json()["quantity"]
    assert (
        shop.post(U + "/products", json={"product_id": "credit_pack", "quantity": 2}).status_code
        == 201
    )
    assert shop.post(U + "/products", json={"product_id": "credit_pack"}).status_code == 201
    assert shop.get(U + "/items/credits").json()["quantity"] == before + 3 * 1000


def test_non_stackable_quantity_is_refused(shop: TestClient) -> None:
    response = shop.post(U + "/products", json={"product_id": "pro", "quantity": 2})
    assert response.json()["error"]["code"] == "quantity_invalid"


def test_team_seats_come_from_the_team_plan(shop: TestClient) -> None:
    assert shop.post(T + "/products", json={"product_id": "team"}).status_code == 201
    assert shop.get(T + "/items/seats").json()["quantity"] == 10


def test_an_inline_product_is_granted_without_the_catalog(shop: TestClient) -> None:
    response = shop.post(
        U + "/products",
        json={"product": {"id": "beta_access", "customer_type": "user", "features": ["export"]}},
    )
    assert response.status_code == 201, response.text
    assert shop.get(U + "/check", params={"feature": "export"}).json()["allowed"] is True


def test_owners_keep_the_catalog_version_they_bought(
    shop: TestClient, example_catalog_text: str
) -> None:
    shop.post(U + "/products", json={"product_id": "pro"})
    changed = example_catalog_text.replace(
        'features = ["analytics", "export"]', 'features = ["analytics"]', 1
    )
    assert changed != example_catalog_text
    applied = shop.put("/v1/catalog", content=changed).json()
    assert applied["created"] is True
    assert shop.get(U + "/check", params={"feature": "export"}).json()["allowed"] is True
    other = "/v1/customers/user/bob"
    shop.post(other + "/products", json={"product_id": "pro"})
    assert shop.get(other + "/check", params={"feature": "export"}).json()["allowed"] is False


@pytest.mark.parametrize(
    ("status", "grants"),
    [
        ("active", True),
        ("trialing", True),
        ("past_due", True),
        ("canceled", False),
        ("unpaid", False),
        ("incomplete", False),
        ("incomplete_expired", False),
        ("paused", False),
    ],
)
def test_subscription_status_decides_access(
    shop: TestClient, db: Database, clock: FrozenClock, status: str, grants: bool
) -> None:
    """Invariant 5, with the subscription written directly as the Stripe sync would."""
    shop.post(U + "/products", json={"product_id": "pro"})
    with db.write() as session:
        session.execute(
            update(Ownership)
            .where(Ownership.product_id == "pro")
            .values(source="subscription", status=status, stripe_subscription_id="sub_1")
        )
    # The sync settles the customer after writing; a later change does the same here.
    clock.advance(timedelta(seconds=1))
    shop.post(U + "/items/credits/changes", json={"delta": 1})
    assert shop.get(U + "/check", params={"feature": "export"}).json()["allowed"] is grants
    assert plans(shop) == (["pro"] if grants else ["free"])


def test_monthly_credits_refill_on_the_calendar(shop: TestClient, clock: FrozenClock) -> None:
    shop.post(U + "/products", json={"product_id": "pro"})
    shop.post(U + "/items/credits/consume", json={"quantity": 4000})
    assert shop.get(U + "/items/credits").json()["quantity"] == 1000
    item = shop.get(U + "/items/credits").json()
    clock.set(clock.now().replace(month=2))
    assert shop.get(U + "/check", params={"item": "credits", "quantity": 5000}).json()["allowed"]
    assert shop.get(U + "/items/credits").json()["next_refill_at"] > item["next_refill_at"]
