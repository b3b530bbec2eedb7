"""plangate's own token-signing keys: Ed25519 (EdDSA), stored in the database, rotated.

The newest key that is not retired signs. A rotation retires it and makes a new one; the
retired key is still published in the JWKS and still verifies for ``retention`` (the longest
lifetime of a token it may have signed), so tokens signed just before a rotation stay valid
until they expire. Every process reads the signing key from the database, never from a
process cache, so a rotation takes effect everywhere at once and the retention stays exact.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plangate.settings import Settings
from plangate.store.models import SigningKey

ALGORITHM = "EdDSA"
_PLAIN = "pem:"
_ENCRYPTED = "fernet:"


def key_retention(settings: Settings) -> timedelta:
    """How long a retired key keeps verifying: the longest lifetime of anything it signed."""
    return timedelta(
        seconds=max(settings.entitlement_token_seconds, settings.customer_session_max_seconds)
    )


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    # RFC 7638 thumbprint as the kid: stable, unique per key, reveals nothing.
    thumbprint = hashlib.sha256(json.dumps(jwk, separators=(",", ":")).encode()).digest()
    return {**jwk, "kid": _b64url(thumbprint), "alg": ALGORITHM, "use": "sig"}


def _fernet(secret: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"plangate signing keys"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _seal(pem: bytes, secret: str) -> str:
    if not secret:
        return _PLAIN + pem.decode()
    return _ENCRYPTED + _fernet(secret).encrypt(pem).decode()


def _unseal(stored: str, secret: str) -> Ed25519PrivateKey:
    if stored.startswith(_ENCRYPTED):
        if not secret:
            raise RuntimeError("signing keys are encrypted: set PLANGATE_SIGNING_KEY_SECRET")
        try:
            pem = _fernet(secret).decrypt(stored[len(_ENCRYPTED) :].encode())
        except InvalidToken:
            raise RuntimeError("PLANGATE_SIGNING_KEY_SECRET can't decrypt a signing key") from None
    else:
        pem = stored.removeprefix(_PLAIN).encode()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError("a stored signing key is not Ed25519")
    return key


def create_signing_key(session: Session, now: datetime, *, secret: str = "") -> SigningKey:
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    jwk = _public_jwk(private_key.public_key())
    row = SigningKey(
        kid=jwk["kid"],
        algorithm=ALGORITHM,
        private_key=_seal(pem, secret),
        public_jwk=jwk,
        created_at=now,
        retired_at=None,
    )
    session.add(row)
    session.flush()
    return row


def rotate_signing_key(session: Session, now: datetime, *, secret: str = "") -> SigningKey:
    """Retires every active key and makes a new one, which signs from now on."""
    session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=now)
    )
    return create_signing_key(session, now, secret=secret)


def _active(session: Session) -> SigningKey | None:
    return session.execute(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
        .limit(1)
    ).scalar_one_or_none()


def current_signing_key(session: Session) -> SigningKey | None:
    """The key that signs now, if there is one yet (a read transaction is enough)."""
    return _active(session)


def active_signing_key(session: Session, now: datetime, *, secret: str = "") -> SigningKey:
    """The key that signs now, made on first use (needs a write transaction then).

    Two processes making the first key at once both succeed: both keys are active and
    published, the newest signs, and nothing breaks.
    """
    return _active(session) or create_signing_key(session, now, secret=secret)


def published_keys(session: Session, now: datetime, retention: timedelta) -> list[dict[str, Any]]:
    """The public JWKs that verify tokens now: active keys and those retired within retention."""
    rows = session.scalars(
        select(SigningKey)
        .where((SigningKey.retired_at.is_(None)) | (SigningKey.retired_at > now - retention))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
    )
    return [dict(row.public_jwk) for row in rows]


def sign(
    session: Session,
    claims: dict[str, Any],
    now: datetime,
    *,
    secret: str = "",
    typ: str = "JWT",
) -> str:
    """Signs ``claims`` with the active key; the header names it by ``kid``."""
    key = active_signing_key(session, now, secret=secret)
    return sign_with(key, claims, secret=secret, typ=typ)


def sign_with(
    row: SigningKey, claims: dict[str, Any], *, secret: str = "", typ: str = "JWT"
) -> str:
    return jwt.encode(
        claims,
        _unseal(row.private_key, secret),
        algorithm=ALGORITHM,
        headers={"kid": row.kid, "typ": typ},
    )


@dataclass(frozen=True)
class _CachedKey:
    public_key: Ed25519PublicKey
    retired_at: datetime | None
    read_at: float


# How long a public key read from the database is reused; only affects how soon a key that
# was retired *and* is past its retention stops verifying, which the tokens' own exp bounds.
_PUBLIC_KEY_CACHE_SECONDS = 60.0


class PublicKeyCache:
    """kid → public key, read from the database and kept briefly: verifying a customer-session
    token on every client request should not cost a database read."""

    def __init__(self) -> None:
        self._keys: dict[str, _CachedKey] = {}
        self._lock = threading.Lock()

    def get(
        self, session: Session, kid: str, now: datetime, retention: timedelta
    ) -> Ed25519PublicKey | None:
        clock = time.monotonic()
        with self._lock:
            cached = self._keys.get(kid)
        if cached is None or clock - cached.read_at > _PUBLIC_KEY_CACHE_SECONDS:
            row = session.get(SigningKey, kid)
            if row is None:
                return None
            public_key = jwt.PyJWK(row.public_jwk).key
            assert isinstance(public_key, Ed25519PublicKey)
            cached = _CachedKey(public_key, row.retired_at, clock)
            with self._lock:
                self._keys[kid] = cached
        if cached.retired_at is not None and cached.retired_at + retention <= now:
            return None
        return cached.public_key


def new_token_id() -> str:
    return secrets.token_urlsafe(12)
