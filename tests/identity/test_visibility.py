"""Server-only products are invisible to clients (DESIGN.md invariant 7); what they grant
is not."""

from __future__ import annotations

import jwt
from fastapi.testclient import TestClient

from tests.identity.conftest import Tokens, bearer


def test_a_server_only_product_is_hidden_from_its_own_client(
    app: TestClient, secret_key: str, tokens: Tokens, example_catalog_text: str
) -> None:
    server = bearer(secret_key)
    app.put("/v1/catalog", content=example_catalog_text,
            headers={**server, "content-type": "application/toml"})
    granted = app.post("/v1/customers/user/u2/products", json={"product_id": "enterprise"},
                       headers=server)
    assert granted.status_code == 201, granted.text
    client = bearer(tokens.rs256("u2"))

    as_server = app.get("/v1/customers/user/u2/entitlements", headers=server).json()
    as_client = app.get("/v1/customers/user/u2/entitlements", headers=client).json()
    assert "enterprise" in as_server["plans"]
    assert "enterprise" in [p["product_id"] for p in as_server["products"]]
    assert "enterprise" not in as_client["plans"]
    assert "enterprise" not in [p["product_id"] for p in as_client["products"]]
    # What it grants stays usable: the client gates on features and items.
    assert "sso" in as_client["features"]
    assert as_client["items"]["credits"]["quantity"] == 100000

    listed = app.get("/v1/customers/user/u2/products", headers=client).json()["data"]
    assert "enterprise" not in [p["product_id"] for p in listed]
    assert "enterprise" in [
        p["product_id"]
        for p in app.get("/v1/customers/user/u2/products", headers=server).json()["data"]
    ]
    check = app.get("/v1/customers/user/u2/check", params={"feature": "sso"}, headers=client)
    assert check.json()["allowed"] is True

    token = app.get("/v1/entitlement-token", headers=client).json()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert "enterprise" not in claims["plans"] and "sso" in claims["features"]
