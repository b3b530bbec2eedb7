"""Identity-provider tokens: every accepted algorithm, the JWKS fetched over real HTTP and
refetched when the provider rotates its keys, and the claim mappings of common providers."""

from __future__ import annotations

import jwt
from jwt.algorithms import RSAAlgorithm

from tests.identity.conftest import (
    JwksServer,
    MakeApp,
    ProviderKeys,
    Tokens,
    bearer,
    expect_error,
)

OWN = "/v1/customers/user/u1/entitlements"


def test_rs256_es256_and_eddsa_tokens_from_the_jwks_are_accepted(
    make_app: MakeApp, tokens: Tokens, jwks_server: JwksServer
) -> None:
    app = make_app()
    for token in (tokens.rs256("u1"), tokens.es256("u1"), tokens.eddsa("u1")):
        response = app.get(OWN, headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json()["customer_id"] == "u1"
    assert jwks_server.requests == 1  # fetched once, then cached


def test_a_shared_hs256_secret_verifies_hs256_tokens(make_app: MakeApp, tokens: Tokens) -> None:
    secret = "a-shared-secret-that-is-long-enough-for-hs256"
    app = make_app(identity_jwks_url="", identity_hs256_secret=secret)
    assert app.get(OWN, headers=bearer(tokens.hs256("u1", secret))).status_code == 200
    expect_error(
        app.get(OWN, headers=bearer(tokens.hs256("u1", secret + "x"))),
        401, "token_signature_invalid",
    )
    # With no JWKS configured, an RS256 token has nothing to be verified with.
    expect_error(app.get(OWN, headers=bearer(tokens.rs256("u1"))), 401,
                 "token_algorithm_not_allowed")


def test_an_unknown_kid_refetches_the_jwks_once_then_backs_off(
    make_app: MakeApp, tokens: Tokens, jwks_server: JwksServer, provider_keys: ProviderKeys
) -> None:
    app = make_app()
    assert app.get(OWN, headers=bearer(tokens.rs256("u1"))).status_code == 200
    assert jwks_server.requests == 1

    # The provider rotates: a new key appears under a new kid.
    new_jwk = RSAAlgorithm.to_jwk(provider_keys.rsa_other.public_key(), as_dict=True)
    jwks_server.document = {"keys": [{**new_jwk, "kid": "rsa-2", "alg": "RS256"}]}
    rotated = tokens.rs256("u1", key=provider_keys.rsa_other, kid="rsa-2")
    assert app.get(OWN, headers=bearer(rotated)).status_code == 200
    assert jwks_server.requests == 2

    # The old key is gone from the provider, and with it from plangate.
    expect_error(app.get(OWN, headers=bearer(tokens.rs256("u1"))), 401, "token_key_unknown")
    assert jwks_server.requests == 3
    # Made-up kids right after a miss don't make plangate hammer the provider.
    for kid in ("x1", "x2", "x3"):
        expect_error(app.get(OWN, headers=bearer(tokens.rs256("u1", kid=kid))), 401,
                     "token_key_unknown")
    assert jwks_server.requests == 3
    assert app.get(OWN, headers=bearer(rotated)).status_code == 200


def test_an_unreachable_jwks_is_a_gateway_error_not_a_500(
    make_app: MakeApp, tokens: Tokens
) -> None:
    app = make_app(identity_jwks_url="http://127.0.0.1:9/nothing-listens-here")
    expect_error(app.get(OWN, headers=bearer(tokens.rs256("u1"))), 502,
                 "identity_provider_unavailable")


def test_clerk_organization_claims_make_team_admins_and_members(
    make_app: MakeApp, tokens: Tokens, secret_key: str
) -> None:
    app = make_app()
    admin = tokens.rs256("a1", org_id="t1", org_role="org:admin")
    member = tokens.rs256("m1", org_id="t1", org_role="org:member")
    assert app.get("/v1/customers/team/t1/entitlements", headers=bearer(member)).status_code == 200
    added = app.put("/v1/teams/t1/members/x1", json={"role": "member"}, headers=bearer(admin))
    assert added.status_code == 201, added.text
    expect_error(app.put("/v1/teams/t1/members/x2", json={}, headers=bearer(member)),
                 403, "team_admin_required")
    # Clerk's v2 session tokens put the organization under "o": dotted claim paths reach it.
    app_v2 = make_app(identity_team_claim="o.id", identity_role_claim="o.rol")
    admin_v2 = tokens.rs256("a2", o={"id": "t1", "rol": "admin"})
    added = app_v2.put("/v1/teams/t1/members/x3", json={}, headers=bearer(admin_v2))
    assert added.status_code == 201, added.text


def test_claim_names_are_configurable_for_other_providers(
    make_app: MakeApp, tokens: Tokens
) -> None:
    # Supabase-style: the user is `sub`, the team and role live in app_metadata.
    app = make_app(
        identity_team_claim="app_metadata.team_id",
        identity_role_claim="app_metadata.team_role",
        identity_admin_roles=["owner"],
    )
    owner = tokens.rs256("u9", app_metadata={"team_id": "t9", "team_role": "owner"})
    assert app.put("/v1/teams/t9/members/x1", json={}, headers=bearer(owner)).status_code == 201
    # Keycloak-style: a custom user claim and a list of roles.
    app = make_app(identity_user_claim="preferred_username", identity_team_claim="tenant",
                   identity_role_claim="roles", identity_admin_roles=["tenant-admin"])
    token = tokens.rs256("ignored", preferred_username="kc-user", tenant="t8",
                         roles=["viewer", "tenant-admin"])
    response = app.get("/v1/customers/user/kc-user/entitlements", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert app.put("/v1/teams/t8/members/x1", json={}, headers=bearer(token)).status_code == 201


def test_leeway_bounds_clock_skew(make_app: MakeApp, tokens: Tokens) -> None:
    app = make_app(identity_leeway_seconds=30)
    now = int(tokens.clock.now().timestamp())
    assert app.get(OWN, headers=bearer(tokens.rs256("u1", exp=now - 10))).status_code == 200
    expect_error(app.get(OWN, headers=bearer(tokens.rs256("u1", exp=now - 31))), 401,
                 "token_expired")
    assert app.get(OWN, headers=bearer(tokens.rs256("u1", nbf=now + 10))).status_code == 200
    expect_error(app.get(OWN, headers=bearer(tokens.rs256("u1", iat=now + 120))), 401,
                 "token_not_yet_valid")


def test_a_jwks_key_pinned_to_another_algorithm_is_not_used(
    make_app: MakeApp, tokens: Tokens, jwks_server: JwksServer, provider_keys: ProviderKeys
) -> None:
    rsa_jwk = RSAAlgorithm.to_jwk(provider_keys.rsa.public_key(), as_dict=True)
    jwks_server.document = {"keys": [{**rsa_jwk, "kid": "rsa-1", "alg": "RS512"}]}
    app = make_app()
    expect_error(app.get(OWN, headers=bearer(tokens.rs256("u1"))), 401, "token_key_unknown")
    assert jwt.get_unverified_header(tokens.rs256("u1"))["alg"] == "RS256"


def test_a_provider_outage_keeps_the_known_keys_working(
    make_app: MakeApp, tokens: Tokens, jwks_server: JwksServer
) -> None:
    app = make_app(identity_jwks_cache_seconds=0)  # every request wants a fresh JWKS
    assert app.get(OWN, headers=bearer(tokens.rs256("u1"))).status_code == 200
    jwks_server.down = True
    assert app.get(OWN, headers=bearer(tokens.es256("u1"))).status_code == 200
    # A kid plangate has never seen can't be checked while the provider is down...
    expect_error(app.get(OWN, headers=bearer(tokens.rs256("u1", kid="new"))), 502,
                 "identity_provider_unavailable")
    # ...and more of them don't each make plangate call the provider again.
    requests = jwks_server.requests
    expect_error(app.get(OWN, headers=bearer(tokens.rs256("u1", kid="newer"))), 401,
                 "token_key_unknown")
    assert jwks_server.requests == requests
