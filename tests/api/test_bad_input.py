"""Bad input gets a 4xx with a stable code and changes nothing, on SQLite and PostgreSQL alike
(DESIGN.md invariant 8): text the databases store differently, loose types, missing
quantities, oversized metadata, timestamps without an offset."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from plangate.store.db import Database
from plangate.store.models import Customer, LedgerEntry

C = "/v1/customers/user/ada"


@pytest.fixture
def with_catalog(api: TestClient, example_catalog_text: str) -> TestClient:
    applied = api.put(
        "/v1/catalog", content=example_catalog_text, headers={"content-type": "application/toml"}
    )
    assert applied.status_code == 200
    return api


def _ledger_rows(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


def _refused(response: Any, code: str, param: str | None = None) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == code
    if param is not None:
        assert error["param"] == param


UNSAFE = pytest.mark.parametrize("text", ["a\x00b", "a\udc00b", "\ud800"], ids=["nul", "lo", "hi"])


@UNSAFE
@pytest.mark.parametrize(
    "body",
    [
        lambda t: {"email": t},
        lambda t: {"name": t},
        lambda t: {"metadata": {"plan": t}},
        lambda t: {"metadata": {t: "x"}},
    ],
    ids=["email", "name", "metadata-value", "metadata-key"],
)
def test_unsafe_text_in_a_customer_is_refused_and_nothing_stored(
    api: TestClient, db: Database, text: str, body: Any
) -> None:
    # httpx's json= cannot encode a lone surrogate; send the escaped JSON a client would.
    import json

    raw = json.dumps(body(text)).encode()
    response = api.put(C, content=raw, headers={"content-type": "application/json"})
    _refused(response, "parameter_invalid")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
    # The customer stays readable (no poisoned row behind a 500).
    assert api.get(C).status_code == 404


@UNSAFE
@pytest.mark.parametrize("route", ["consume", "changes"])
def test_unsafe_text_in_a_description_is_refused(
    with_catalog: TestClient, db: Database, text: str, route: str
) -> None:
    import json

    body = {"quantity": 1} if route == "consume" else {"delta": 5}
    body["description"] = text  # type: ignore[assignment]
    before = _ledger_rows(db)
    response = with_catalog.post(
        f"{C}/items/credits/{route}",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    _refused(response, "parameter_invalid", "description")
    assert _ledger_rows(db) == before


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/customers/user/a%00b", None),
        ("/v1/customers/user/ada/items/cre%00dits", None),
        ("/v1/teams/t%00/members", None),
        ("/v1/checkout-sessions/cs_%00", None),
    ],
)
def test_nul_in_a_path_is_refused(api: TestClient, path: str, param: str | None) -> None:
    _refused(api.get(path), "parameter_invalid", param)


def test_nul_in_a_query_is_refused(api: TestClient) -> None:
    _refused(api.get(C + "/check?feature=ex%00port"), "parameter_invalid")
    _refused(api.get("/v1/transactions?customer_id=a%00"), "parameter_invalid")


def test_unicode_digits_in_a_check_quantity_are_refused(with_catalog: TestClient) -> None:
    # "²".isdigit() is true but int("²") fails: a 500 before.
    _refused(with_catalog.get(C + "/check?item=credits&quantity=%C2%B2"), "parameter_invalid")


def test_nul_in_an_idempotency_key_is_refused(with_catalog: TestClient, db: Database) -> None:
    before = _ledger_rows(db)
    response = with_catalog.post(
        C + "/items/credits/changes", json={"delta": 5}, headers={"Idempotency-Key": "k\x00"}
    )
    _refused(response, "parameter_invalid", "idempotency-key")
    assert _ledger_rows(db) == before


@pytest.mark.parametrize(
    "body",
    [{"quantity": True}, {"quantity": "5"}, {"quantity": 1e2}, {"quantity": 2.0}],
    ids=["bool", "string", "exponent", "float"],
)
def test_integers_are_json_integers(with_catalog: TestClient, db: Database, body: Any) -> None:
    before = _ledger_rows(db)
    _refused(with_catalog.post(C + "/items/credits/consume", json=body), "parameter_invalid",
             "quantity")
    assert _ledger_rows(db) == before


def test_loose_types_are_refused_elsewhere(with_catalog: TestClient) -> None:
    _refused(with_catalog.post(C + "/items/credits/changes", json={"delta": "5"}),
             "parameter_invalid", "delta")
    _refused(
        with_catalog.post(
            C + "/items/credits/changes", json={"delta": 5, "allow_negative": "true"}
        ),
        "parameter_invalid",
        "allow_negative",
    )
    _refused(with_catalog.post(C + "/products", json={"product_id": "pro", "quantity": "2"}),
             "parameter_invalid", "quantity")


def test_consume_requires_a_quantity(with_catalog: TestClient, db: Database) -> None:
    before = _ledger_rows(db)
    _refused(with_catalog.post(C + "/items/credits/consume", json={}), "parameter_missing",
             "quantity")
    assert _ledger_rows(db) == before


def test_quantities_are_bounded(with_catalog: TestClient, db: Database) -> None:
    before = _ledger_rows(db)
    huge = 10**30  # past a 64-bit column: a 500 on PostgreSQL before
    _refused(with_catalog.post(C + "/items/credits/changes", json={"delta": huge}),
             "parameter_invalid", "delta")
    _refused(with_catalog.post(C + "/items/credits/consume", json={"quantity": huge}),
             "parameter_invalid", "quantity")
    assert _ledger_rows(db) == before


@pytest.mark.parametrize("expires_at", ["2030-01-01T00:00:00", "2030-01-01", "soon"])
def test_expires_at_needs_a_utc_offset(
    with_catalog: TestClient, db: Database, expires_at: str
) -> None:
    before = _ledger_rows(db)
    response = with_catalog.post(
        C + "/items/credits/changes", json={"delta": 5, "expires_at": expires_at}
    )
    _refused(response, "expires_at_invalid", "expires_at")
    assert _ledger_rows(db) == before
    accepted = with_catalog.post(
        C + "/items/credits/changes", json={"delta": 5, "expires_at": "2030-01-01T00:00:00Z"}
    )
    assert accepted.status_code == 200


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": "v" for i in range(51)},
        {"k" * 41: "v"},
        {"k": "v" * 501},
        {"": "v"},
    ],
    ids=["51-keys", "long-key", "long-value", "empty-key"],
)
def test_metadata_has_stripes_limits(api: TestClient, db: Database, metadata: Any) -> None:
    _refused(api.put(C, json={"metadata": metadata}), "parameter_invalid")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_metadata_at_the_limits_is_stored(api: TestClient) -> None:
    metadata = {f"{i:02d}".ljust(40, "k"): "v" * 500 for i in range(50)}
    response = api.put(C, json={"metadata": metadata})
    assert response.status_code == 200, response.text
    assert api.get(C).json()["metadata"] == metadata


def test_a_malformed_json_body_names_no_byte_offset_as_param(api: TestClient) -> None:
    response = api.put(C, content=b'{"email": "a@b.c",,}',
                       headers={"content-type": "application/json"})
    error = response.json()["error"]
    assert response.status_code == 400 and error["code"] == "body_invalid"
    assert error["param"] is None
    assert "not valid JSON" in error["message"]


def test_deeply_nested_json_is_a_400(api: TestClient) -> None:
    body = b'{"metadata": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = api.put(C, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "body_invalid"


def test_a_long_item_id_is_a_400_not_a_database_error(with_catalog: TestClient) -> None:
    # With an Idempotency-Key the item id reached a 64-character column: a 500 on PostgreSQL.
    for route, body in (("consume", {"quantity": 1}), ("changes", {"delta": 1})):
        response = with_catalog.post(
            f"{C}/items/{'i' * 100}/{route}", json=body, headers={"Idempotency-Key": route}
        )
        _refused(response, "parameter_invalid", "item_id")


def test_an_empty_catalog_body_is_refused(with_catalog: TestClient) -> None:
    before = with_catalog.get("/v1/catalog").json()["version"]
    response = with_catalog.put(
        "/v1/catalog", content=b"", headers={"content-type": "application/toml"}
    )
    _refused(response, "body_invalid")
    assert with_catalog.get("/v1/catalog").json()["version"] == before
