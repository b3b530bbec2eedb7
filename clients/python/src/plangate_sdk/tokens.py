"""Entitlement tokens checked offline: verify a plangate-signed JWT once, then answer
``has()`` from memory until it expires.

The token is EdDSA (Ed25519) with a ``kid`` naming a key of plangate's JWKS
(``/.well-known/jwks.json``); its claims are ``iss``, ``sub`` (``user/u1``),
``customer_type``, ``customer_id``, ``plans``, ``features``, ``iat`` and ``exp``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from plangate_sdk.connection import tls_context
from plangate_sdk.errors import APIConnectionError, AuthenticationError

ALGORITHM = "EdDSA"
Clock = Callable[[], float]
JWKSSource = str | Mapping[str, Any] | Callable[[], Mapping[str, Any]]
"""A JWKS URL, a JWKS document, or a callable returning one (e.g. ``client.jwks``)."""


class InvalidTokenError(AuthenticationError):
    """The entitlement token is malformed, unsigned, signed by an unknown key, or not ours."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code, type="authentication_error")


class ExpiredTokenError(InvalidTokenError):
    """The entitlement token is past its ``exp`` (beyond the verifier's leeway)."""


@dataclass(frozen=True, slots=True)
class Entitlements:
    """A verified snapshot of one customer's plans and features, valid until ``expires_at``."""

    customer_type: str
    customer_id: str
    plans: frozenset[str]
    features: frozenset[str]
    issued_at: float
    expires_at: float

    @classmethod
    def from_token(
        cls,
        token: str,
        verifier: EntitlementVerifier,
        *,
        customer: tuple[str, str] | None = None,
    ) -> Entitlements:
        """Verifies ``token`` (a cache hit after the first time) and, if ``customer`` is given,
        that the token is about that customer."""
        entitlements = verifier.verify(token)
        if customer is not None and customer != (
            entitlements.customer_type,
            entitlements.customer_id,
        ):
            raise InvalidTokenError(
                "token_customer_mismatch",
                f"the token is for {entitlements.customer_type}/{entitlements.customer_id}, "
                f"not {customer[0]}/{customer[1]}",
            )
        return entitlements

    def has(self, *, feature: str | None = None, plan: str | None = None) -> bool:
        """Exactly one of ``feature`` or ``plan``: a set membership, no I/O."""
        if feature is not None:
            if plan is not None:
                raise ValueError("has() takes exactly one of feature= or plan=")
            return feature in self.features
        if plan is not None:
            return plan in self.plans
        raise ValueError("has() takes exactly one of feature= or plan=")


class EntitlementVerifier:
    """Verifies entitlement tokens against plangate's JWKS and caches them until they expire.

    The cached path is one dict lookup and one clock read. The JWKS is fetched lazily, and
    again when a token names a key it does not know (key rotation), at most once per
    ``refresh_interval`` seconds so that made-up ``kid`` values cannot flood plangate.
    """

    def __init__(
        self,
        jwks: JWKSSource,
        *,
        issuer: str,
        leeway: float = 0.0,
        clock: Clock = time.time,
        refresh_interval: float = 10.0,
        max_cached: int = 10_000,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.issuer = issuer
        self.leeway = leeway
        self._clock = clock
        self._refresh_interval = refresh_interval
        self._max_cached = max_cached
        self._timeout = timeout
        self._transport = transport
        self._source = jwks
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, Entitlements] = {}
        if isinstance(jwks, Mapping):
            self._keys = parse_jwks(jwks)
            self._fetched_at = time.monotonic()

    def verify(self, token: str) -> Entitlements:
        cached = self._cache.get(token)
        if cached is not None and cached.expires_at + self.leeway > self._clock():
            return cached
        return self._verify_and_cache(token)

    def clear(self) -> None:
        self._cache.clear()

    # --- the first verification of a token ----------------------------------------------

    def _verify_and_cache(self, token: str) -> Entitlements:
        self._cache.pop(token, None)
        entitlements = self._decode(token)
        if len(self._cache) >= self._max_cached:
            self._evict()
        self._cache[token] = entitlements
        return entitlements

    def _evict(self) -> None:
        now = self._clock()
        for token, entry in list(self._cache.items()):
            if entry.expires_at + self.leeway <= now:
                self._cache.pop(token, None)
        if len(self._cache) >= self._max_cached:
            self._cache.clear()

    def _decode(self, token: str) -> Entitlements:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("token_malformed", f"not a JWT: {exc}") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidTokenError(
                "token_algorithm_invalid",
                f"entitlement tokens are signed with {ALGORITHM}, not {header.get('alg')!r}",
            )
        key = self._key(header.get("kid"))
        try:
            # Time claims are checked below against the verifier's clock, not PyJWT's.
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                options={
                    "require": ["iss", "sub", "iat", "exp"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise InvalidTokenError(
                "token_signature_invalid", "the signature does not verify"
            ) from None
        except jwt.InvalidIssuerError:
            raise InvalidTokenError(
                "token_issuer_invalid", f"the token was not issued by {self.issuer}"
            ) from None
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("token_invalid", str(exc)) from None
        return self._entitlements(claims)

    def _entitlements(self, claims: Mapping[str, Any]) -> Entitlements:
        exp, iat = _number(claims.get("exp")), _number(claims.get("iat"))
        customer_type, customer_id = claims.get("customer_type"), claims.get("customer_id")
        plans, features = claims.get("plans", []), claims.get("features", [])
        if (
            exp is None
            or iat is None
            or not isinstance(customer_type, str)
            or not isinstance(customer_id, str)
            or claims.get("sub") != f"{customer_type}/{customer_id}"
            or not _is_str_list(plans)
            or not _is_str_list(features)
        ):
            raise InvalidTokenError("token_claims_invalid", "the token's claims are not plangate's")
        now = self._clock()
        if exp + self.leeway <= now:
            raise ExpiredTokenError("token_expired", "the entitlement token has expired")
        if iat - self.leeway > now:
            raise InvalidTokenError("token_not_yet_valid", "the token is issued in the future")
        return Entitlements(
            customer_type=customer_type,
            customer_id=customer_id,
            plans=frozenset(plans),
            features=frozenset(features),
            issued_at=iat,
            expires_at=exp,
        )

    # --- keys -----------------------------------------------------------------------------

    def _key(self, kid: object) -> jwt.PyJWK:
        if not isinstance(kid, str):
            raise InvalidTokenError("token_key_unknown", "the token names no key (kid)")
        key = self._keys.get(kid)
        if key is None and self._may_refresh():
            self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError("token_key_unknown", f"no key {kid!r} in plangate's JWKS")
        return key

    def _may_refresh(self) -> bool:
        if isinstance(self._source, Mapping):
            return False
        last = self._fetched_at
        return last is None or time.monotonic() - last >= self._refresh_interval

    def _refresh(self) -> None:
        with self._lock:
            if not self._may_refresh():  # another thread just did
                return
            try:
                document = self._fetch()
            finally:
                self._fetched_at = time.monotonic()
            self._keys = parse_jwks(document)

    def _fetch(self) -> Mapping[str, Any]:
        source = self._source
        if callable(source):
            return source()
        assert isinstance(source, str)
        try:
            with httpx.Client(transport=self._transport, timeout=self._timeout,
                              verify=tls_context()) as http:
                response = http.get(source)
                response.raise_for_status()
                document: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise APIConnectionError(
                f"could not fetch the JWKS at {source}: {exc}",
                code="jwks_unavailable",
                type="api_connection_error",
            ) from exc
        if not isinstance(document, Mapping):
            raise APIConnectionError(
                f"{source} is not a JWKS", code="jwks_unavailable", type="api_connection_error"
            )
        return document


def parse_jwks(document: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """The Ed25519 signing keys of a JWKS by ``kid``; other keys are ignored."""
    keys: dict[str, jwt.PyJWK] = {}
    for jwk in document.get("keys", []):
        if not isinstance(jwk, Mapping):
            continue
        kid = jwk.get("kid")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(kid, str):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        try:
            keys[kid] = jwt.PyJWK(dict(jwk), algorithm=ALGORITHM)
        except jwt.PyJWKError:
            continue
    return keys


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
