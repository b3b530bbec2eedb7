"""Every method of the sync client against a real plangate over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from plangate.api.schemas import CheckOut, CustomerOut, EntitlementsOut, ItemChanged, ItemOut
from plangate_sdk import Client, GrantResult

EXAMPLE_CATALOG = Path(__file__).resolve().parents[2] / "examples" / "plangate.toml"


def test_upsert_and_get_customer(client: Client, user_id: str) -> None:
    created = client.upsert_customer("user", user_id, email="ada@example.com", metadata={"a": "1"})
    assert isinstance(created, CustomerOut)
    assert (created.customer_id, created.email, created.metadata) == (
        user_id,
        "ada@example.com",
        {"a": "1"},
    )
    # Fields left out are kept: only the name changes.
    client.upsert_customer("user", user_id, name="Ada")
    fetched = client.get_customer("user", user_id)
    assert (fetched.email, fetched.name) == ("ada@example.com", "Ada")


def test_grant_makes_the_feature_available_and_revoke_takes_it_back(
    client: Client, user_id: str
) -> None:
    assert client.has("user", user_id, feature="export") is False
    granted = client.grant("user", user_id, "pro")
    assert isinstance(granted, GrantResult)
    assert granted.product_id == "pro"
    assert granted.ownership_id.startswith("own_")
    assert client.has("user", user_id, feature="export") is True
    assert client.has("user", user_id, plan="pro") is True
    assert [p.product_id for p in client.products("user", user_id).data] == ["pro"]

    remaining = client.revoke("user", user_id, "pro")
    assert [p.product_id for p in remaining.data] == ["free"]
    assert client.has("user", user_id, feature="export") is False


def test_grant_an_inline_product(client: Client, user_id: str) -> None:
    granted = client.grant(
        "user",
        user_id,
        product={
            "id": "beta_access",
            "name": "Beta",
            "customer_type": "user",
            "features": ["sso"],
        },
    )
    assert granted.product_id == "beta_access"
    assert client.has("user", user_id, feature="sso")


def test_entitlements_and_check(client: Client, user_id: str) -> None:
    client.grant("user", user_id, "credit_pack", quantity=2)
    view = client.entitlements("user", user_id)
    assert isinstance(view, EntitlementsOut)
    assert "free" in view.plans and "pro" not in view.plans
    assert view.items["credits"].quantity == 100 + 2000

    by_item = client.check("user", user_id, item="credits", quantity=2100)
    assert isinstance(by_item, CheckOut)
    assert (by_item.allowed, by_item.quantity, by_item.requested) == (True, 2100, 2100)
    assert client.check("user", user_id, item="credits", quantity=2101).allowed is False
    assert client.check("user", user_id, feature="analytics").allowed is True
    assert client.check("user", user_id, plan="enterprise").allowed is False


def test_items_change_and_consume(client: Client, user_id: str) -> None:
    before = client.item("user", user_id, "credits")
    assert isinstance(before, ItemOut)
    assert before.quantity == 100

    added = client.change_item(
        "user",
        user_id,
        "credits",
        50,
        expires_at=datetime.now(UTC) + timedelta(days=1),
        description="promo",
    )
    assert isinstance(added, ItemChanged)
    assert added.quantity == 150
    assert client.consume("user", user_id, "credits", 40, description="generation").quantity == 110
    assert client.consume("user", user_id, "credits").quantity == 109

    overdraft = client.change_item("user", user_id, "credits", -200, allow_negative=True)
    assert (overdraft.quantity, overdraft.non_negative_quantity) == (-91, 0)


def test_catalog_round_trip(client: Client) -> None:
    applied = client.apply_catalog(EXAMPLE_CATALOG.read_text())
    assert applied.created is False  # the same content as the one the server started with
    catalog = client.get_catalog()
    assert catalog.version == applied.version
    assert {"export", "analytics", "sso"} <= set(catalog.catalog["features"])


def test_customer_handle_binds_the_customer(client: Client, user_id: str) -> None:
    customer = client.customer("user", user_id)
    customer.upsert(email="h@example.com")
    assert customer.get().email == "h@example.com"
    assert not customer.has(feature="export")
    customer.grant("pro")
    assert customer.has(feature="export")
    assert customer.check(plan="pro").allowed
    assert "credits" in customer.entitlements().items
    assert customer.item("credits").quantity == 5000
    assert customer.consume("credits", 10).quantity == 4990
    assert customer.change_item("credits", 10).quantity == 5000
    assert [p.product_id for p in customer.products().data] == ["pro"]
    assert [p.product_id for p in customer.revoke("pro").data] == ["free"]


def test_every_post_sends_an_idempotency_key(client: Client, user_id: str) -> None:
    key = f"grant-{user_id}"
    first = client.grant("user", user_id, "credit_pack", idempotency_key=key)
    again = client.grant("user", user_id, "credit_pack", idempotency_key=key)
    assert again == first
    assert client.item("user", user_id, "credits").quantity == 100 + 1000
