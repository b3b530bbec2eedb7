"""Who a client token speaks for: the app's identity-provider JWTs and plangate's own
customer-session tokens, verified into an :class:`Identity` (a user id and its team roles).

Security choices, each a known way JWT verification goes wrong:

* The algorithm is never taken from the token alone. HS256 is verified only with the
  configured shared secret; RS256, ES256 and EdDSA only with a JWKS key of the matching type
  (RSA, EC P-256, OKP Ed25519). So ``alg: none`` and the "HS256 signed with the RSA public
  key" confusion both fail before any signature is checked.
* Issuer and audience are required settings: a token minted for another app of the same
  identity provider is refused.
* Time claims are checked against plangate's clock (with a bounded leeway), not the
  library's, so test clocks drive expiry like everything else.
* An unknown ``kid`` refetches the JWKS once (key rotation at the provider); a refetch that
  still lacks it suppresses further refetches for a while, so random kids can't make
  plangate hammer the provider.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeGuard

import httpx
import jwt
from sqlalchemy.orm import Session

from plangate.domain.ids import is_valid_id
from plangate.errors import AuthenticationFailed, GatewayFailed, InvalidRequest
from plangate.gateways.tls import tls_context
from plangate.services.access import signing
from plangate.settings import Settings

Role = Literal["admin", "member"]
ROLES: tuple[Role, ...] = ("admin", "member")
MAX_USER_ID_LENGTH = 255

# A JWKS key of each type (and curve) verifies exactly one algorithm.
_ALGORITHMS_BY_KEY_TYPE: dict[tuple[str, str | None], str] = {
    ("RSA", None): "RS256",
    ("EC", "P-256"): "ES256",
    ("OKP", "Ed25519"): "EdDSA",
}
_ASYMMETRIC = frozenset(_ALGORITHMS_BY_KEY_TYPE.values())

CUSTOMER_SESSION_PREFIX = "pgcs_"
CUSTOMER_SESSION_TYP = "plangate-customer-session+jwt"
CUSTOMER_SESSION_AUDIENCE = "plangate:customer-session"


@dataclass(frozen=True)
class Identity:
    user_id: str
    # team id -> role, as the token states it; stored memberships are looked up separately.
    teams: Mapping[str, Role] = field(default_factory=dict)
    source: Literal["identity_provider", "customer_session"] = "identity_provider"


def _refuse(code: str, message: str) -> AuthenticationFailed:
    return AuthenticationFailed(code, message)


def _claim(payload: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by dotted path into nested objects (``app_metadata.team_id``)."""
    if path in payload:
        return payload[path]
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def valid_id(value: Any) -> TypeGuard[str]:
    return is_valid_id(value) and len(value) <= MAX_USER_ID_LENGTH


def _check_times(payload: Mapping[str, Any], now: datetime, leeway: timedelta) -> None:
    def instant(name: str) -> datetime | None:
        value = payload.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _refuse("token_invalid", f"the token's {name} is not a number")
        return datetime.fromtimestamp(value, UTC)

    expires = instant("exp")
    if expires is None:
        raise _refuse("token_invalid", "the token has no exp")
    if expires + leeway <= now:
        raise _refuse("token_expired", "the token has expired")
    not_before = instant("nbf")
    if not_before is not None and not_before - leeway > now:
        raise _refuse("token_not_yet_valid", "the token is not valid yet (nbf)")
    issued = instant("iat")
    if issued is not None and issued - leeway > now:
        raise _refuse("token_not_yet_valid", "the token was issued in the future (iat)")


def _decode(token: str, key: Any, algorithm: str, *, issuer: str, audience: str) -> dict[str, Any]:
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=issuer,
            audience=audience,
            # Times are checked against plangate's clock in _check_times.
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "require": ["exp", "iss", "aud"],
            },
        )
    except jwt.InvalidSignatureError:
        raise _refuse("token_signature_invalid", "the token's signature does not verify") from None
    except jwt.InvalidIssuerError:
        raise _refuse("token_issuer_invalid", "the token was issued by someone else") from None
    except jwt.InvalidAudienceError:
        raise _refuse("token_audience_invalid", "the token is meant for another audience") from None
    except jwt.MissingRequiredClaimError as exc:
        raise _refuse("token_invalid", f"the token has no {exc.claim}") from None
    except (jwt.InvalidTokenError, jwt.InvalidKeyError, ValueError, TypeError):
        raise _refuse("token_invalid", "the token is malformed") from None
    return payload


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise _refuse("token_invalid", "the token is not a JWT") from None


@dataclass(frozen=True)
class _ProviderKey:
    key: Any
    algorithm: str  # the only algorithm this key verifies


def _provider_key(data: Any) -> _ProviderKey | None:
    """A usable signing key from a JWKS entry, or None (skipped: the others still work)."""
    if not isinstance(data, dict) or data.get("use", "sig") != "sig":
        return None
    kty = data.get("kty")
    curve = None if kty == "RSA" else str(data.get("crv"))
    algorithm = _ALGORITHMS_BY_KEY_TYPE.get((str(kty), curve))
    if algorithm is None or data.get("alg", algorithm) != algorithm:
        return None  # symmetric ("oct") keys, other curves, or a key pinned to another alg
    try:
        return _ProviderKey(jwt.PyJWK(data, algorithm=algorithm).key, algorithm)
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
        return None


class IdentityProvider:
    """Verifies the app's identity-provider tokens; caches the provider's JWKS."""

    def __init__(self, settings: Settings, *, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self._http = http
        self._keys: dict[str, _ProviderKey] = {}
        self._fetched_at: float | None = None
        self._missed_at: float | None = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        s = self.settings
        return bool(
            (s.identity_jwks_url or s.identity_hs256_secret)
            and s.identity_issuer
            and s.identity_audience
        )

    def verify(self, token: str, now: datetime) -> Identity:
        s = self.settings
        if not self.configured:
            raise _refuse(
                "identity_not_configured",
                "client tokens need PLANGATE_IDENTITY_JWKS_URL or PLANGATE_IDENTITY_HS256_SECRET,"
                " with PLANGATE_IDENTITY_ISSUER and PLANGATE_IDENTITY_AUDIENCE",
            )
        header = _header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str):
            raise _refuse("token_invalid", "the token's header names no algorithm")
        if algorithm == "HS256" and s.identity_hs256_secret:
            key: Any = s.identity_hs256_secret
        elif algorithm in _ASYMMETRIC and s.identity_jwks_url:
            key = self._jwks_key(header.get("kid"), algorithm)
        else:
            raise _refuse(
                "token_algorithm_not_allowed", f"tokens signed with {algorithm!r} are not accepted"
            )
        payload = _decode(
            token, key, algorithm, issuer=s.identity_issuer, audience=s.identity_audience
        )
        _check_times(payload, now, timedelta(seconds=s.identity_leeway_seconds))
        return self._identity(payload)

    def _identity(self, payload: Mapping[str, Any]) -> Identity:
        s = self.settings
        user_id = _claim(payload, s.identity_user_claim)
        if not valid_id(user_id):
            raise _refuse(
                "token_claim_invalid", f"the token's {s.identity_user_claim} is not a user id"
            )
        teams: dict[str, Role] = {}
        team_id = _claim(payload, s.identity_team_claim) if s.identity_team_claim else None
        if valid_id(team_id):
            raw = _claim(payload, s.identity_role_claim) if s.identity_role_claim else None
            roles = raw if isinstance(raw, list) else [raw]
            admin = any(isinstance(r, str) and r in s.identity_admin_roles for r in roles)
            teams[team_id] = "admin" if admin else "member"
        return Identity(user_id, teams, "identity_provider")

    # --- the provider's JWKS ---------------------------------------------------------------

    def _jwks_key(self, kid: Any, algorithm: str) -> Any:
        with self._lock:
            stale = self._fetched_at is None or (
                time.monotonic() - self._fetched_at > self.settings.identity_jwks_cache_seconds
            )
            if stale:
                self._refresh_stale()
            jwk = self._find(kid)
            if jwk is None and not stale and self._may_refetch():
                # The provider may have rotated its keys since the last fetch.
                self._missed_at = time.monotonic()  # set first: a failed fetch counts too
                self._fetch()
                jwk = self._find(kid)
                if jwk is not None:
                    self._missed_at = None
        if jwk is None:
            raise _refuse("token_key_unknown", "no key of the identity provider has this kid")
        if jwk.algorithm != algorithm:
            raise _refuse(
                "token_algorithm_not_allowed", f"this key does not verify {algorithm} tokens"
            )
        return jwk.key

    def _refresh_stale(self) -> None:
        try:
            self._fetch()
        except GatewayFailed:
            if not self._keys:
                raise
            # The provider is down but its keys were known: keep verifying with them, and
            # try again after the miss interval rather than on every request.
            s = self.settings
            self._fetched_at = (
                time.monotonic() - s.identity_jwks_cache_seconds + s.identity_jwks_miss_seconds
            )

    def _may_refetch(self) -> bool:
        return self._missed_at is None or (
            time.monotonic() - self._missed_at > self.settings.identity_jwks_miss_seconds
        )

    def _find(self, kid: Any) -> _ProviderKey | None:
        if isinstance(kid, str):
            return self._keys.get(kid)
        # A token without kid is accepted only when the provider publishes a single key.
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return None

    def _fetch(self) -> None:
        url = self.settings.identity_jwks_url
        try:
            if self._http is not None:
                response = self._http.get(url)
            else:
                response = httpx.get(url, timeout=5.0, follow_redirects=False,
                                     verify=tls_context())
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GatewayFailed(
                "identity_provider_unavailable",
                f"the identity provider's JWKS could not be fetched: {type(exc).__name__}",
            ) from None
        keys: dict[str, _ProviderKey] = {}
        for data in document.get("keys", []) if isinstance(document, dict) else []:
            key = _provider_key(data)
            if key is not None:
                keys[str(data.get("kid", ""))] = key
        self._keys = keys
        self._fetched_at = time.monotonic()


# --- plangate's own customer-session tokens -----------------------------------------------


@dataclass(frozen=True)
class CustomerSession:
    token: str
    expires_at: datetime


def mint_customer_session(
    session: Session,
    settings: Settings,
    now: datetime,
    user_id: str,
    teams: Mapping[str, Role],
    expires_in: int,
) -> CustomerSession:
    """A short-lived client token for ``user_id`` and its team roles (server calls only).

    It is an EdDSA JWT signed with plangate's key, prefixed so that it is never mistaken for
    an identity-provider token, with its own ``typ`` and ``aud`` so that an entitlement token
    (signed with the same key) is never accepted in its place.
    """
    if not 0 < expires_in <= settings.customer_session_max_seconds:
        raise InvalidRequest(
            "expires_in_invalid",
            f"expires_in must be 1 to {settings.customer_session_max_seconds} seconds",
            param="expires_in",
        )
    issued = int(now.timestamp())
    claims = {
        "iss": settings.base_url,
        "aud": CUSTOMER_SESSION_AUDIENCE,
        "sub": user_id,
        "teams": dict(teams),
        "iat": issued,
        "exp": issued + expires_in,
        "jti": signing.new_token_id(),
    }
    token = signing.sign(
        session, claims, now, secret=settings.signing_key_secret, typ=CUSTOMER_SESSION_TYP
    )
    return CustomerSession(
        CUSTOMER_SESSION_PREFIX + token, datetime.fromtimestamp(issued + expires_in, UTC)
    )


def verify_customer_session(
    session: Session,
    keys: signing.PublicKeyCache,
    settings: Settings,
    token: str,
    now: datetime,
) -> Identity:
    raw = token.removeprefix(CUSTOMER_SESSION_PREFIX)
    header = _header(raw)
    if header.get("alg") != signing.ALGORITHM:
        raise _refuse(
            "token_algorithm_not_allowed", "customer-session tokens are signed with EdDSA only"
        )
    if header.get("typ") != CUSTOMER_SESSION_TYP:
        raise _refuse("token_invalid", "this is not a customer-session token")
    kid = header.get("kid")
    key = (
        keys.get(session, kid, now, signing.key_retention(settings))
        if isinstance(kid, str)
        else None
    )
    if key is None:
        raise _refuse("token_key_unknown", "the token's signing key is unknown or retired")
    payload = _decode(
        raw, key, signing.ALGORITHM, issuer=settings.base_url, audience=CUSTOMER_SESSION_AUDIENCE
    )
    _check_times(payload, now, timedelta(seconds=settings.identity_leeway_seconds))
    user_id = payload.get("sub")
    teams = payload.get("teams") or {}
    if not valid_id(user_id) or not isinstance(teams, dict):
        raise _refuse("token_invalid", "the customer-session token's claims are malformed")
    roles: dict[str, Role] = {
        team_id: ("admin" if role == "admin" else "member")
        for team_id, role in teams.items()
        if valid_id(team_id)
    }
    return Identity(user_id, roles, "customer_session")
