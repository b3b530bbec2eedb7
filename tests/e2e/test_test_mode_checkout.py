"""Checkout on the test gateway (test mode): no Stripe, granted at once, same API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
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


def test_a_test_mode_purchase_with_a_trial_starts_trialing_and_charges_nothing(
    api: TestClient, clock: FrozenClock
) -> None:
    applied = api.put("/v1/catalog", content=EXAMPLE_CATALOG.read_text())
    assert applied.status_code in (200, 201), applied.text
    bought = api.post(
        "/v1/checkout-sessions",
        json={"customer_type": "user", "customer_id": "tr", "product_id": "pro"},
    )
    assert bought.status_code == 201, bought.text
    start = clock.now()

    pro = _owned(api, "tr")["pro"]
    assert (pro["status"], pro["grants_access"]) == ("trialing", True)  # pro: 14-day trial
    assert datetime.fromisoformat(pro["trial_end"]) == start + timedelta(days=14)
    assert datetime.fromisoformat(pro["current_period_end"]) == start + timedelta(days=14)
    assert _payments(api, "tr") == []

    clock.advance(timedelta(days=13))
    assert _owned(api, "tr")["pro"]["status"] == "trialing"
    clock.advance(timedelta(days=2))
    pro = _owned(api, "tr")["pro"]
    assert (pro["status"], pro["grants_access"]) == ("active", True)


def test_a_test_mode_purchase_without_a_trial_records_its_payment(api: TestClient) -> None:
    applied = api.put("/v1/catalog", content=EXAMPLE_CATALOG.read_text())
    assert applied.status_code in (200, 201), applied.text
    bought = api.post(
        "/v1/checkout-sessions",
        json={"customer_type": "user", "customer_id": "nt", "product_id": "enterprise"},
    )
    assert bought.status_code == 201, bought.text
    assert _owned(api, "nt")["enterprise"]["status"] == "active"
    assert [p["amount"] for p in _payments(api, "nt")] == [480000]


def _owned(api: TestClient, customer_id: str) -> dict[str, Any]:
    listed = api.get(f"/v1/customers/user/{customer_id}/products").json()["data"]
    return {p["product_id"]: p for p in listed}


def _payments(api: TestClient, customer_id: str) -> list[dict[str, Any]]:
    response = api.get(
        "/v1/transactions",
        params={"customer_type": "user", "customer_id": customer_id, "type": "payment"},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["data"])
