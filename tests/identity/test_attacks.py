"""DESIGN.md invariant 7 (and 8): every way a client token might reach beyond its user is
refused with a stable code, and the refusal changes nothing in the database.

Each row of ATTACKS is one attempt, made over HTTP against the real app on SQLite and
PostgreSQL. To add one (e.g. the checkout route once it exists), append a row:

    Attack("member buys for its team",
           lambda w: w.post(w.token("m1"), "/v1/checkout-sessions",
                            {"customer_type": "team", "customer_id": "t1", "product_id": "team"}),
           403, "team_admin_required"),
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi.testclient import TestClient
from httpx import Response

from plangate.clock import FrozenClock
from plangate.services.access.identity import CUSTOMER_SESSION_PREFIX, CUSTOMER_SESSION_TYP
from plangate.services.access.keys import create_key
from plangate.store.db import Database
from tests.conftest import EXAMPLE_CATALOG
from tests.identity.conftest import (
    AppMaker,
    ProviderKeys,
    Tokens,
    bearer,
    database_state,
    expect_error,
    running_jwks,
)


@dataclass
class World:
    """A catalog, two users (u2 holds the server-only `enterprise`), team t1 with admin a1
    and member m1, and tokens minted before the attack."""

    app: TestClient
    tokens: Tokens
    clock: FrozenClock
    minted: dict[str, str] = field(default_factory=dict)

    def token(self, sub: str, **claims: Any) -> str:
        return self.tokens.rs256(sub, **claims)

    def get(self, token: str, path: str, **params: Any) -> Response:
        return self.app.get(path, params=params, headers=bearer(token))

    def post(self, token: str, path: str, body: dict[str, Any]) -> Response:
        return self.app.post(path, json=body, headers=bearer(token))

    def put(self, token: str, path: str, body: dict[str, Any]) -> Response:
        return self.app.put(path, json=body, headers=bearer(token))

    def delete(self, token: str, path: str) -> Response:
        return self.app.delete(path, headers=bearer(token))


def build_world(app: TestClient, secret_key: str, catalog: str, tokens: Tokens,
                clock: FrozenClock) -> World:
    server = bearer(secret_key)

    def ok(response: Response) -> Response:
        assert response.status_code < 300, response.text
        return response

    ok(app.put("/v1/catalog", content=catalog,
               headers={**server, "content-type": "application/toml"}))
    ok(app.post("/v1/customers/user/u2/products", json={"product_id": "enterprise"},
                headers=server))
    ok(app.put("/v1/teams/t1/members/a1", json={"role": "admin"}, headers=server))
    ok(app.put("/v1/teams/t1/members/m1", json={"role": "member"}, headers=server))
    for customer in ("user/u1", "custom/c1"):
        ok(app.get(f"/v1/customers/{customer}/entitlements", headers=server))
    world = World(app, tokens, clock)
    world.minted["entitlement"] = ok(
        app.get("/v1/entitlement-token", params={"customer_type": "user", "customer_id": "u1"},
                headers=server)
    ).json()["token"]
    world.minted["short_session"] = ok(
        app.post("/v1/customer-sessions", json={"user_id": "u1", "expires_in": 60},
                 headers=server)
    ).json()["token"]
    return world


def _rsa_public_pem(world: World) -> bytes:
    return world.tokens.keys.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _forged_session(world: World) -> str:
    now = int(world.clock.now().timestamp())
    claims = {"iss": "https://billing.example.com", "aud": "plangate:customer-session",
              "sub": "u2", "teams": {}, "iat": now, "exp": now + 600}
    token = jwt.encode(claims, ed25519.Ed25519PrivateKey.generate(), "EdDSA",
                       {"kid": "made-up", "typ": CUSTOMER_SESSION_TYP})
    return CUSTOMER_SESSION_PREFIX + token


def _expired_session(world: World) -> Response:
    world.clock.advance(timedelta(seconds=120))
    return world.get(world.minted["short_session"], "/v1/customers/user/u1/entitlements")


OWN = "/v1/customers/user/u1/entitlements"


@dataclass(frozen=True)
class Attack:
    name: str
    request: Callable[[World], Response]
    status: int
    code: str
    settings: dict[str, Any] = field(default_factory=dict)


ATTACKS = [
    # --- forged or unusable tokens ----------------------------------------------------------
    Attack("no credentials", lambda w: w.app.get(OWN), 401, "authentication_required"),
    Attack("alg none", lambda w: w.get(w.tokens.unsigned("u1"), OWN),
           401, "token_algorithm_not_allowed"),
    Attack("HS256 signed with the RSA public key, JWKS only",
           lambda w: w.get(w.tokens.hs256("u1", _rsa_public_pem(w), kid="rsa-1"), OWN),
           401, "token_algorithm_not_allowed"),
    Attack("HS256 signed with the RSA public key, HS256 also configured",
           lambda w: w.get(w.tokens.hs256("u1", _rsa_public_pem(w), kid="rsa-1"), OWN),
           401, "token_signature_invalid",
           {"identity_hs256_secret": "the-real-shared-secret-of-32-bytes-or-more"}),
    Attack("ES256 token naming an RSA key",
           lambda w: w.get(jwt.encode(w.tokens.claims("u1"), w.tokens.keys.ec, "ES256",
                                      {"kid": "rsa-1"}), OWN),
           401, "token_algorithm_not_allowed"),
    Attack("RS256 signed with another key under a known kid",
           lambda w: w.get(w.tokens.rs256("u1", key=w.tokens.keys.rsa_other), OWN),
           401, "token_signature_invalid"),
    Attack("unknown kid", lambda w: w.get(w.tokens.rs256("u1", kid="nope"), OWN),
           401, "token_key_unknown"),
    Attack("expired", lambda w: w.get(w.token("u1", exp=int(w.clock.now().timestamp()) - 3600),
                                      OWN), 401, "token_expired"),
    Attack("not yet valid", lambda w: w.get(
        w.token("u1", nbf=int(w.clock.now().timestamp()) + 3600), OWN),
           401, "token_not_yet_valid"),
    Attack("wrong issuer", lambda w: w.get(w.token("u1", iss="https://evil.example.com"), OWN),
           401, "token_issuer_invalid"),
    Attack("wrong audience", lambda w: w.get(w.token("u1", aud="another-app"), OWN),
           401, "token_audience_invalid"),
    Attack("no audience", lambda w: w.get(w.token("u1", aud=None), OWN), 401, "token_invalid"),
    Attack("no user id", lambda w: w.get(w.token(""), OWN), 401, "token_claim_invalid"),
    Attack("customer session signed by someone else",
           lambda w: w.get(_forged_session(w), OWN), 401, "token_key_unknown"),
    Attack("entitlement token passed off as a customer session",
           lambda w: w.get(CUSTOMER_SESSION_PREFIX + w.minted["entitlement"], OWN),
           401, "token_invalid"),
    Attack("entitlement token passed off as an identity token",
           lambda w: w.get(w.minted["entitlement"], OWN), 401, "token_key_unknown"),
    Attack("expired customer session", _expired_session, 401, "token_expired"),
    Attack("client token while identity is not configured",
           lambda w: w.get(w.token("u1"), OWN), 401, "identity_not_configured",
           {"identity_jwks_url": ""}),
    # --- valid tokens reaching beyond their user ------------------------------------------
    Attack("user reads another user's entitlements",
           lambda w: w.get(w.token("u1"), "/v1/customers/user/u2/entitlements"),
           403, "customer_forbidden"),
    Attack("user reads another user's customer record",
           lambda w: w.get(w.token("u1"), "/v1/customers/user/u2"), 403, "customer_forbidden"),
    Attack("user checks another user's feature",
           lambda w: w.get(w.token("u1"), "/v1/customers/user/u2/check", feature="sso"),
           403, "customer_forbidden"),
    Attack("user reads another user's item",
           lambda w: w.get(w.token("u1"), "/v1/customers/user/u2/items/credits"),
           403, "customer_forbidden"),
    Attack("user asks for another user's entitlement token",
           lambda w: w.get(w.token("u1"), "/v1/entitlement-token",
                           customer_type="user", customer_id="u2"),
           403, "customer_forbidden"),
    Attack("user grants a product to another user",
           lambda w: w.post(w.token("u1"), "/v1/customers/user/u2/products",
                            {"product_id": "pro"}), 403, "server_only"),
    Attack("outsider reads a team",
           lambda w: w.get(w.token("u1"), "/v1/customers/team/t1/entitlements"),
           403, "customer_forbidden"),
    Attack("outsider asks for a team's entitlement token",
           lambda w: w.get(w.token("u1"), "/v1/entitlement-token", team_id="t1"),
           403, "customer_forbidden"),
    Attack("member (not admin) adds a member to its team",
           lambda w: w.put(w.token("m1"), "/v1/teams/t1/members/x1", {"role": "member"}),
           403, "team_admin_required"),
    Attack("member (not admin) removes another member",
           lambda w: w.delete(w.token("m1"), "/v1/teams/t1/members/a1"),
           403, "team_admin_required"),
    Attack("member by token claim (not admin) adds a member",
           lambda w: w.put(w.token("z1", org_id="t1", org_role="org:member"),
                           "/v1/teams/t1/members/x1", {"role": "member"}),
           403, "team_admin_required"),
    Attack("admin of one team manages another",
           lambda w: w.put(w.token("a1"), "/v1/teams/t2/members/x1", {"role": "admin"}),
           403, "customer_forbidden"),
    Attack("client consumes its own credits",
           lambda w: w.post(w.token("u1"), "/v1/customers/user/u1/items/credits/consume",
                            {"quantity": 1}), 403, "server_only"),
    Attack("client changes its own item quantity",
           lambda w: w.post(w.token("u1"), "/v1/customers/user/u1/items/credits/changes",
                            {"delta": 1000}), 403, "server_only"),
    Attack("client grants itself a product",
           lambda w: w.post(w.token("u1"), "/v1/customers/user/u1/products",
                            {"product_id": "enterprise"}), 403, "server_only"),
    Attack("client grants itself an inline product",
           lambda w: w.post(w.token("u1"), "/v1/customers/user/u1/products",
                            {"product": {"id": "mine", "name": "Mine", "customer_type": "user",
                                         "features": ["sso"]}}), 403, "server_only"),
    Attack("client revokes a product",
           lambda w: w.delete(w.token("u2"), "/v1/customers/user/u2/products/enterprise"),
           403, "server_only"),
    Attack("client reads a custom customer",
           lambda w: w.get(w.token("c1"), "/v1/customers/custom/c1/entitlements"),
           403, "custom_customer_forbidden"),
    Attack("client asks for a custom customer's entitlement token",
           lambda w: w.get(w.token("c1"), "/v1/entitlement-token",
                           customer_type="custom", customer_id="c1"),
           403, "custom_customer_forbidden"),
    Attack("client mints a customer session",
           lambda w: w.post(w.token("u1"), "/v1/customer-sessions", {"user_id": "u2"}),
           403, "server_only"),
    Attack("client reads the catalog source",
           lambda w: w.get(w.token("u1"), "/v1/catalog"), 403, "server_only"),
]


@dataclass
class Stage:
    """One world per database for the whole table: every attack changes nothing, so each
    one can meet the world the previous one left (and the test checks that it did)."""

    world: World
    db: Database
    make_app: AppMaker
    apps: dict[str, TestClient] = field(default_factory=dict)

    def world_for(self, attack: Attack) -> World:
        if not attack.settings:
            return self.world
        key = repr(sorted(attack.settings.items()))
        if key not in self.apps:
            self.apps[key] = self.make_app(**attack.settings)
        return replace(self.world, app=self.apps[key])


@pytest.fixture(scope="module")
def stage(module_database_url: str, provider_keys: ProviderKeys) -> Iterator[Stage]:
    db = Database(module_database_url, pool_size=10)
    clock = FrozenClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    with db.write() as session:
        secret_key = create_key(session, "tests", clock.now()).secret
    with running_jwks(provider_keys) as jwks:
        make_app = AppMaker(db, clock, jwks.url)
        world = build_world(make_app(), secret_key, EXAMPLE_CATALOG.read_text(),
                            Tokens(provider_keys, clock), clock)
        yield Stage(world, db, make_app)
        make_app.close()
    db.dispose()


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_refused_and_changes_nothing(attack: Attack, stage: Stage) -> None:
    world = stage.world_for(attack)
    before = database_state(stage.db)
    start = world.clock.now()
    try:
        response = attack.request(world)
    finally:
        world.clock.set(start)  # an attack that waits (an expired session) waits for itself

    expect_error(response, attack.status, attack.code)
    expected_type = "authentication_error" if attack.status == 401 else "permission_error"
    assert response.json()["error"]["type"] == expected_type
    assert database_state(stage.db) == before


def test_the_same_tokens_do_work_where_allowed(
    app: TestClient, secret_key: str, example_catalog_text: str, tokens: Tokens,
    clock: FrozenClock,
) -> None:
    """The attack table's refusals are not a blanket refusal: each token is good for its own
    user and team (so a row failing with 403 really tested authorization)."""
    world = build_world(app, secret_key, example_catalog_text, tokens, clock)
    assert world.get(world.token("u1"), OWN).status_code == 200
    assert world.get(world.token("m1"), "/v1/customers/team/t1/entitlements").status_code == 200
    added = world.put(world.token("a1"), "/v1/teams/t1/members/x1", {"role": "member"})
    assert added.status_code == 201, added.text
    claimed_admin = world.token("z1", org_id="t1", org_role="org:admin")
    added = world.put(claimed_admin, "/v1/teams/t1/members/x2", {"role": "member"})
    # team_free grants 3 seats: a1, m1, x1 hold them all.
    expect_error(added, 409, "seat_limit_reached")
    left = world.delete(world.token("m1"), "/v1/teams/t1/members/m1")
    assert left.status_code == 204, left.text
    assert world.put(claimed_admin, "/v1/teams/t1/members/x2", {}).status_code == 201
