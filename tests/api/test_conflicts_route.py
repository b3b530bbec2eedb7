"""``GET {c}/conflicts``: bad input is a 4xx with a stable code, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_a_customer_without_conflicts_has_an_empty_list(api: TestClient) -> None:
    response = api.get("/v1/customers/user/ada/conflicts")
    assert response.status_code == 200
    assert response.json() == {"data": []}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/customers/robot/ada/conflicts", 400, "customer_type_invalid"),
        ("/v1/customers/user/" + "x" * 300 + "/conflicts", 400, "customer_id_invalid"),
    ],
)
def test_bad_customers_are_refused(api: TestClient, path: str, status: int, code: str) -> None:
    response = api.get(path)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_it_needs_a_key(anonymous: TestClient) -> None:
    assert anonymous.get("/v1/customers/user/ada/conflicts").status_code == 401
