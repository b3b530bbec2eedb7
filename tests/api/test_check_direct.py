"""``check`` is served by its endpoint directly, not through FastAPI's request handling
(dependency solving, response model, exit stack), which cost a fifth of its time; the
answers, the refusals and the API document stay what they were."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

CHECK = "/v1/customers/user/u1/check"


def _solving(*_: Any, **__: Any) -> None:
    raise AssertionError("check went through FastAPI's dependency solving")


@pytest.fixture
def direct(
    api: TestClient, example_catalog_text: str, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    applied = api.put("/v1/catalog", content=example_catalog_text,
                      headers={"Content-Type": "application/toml"})
    assert applied.status_code == 200, applied.text
    granted = api.post("/v1/customers/user/u1/products", json={"product_id": "pro"})
    assert granted.status_code in (200, 201), granted.text
    import fastapi.routing

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", _solving)
    return api


def test_check_answers_without_fastapis_request_handling(direct: TestClient) -> None:
    assert direct.get(CHECK, params={"feature": "export"}).json() == {
        "allowed": True, "feature": "export"}
    assert direct.get(CHECK, params={"plan": "pro"}).json() == {"allowed": True, "plan": "pro"}
    unknown = direct.get(CHECK, params={"feature": "exprt"}).json()
    assert unknown["allowed"] is False and unknown["reason"]
    credits = direct.get(CHECK, params={"item": "credits", "quantity": "1"})
    assert credits.status_code == 200 and set(credits.json()) == {
        "allowed", "item", "quantity", "requested"}


def test_checks_refusals_keep_their_codes(direct: TestClient) -> None:
    both = direct.get(CHECK, params={"feature": "export", "plan": "pro"})
    assert (both.status_code, both.json()["error"]["code"]) == (400, "check_target_invalid")
    quantity = direct.get(CHECK, params={"item": "credits", "quantity": "1e2"})
    assert (quantity.status_code, quantity.json()["error"]["param"]) == (400, "quantity")
    anonymous = TestClient(direct.app).get(CHECK, params={"feature": "export"})
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (
        401, "authentication_required")
    assert anonymous.headers["x-request-id"]
    post = direct.post(CHECK, params={"feature": "export"})
    assert post.status_code == 405 and post.headers["allow"] == "GET"
    other_type = direct.get("/v1/customers/robot/u1/check", params={"feature": "export"})
    assert other_type.status_code == 400


def test_check_is_still_in_the_api_document(api: TestClient) -> None:
    operation = api.get("/openapi.json").json()["paths"][
        "/v1/customers/{customer_type}/{customer_id}/check"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"feature", "plan", "item"}
    assert "400" in operation["responses"] and "200" in operation["responses"]
