"""Checkout on the test gateway (test mode): no Stripe, granted at once, same API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import EXAMPLE_CATALOG


def test_test_mode_checkout_grants_at_once(api: TestClient) -> None:
    catalog = EXAMPLE_CATALOG.read_text()
    applied = api.put("/v1/catalog", content=catalog, headers={"Content-Type": "application/toml"})
    assert applied.status_code in (200, 201), applied.text
    resp = api.post(
        "/v1/checkout-sessions",
        json={
            "customer_type": "user",
            "customer_id": "tm",
            "product_id": "credit_pack",
            "quantity": 2,
        },
    )
    assert resp.status_code == 201, resp.text
    session = resp.json()
    assert session["url"].endswith(f"/checkout/success?session_id={session['id']}")
    status = api.get(f"/v1/checkout-sessions/{session['id']}").json()
    assert status["status"] == "complete" and status["fulfilled"] is True
    products = {
        p["product_id"]: p for p in api.get("/v1/customers/user/tm/products").json()["data"]
    }
    assert products["credit_pack"]["quantity"] == 2
    pro = api.post(
        "/v1/checkout-sessions",
        json={"customer_type": "user", "customer_id": "tm", "product_id": "pro"},
    )
    assert pro.status_code == 201
    again = api.post(
        "/v1/checkout-sessions",
        json={"customer_type": "user", "customer_id": "tm", "product_id": "pro"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_owned"
