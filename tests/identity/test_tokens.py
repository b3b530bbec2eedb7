"""Customer-session tokens, entitlement tokens (verified offline with the published JWKS)
and signing-key rotation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.access.signing import rotate_signing_key
from plangate.store.db import Database
from plangate.store.models import SigningKey
from tests.identity.conftest import BASE_URL, MakeApp, Tokens, bearer, expect_error


@pytest.fixture
def server(secret_key: str) -> dict[str, str]:
    return bearer(secret_key)


def _catalog(app: TestClient, server: dict[str, str], text: str) -> None:
    response = app.put("/v1/catalog", content=text,
                       headers={**server, "content-type": "application/toml"})
    assert response.status_code == 200, response.text


def verify_offline(app: TestClient, token: str, now: FrozenClock) -> dict[str, Any]:
    """What an app's backend does: fetch the JWKS, pick the key by kid, verify EdDSA."""
    jwks = app.get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=["EdDSA"], issuer=BASE_URL, options={"verify_exp": False}
    )
    assert claims["exp"] > now.now().timestamp()
    return claims


def test_a_customer_session_acts_for_its_user_and_team_roles(
    app: TestClient, server: dict[str, str]
) -> None:
    minted = app.post("/v1/customer-sessions",
                      json={"user_id": "u1", "teams": {"t1": "admin", "t2": "member"}},
                      headers=server)
    assert minted.status_code == 201, minted.text
    body = minted.json()
    assert body["token"].startswith("pgcs_") and body["teams"] == {"t1": "admin", "t2": "member"}
    session = bearer(body["token"])
    assert app.get("/v1/customers/user/u1/entitlements", headers=session).status_code == 200
    assert app.put("/v1/teams/t1/members/x1", json={}, headers=session).status_code == 201
    expect_error(app.put("/v1/teams/t2/members/x1", json={}, headers=session), 403,
                 "team_admin_required")
    expect_error(app.get("/v1/customers/user/u2", headers=session), 403, "customer_forbidden")


def test_customer_session_lifetime_is_bounded(
    make_app: MakeApp, server: dict[str, str], clock: FrozenClock
) -> None:
    app = make_app(customer_session_max_seconds=600)
    expect_error(app.post("/v1/customer-sessions", json={"user_id": "u1", "expires_in": 601},
                          headers=server), 400, "expires_in_invalid")
    minted = app.post("/v1/customer-sessions", json={"user_id": "u1", "expires_in": 600},
                      headers=server).json()
    clock.advance(timedelta(seconds=599))
    assert app.get("/v1/customers/user/u1", headers=bearer(minted["token"])).status_code in (
        200, 404)  # authenticated (the customer may not exist yet)
    clock.advance(timedelta(seconds=2 + 30))  # past exp and the 30 s skew leeway
    expect_error(app.get("/v1/customers/user/u1", headers=bearer(minted["token"])), 401,
                 "token_expired")


def test_the_entitlement_token_verifies_offline_with_the_jwks(
    app: TestClient, server: dict[str, str], tokens: Tokens, clock: FrozenClock,
    example_catalog_text: str,
) -> None:
    _catalog(app, server, example_catalog_text)
    app.post("/v1/customers/user/u1/products", json={"product_id": "pro"}, headers=server)
    response = app.get("/v1/entitlement-token", headers=bearer(tokens.rs256("u1")))
    assert response.status_code == 200, response.text
    body = response.json()
    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "EdDSA" and header["kid"]
    claims = verify_offline(app, body["token"], clock)
    now = int(clock.now().timestamp())
    assert claims == {
        "iss": BASE_URL, "sub": "user/u1", "customer_type": "user", "customer_id": "u1",
        "plans": ["pro"], "features": ["analytics", "export"], "iat": now, "exp": now + 300,
    }
    jwks = app.get("/.well-known/jwks.json").json()["keys"]
    assert [k["kty"] for k in jwks] == ["OKP"] and "d" not in jwks[0]


def test_team_tokens_for_members_and_any_customer_for_the_server(
    app: TestClient, server: dict[str, str], tokens: Tokens, clock: FrozenClock,
    example_catalog_text: str,
) -> None:
    _catalog(app, server, example_catalog_text)
    app.put("/v1/teams/t1/members/m1", json={"role": "member"}, headers=server)
    team = app.get("/v1/entitlement-token", params={"team_id": "t1"},
                   headers=bearer(tokens.rs256("m1")))
    assert team.status_code == 200, team.text
    claims = verify_offline(app, team.json()["token"], clock)
    assert (claims["sub"], claims["plans"]) == ("team/t1", ["team_free"])
    custom = app.get("/v1/entitlement-token",
                     params={"customer_type": "custom", "customer_id": "acme"}, headers=server)
    assert verify_offline(app, custom.json()["token"], clock)["sub"] == "custom/acme"
    expect_error(app.get("/v1/entitlement-token", headers=server), 400, "parameter_missing")


def test_rotation_keeps_the_previous_key_published_for_one_token_lifetime(
    make_app: MakeApp, server: dict[str, str], db: Database, clock: FrozenClock
) -> None:
    app = make_app(customer_session_max_seconds=300, entitlement_token_seconds=300)
    params = {"customer_type": "user", "customer_id": "u1"}
    old_token = app.get("/v1/entitlement-token", params=params, headers=server).json()["token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    old_session = app.post("/v1/customer-sessions", json={"user_id": "u1"},
                           headers=server).json()["token"]

    clock.advance(timedelta(seconds=60))
    with db.write() as session:
        new_kid = rotate_signing_key(session, clock.now()).kid
    new_token = app.get("/v1/entitlement-token", params=params, headers=server).json()["token"]
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid != old_kid
    kids = {k["kid"] for k in app.get("/.well-known/jwks.json").json()["keys"]}
    assert kids == {old_kid, new_kid}
    verify_offline(app, old_token, clock)  # in flight across the rotation: still verifies
    assert app.get("/v1/customers/user/u1/entitlements",
                   headers=bearer(old_session)).status_code == 200

    clock.advance(timedelta(seconds=301))
    kids = {k["kid"] for k in app.get("/.well-known/jwks.json").json()["keys"]}
    assert kids == {new_kid}


def test_signing_keys_are_stored_encrypted_when_a_secret_is_set(
    make_app: MakeApp, server: dict[str, str], db: Database, clock: FrozenClock
) -> None:
    app = make_app(signing_key_secret="correct horse battery staple")
    token = app.get("/v1/entitlement-token", params={"customer_type": "user", "customer_id": "u1"},
                    headers=server).json()["token"]
    verify_offline(app, token, clock)
    with db.read() as session:
        stored = session.query(SigningKey).one().private_key
    assert stored.startswith("fernet:") and "PRIVATE KEY" not in stored


def test_the_sdk_verifier_accepts_the_servers_entitlement_token(
    app: TestClient, server: dict[str, str], clock: FrozenClock, example_catalog_text: str
) -> None:
    """The contract between the two halves of offline checks: what the server signs is what
    the SDK verifies (same claims, same issuer, keys from the served JWKS)."""
    from plangate_sdk.tokens import EntitlementVerifier

    _catalog(app, server, example_catalog_text)
    app.post("/v1/customers/user/u1/products", json={"product_id": "pro"}, headers=server)
    token = app.get("/v1/entitlement-token", params={"customer_type": "user", "customer_id": "u1"},
                    headers=server).json()["token"]
    verifier = EntitlementVerifier(
        app.get("/.well-known/jwks.json").json(), issuer=BASE_URL,
        clock=lambda: clock.now().timestamp(),
    )
    entitlements = verifier.verify(token)
    assert entitlements.has(feature="export") and entitlements.has(plan="pro")
    assert not entitlements.has(feature="sso")
