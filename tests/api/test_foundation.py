"""The server API's foundation: key auth, the error model, customers, catalog, idempotency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from plangate.clock import FrozenClock
from plangate.services.access.keys import hash_key, revoke_key
from plangate.store.db import Database
from plangate.store.models import ApiKey, CatalogVersion, LedgerEntry

C = "/v1/customers/user/ada"


def test_healthz(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "version": "0.1.0",
        "worker_lag_seconds": 0.0,
    }


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "authentication_required"),
        ("Basic abc", "authentication_invalid"),
        ("Bearer sk_wrong", "secret_key_invalid"),
    ],
)
def test_missing_or_wrong_key_is_401(anonymous: TestClient, header: str | None, code: str) -> None:
    headers = {"Authorization": header} if header else {}
    response = anonymous.get(C + "/entitlements", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == {
        "type": "authentication_error",
        "code": code,
        "message": response.json()["error"]["message"],
        "param": None,
    }


def test_keys_are_stored_hashed_and_revocable(
    api: TestClient, db: Database, secret_key: str, clock: FrozenClock
) -> None:
    with db.read() as session:
        row = session.scalars(select(ApiKey)).one()
    assert row.key_hash == hash_key(secret_key) and secret_key not in (row.key_hash, row.prefix)
    with db.write() as session:
        revoke_key(session, row.id, clock.now())
    api.app.state.plangate.keys.forget()  # the 30 s cache of verified keys
    assert api.get(C + "/entitlements").status_code == 401


def test_errors_have_one_shape(api: TestClient) -> None:
    for response, status, code in [
        (api.get("/v1/nowhere"), 404, "route_not_found"),
        (
            api.post(C + "/items/credits/consume", json={"quantity": "many"}),
            400,
            "parameter_invalid",
        ),
        (
            api.post(
                C + "/items/credits/consume",
                content=b"{not json",
                headers={"content-type": "application/json"},
            ),
            400,
            "body_invalid",
        ),
        (api.get("/v1/customers/robot/x/entitlements"), 400, "customer_type_invalid"),
        (api.get(C + "/check"), 400, "check_target_invalid"),
        (api.get("/v1/customers/user/nobody"), 404, "customer_not_found"),
        (api.patch(C), 405, "method_not_allowed"),
    ]:
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == code
        assert set(error) >= {"type", "code", "message", "param"}
        assert "detail" not in response.json()


def test_customers_upsert_and_read(api: TestClient) -> None:
    created = api.put(C, json={"email": "ada@example.com", "metadata": {"plan": "x"}})
    assert created.status_code == 200
    api.put(C, json={"name": "Ada"})
    got = api.get(C).json()
    assert (got["email"], got["name"], got["metadata"]) == ("ada@example.com", "Ada", {"plan": "x"})
    assert api.put("/v1/customers/team/t1", json={"email": 5}).status_code == 400


def test_catalog_apply_is_idempotent_and_invalid_changes_nothing(
    api: TestClient, db: Database, example_catalog_text: str
) -> None:
    first = api.put("/v1/catalog", content=example_catalog_text).json()
    again = api.put("/v1/catalog", content="\n# a comment\n" + example_catalog_text).json()
    assert first["created"] and not again["created"] and first["version"] == again["version"]
    bad = example_catalog_text.replace('usd = "19.99"', 'usd = "19.999"').replace(
        'features = ["analytics", "export"]', 'features = ["analytics", "exprt"]'
    )
    response = api.put("/v1/catalog", content=bad)
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "catalog_invalid"
    assert {p["code"] for p in body["problems"]} >= {"amount_too_precise", "unknown_feature"}
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(CatalogVersion)) == 1
    assert api.get("/v1/catalog").json()["version"] == first["version"]
    as_json = api.put("/v1/catalog", json=api.get("/v1/catalog").json()["catalog"]).json()
    assert as_json["version"] == first["version"]


def test_idempotency_key_replays_and_refuses_other_bodies(
    api: TestClient, db: Database, example_catalog_text: str
) -> None:
    api.put("/v1/catalog", content=example_catalog_text)
    key = {"Idempotency-Key": "consume-1"}
    first = api.post(C + "/items/credits/consume", json={"quantity": 7}, headers=key)
    second = api.post(C + "/items/credits/consume", json={"quantity": 7}, headers=key)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    other = api.post(C + "/items/credits/consume", json={"quantity": 8}, headers=key)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert api.get(C + "/items/credits").json()["quantity"] == 100 - 7


def test_concurrent_retries_with_one_key_take_effect_once(
    api: TestClient, db: Database, example_catalog_text: str
) -> None:
    api.put("/v1/catalog", content=example_catalog_text)
    api.get(C + "/entitlements")

    def attempt(_: int) -> int:
        return api.post(
            C + "/items/credits/changes", json={"delta": 5}, headers={"Idempotency-Key": "k"}
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(16)))
    assert statuses == [200] * 16
    with db.read() as session:
        changes = session.scalar(select(func.count()).where(LedgerEntry.kind == "change"))
    assert changes == 1
    assert api.get(C + "/items/credits").json()["quantity"] == 105


def test_openapi_docs_are_served(anonymous: TestClient) -> None:
    assert anonymous.get("/docs").status_code == 200
    spec = anonymous.get("/openapi.json").json()
    assert "/v1/customers/{customer_type}/{customer_id}/check" in spec["paths"]
