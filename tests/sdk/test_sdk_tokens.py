"""Offline entitlement checks: tokens verified once against the JWKS, then answered from
memory; expired, forged, unsigned and foreign tokens are refused."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jwt
import pytest

from plangate_sdk import Entitlements, EntitlementVerifier, ExpiredTokenError, InvalidTokenError
from plangate_sdk.errors import APIConnectionError, AuthenticationError

from .signing import ISSUER, SigningKey, claims, jwks


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def key() -> SigningKey:
    return SigningKey()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def verifier_for(document: Any, clock: FakeClock, **options: Any) -> EntitlementVerifier:
    return EntitlementVerifier(document, issuer=ISSUER, clock=clock, **options)


def test_a_valid_token_gives_the_plans_and_features(key: SigningKey, clock: FakeClock) -> None:
    token = key.sign(claims(now=clock.now))
    entitlements = Entitlements.from_token(token, verifier_for(jwks(key), clock))
    assert (entitlements.customer_type, entitlements.customer_id) == ("user", "u1")
    assert entitlements.has(feature="export")
    assert not entitlements.has(feature="sso")
    assert entitlements.has(plan="pro")
    assert not entitlements.has(plan="enterprise")
    assert entitlements.expires_at == clock.now + 300
    with pytest.raises(ValueError):
        entitlements.has()
    with pytest.raises(ValueError):
        entitlements.has(feature="export", plan="pro")


def test_a_verified_token_is_not_verified_again(
    key: SigningKey, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = verifier_for(jwks(key), clock)
    token = key.sign(claims(now=clock.now))
    first = verifier.verify(token)
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: pytest.fail("decoded twice"))
    assert verifier.verify(token) is first


def test_an_expired_token_is_refused_even_from_the_cache(key: SigningKey, clock: FakeClock) -> None:
    verifier = verifier_for(jwks(key), clock, leeway=5)
    token = key.sign(claims(now=clock.now, lifetime=60))
    verifier.verify(token)
    clock.now += 64  # within the leeway
    assert verifier.verify(token).has(feature="export")
    clock.now += 2
    with pytest.raises(ExpiredTokenError) as caught:
        verifier.verify(token)
    assert caught.value.code == "token_expired"
    assert isinstance(caught.value, InvalidTokenError)
    assert isinstance(caught.value, AuthenticationError)


def test_an_already_expired_token_is_refused(key: SigningKey, clock: FakeClock) -> None:
    token = key.sign(claims(now=clock.now - 600))
    with pytest.raises(ExpiredTokenError):
        verifier_for(jwks(key), clock).verify(token)


def test_a_token_signed_by_another_key_with_a_known_kid_is_refused(
    key: SigningKey, clock: FakeClock
) -> None:
    forger = SigningKey(kid=key.kid)  # same kid, different private key
    with pytest.raises(InvalidTokenError) as caught:
        verifier_for(jwks(key), clock).verify(forger.sign(claims(now=clock.now)))
    assert caught.value.code == "token_signature_invalid"


def test_an_unknown_kid_refreshes_the_jwks_once(key: SigningKey, clock: FakeClock) -> None:
    rotated = SigningKey()
    published = [key]
    fetches: list[int] = []

    def fetch() -> dict[str, Any]:
        fetches.append(1)
        return jwks(*published)

    verifier = verifier_for(fetch, clock, refresh_interval=0)
    assert verifier.verify(key.sign(claims(now=clock.now))).has(plan="pro")
    assert len(fetches) == 1  # fetched lazily, on the first token

    published.append(rotated)  # plangate rotates its signing key
    assert verifier.verify(rotated.sign(claims(now=clock.now))).has(plan="pro")
    assert len(fetches) == 2

    stranger = SigningKey()
    with pytest.raises(InvalidTokenError) as caught:
        verifier.verify(stranger.sign(claims(now=clock.now)))
    assert caught.value.code == "token_key_unknown"
    assert len(fetches) == 3


def test_unknown_kids_cannot_flood_the_jwks_endpoint(key: SigningKey, clock: FakeClock) -> None:
    fetches: list[int] = []

    def fetch() -> dict[str, Any]:
        fetches.append(1)
        return jwks(key)

    verifier = verifier_for(fetch, clock, refresh_interval=60)
    for _ in range(5):
        with pytest.raises(InvalidTokenError):
            verifier.verify(SigningKey().sign(claims(now=clock.now)))
    assert len(fetches) == 1


def _unsigned(payload: dict[str, Any], header: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def test_alg_none_is_refused(key: SigningKey, clock: FakeClock) -> None:
    token = _unsigned(claims(now=clock.now), {"alg": "none", "typ": "JWT", "kid": key.kid})
    with pytest.raises(InvalidTokenError) as caught:
        verifier_for(jwks(key), clock).verify(token)
    assert caught.value.code == "token_algorithm_invalid"


def test_an_hmac_token_keyed_with_the_public_key_is_refused(
    key: SigningKey, clock: FakeClock
) -> None:
    # The algorithm-confusion attack: HS256 with the public key as the shared secret.
    public_x = key.jwk()["x"].encode()
    token = jwt.encode(claims(now=clock.now), public_x, algorithm="HS256", headers={"kid": key.kid})
    with pytest.raises(InvalidTokenError) as caught:
        verifier_for(jwks(key), clock).verify(token)
    assert caught.value.code == "token_algorithm_invalid"


def test_a_token_from_another_issuer_is_refused(key: SigningKey, clock: FakeClock) -> None:
    token = key.sign(claims(now=clock.now, issuer="https://evil.example"))
    with pytest.raises(InvalidTokenError) as caught:
        verifier_for(jwks(key), clock).verify(token)
    assert caught.value.code == "token_issuer_invalid"


@pytest.mark.parametrize(
    "change",
    [
        {"sub": "user/someone_else"},
        {"features": "export"},
        {"plans": [1]},
        {"customer_id": None},
    ],
)
def test_claims_that_are_not_plangates_are_refused(
    key: SigningKey, clock: FakeClock, change: dict[str, Any]
) -> None:
    token = key.sign({**claims(now=clock.now), **change})
    with pytest.raises(InvalidTokenError) as caught:
        verifier_for(jwks(key), clock).verify(token)
    assert caught.value.code == "token_claims_invalid"


def test_garbage_is_refused(key: SigningKey, clock: FakeClock) -> None:
    with pytest.raises(InvalidTokenError) as caught:
        verifier_for(jwks(key), clock).verify("not.a.jwt")
    assert caught.value.code == "token_malformed"


def test_a_token_for_another_customer_is_refused_when_one_is_expected(
    key: SigningKey, clock: FakeClock
) -> None:
    token = key.sign(claims(("user", "u1"), now=clock.now))
    verifier = verifier_for(jwks(key), clock)
    assert Entitlements.from_token(token, verifier, customer=("user", "u1")).has(plan="pro")
    with pytest.raises(InvalidTokenError) as caught:
        Entitlements.from_token(token, verifier, customer=("user", "u2"))
    assert caught.value.code == "token_customer_mismatch"


def test_the_jwks_is_fetched_from_a_url(key: SigningKey, clock: FakeClock) -> None:
    requested: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(200, json=jwks(key))

    verifier = verifier_for(
        f"{ISSUER}/.well-known/jwks.json", clock, transport=httpx.MockTransport(serve)
    )
    assert verifier.verify(key.sign(claims(now=clock.now))).has(feature="export")
    assert requested == [f"{ISSUER}/.well-known/jwks.json"]


def test_an_unreachable_jwks_is_a_connection_error_not_a_bad_token(
    key: SigningKey, clock: FakeClock
) -> None:
    verifier = verifier_for(
        f"{ISSUER}/.well-known/jwks.json",
        clock,
        transport=httpx.MockTransport(lambda _: httpx.Response(503)),
    )
    with pytest.raises(APIConnectionError) as caught:
        verifier.verify(key.sign(claims(now=clock.now)))
    assert caught.value.code == "jwks_unavailable"


def test_non_signing_and_non_ed25519_keys_in_the_jwks_are_ignored(
    key: SigningKey, clock: FakeClock
) -> None:
    document = jwks(key)
    document["keys"].insert(0, {"kty": "RSA", "kid": "rsa1", "n": "x", "e": "AQAB"})
    document["keys"].insert(0, {**key.jwk(), "kid": "enc1", "use": "enc"})
    verifier = verifier_for(document, clock)
    assert verifier.verify(key.sign(claims(now=clock.now))).has(plan="pro")
    with pytest.raises(InvalidTokenError):
        verifier.verify(key.sign(claims(now=clock.now), kid="enc1"))


def test_the_cache_is_bounded(key: SigningKey, clock: FakeClock) -> None:
    verifier = verifier_for(jwks(key), clock, max_cached=3)
    tokens = [key.sign(claims(("user", f"u{i}"), now=clock.now)) for i in range(10)]
    for token in tokens:
        verifier.verify(token)
    assert len(verifier._cache) <= 3
