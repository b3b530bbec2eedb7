"""Server secret keys: made once, shown once, stored as SHA-256, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plangate.store.models import ApiKey

SessionFactory = Callable[[], AbstractContextManager[Session]]

KEY_PREFIX = "sk_"
# A verified key is trusted for this long without reading the database again, so that the
# hot path does no key lookup; revoking a key takes effect within this time on every process.
CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class NewKey:
    id: int
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, name: str, now: datetime) -> NewKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name, prefix=secret[:10], key_hash=hash_key(secret), created_at=now, revoked_at=None
    )
    session.add(row)
    session.flush()
    return NewKey(row.id, secret)


def revoke_key(session: Session, key_id: int, now: datetime) -> bool:
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


class KeyVerifier:
    """Answers "is this a live secret key?" with a short in-process cache of positive answers."""

    def __init__(self, static_keys: list[str] | None = None) -> None:
        self._static = [hash_key(k) for k in static_keys or []]
        self._cache: dict[str, float] = {}
        self._lock = threading.Lock()

    def is_cached(self, secret: str) -> bool:
        """True when ``secret`` was verified recently: answered without any I/O."""
        until = self._cache.get(hash_key(secret))
        return until is not None and until > time.monotonic()

    def verify(self, session_factory: SessionFactory, secret: str) -> bool:
        if not secret.startswith(KEY_PREFIX):
            return False
        digest = hash_key(secret)
        now = time.monotonic()
        with self._lock:
            until = self._cache.get(digest)
        if until is not None and until > now:
            return True
        ok = any(hmac.compare_digest(digest, known) for known in self._static)
        if not ok:
            with session_factory() as session:
                stored = session.execute(
                    select(ApiKey.key_hash).where(
                        ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)
                    )
                ).scalar_one_or_none()
            ok = stored is not None and hmac.compare_digest(stored, digest)
        if ok:
            with self._lock:
                self._cache[digest] = now + CACHE_SECONDS
        return ok

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
