"""Signing in and out: a password checked against its argon2id hash, ten wrong ones in a row
lock the account for a while, and a session is a random token whose SHA-256 is stored (a
stolen database holds no usable session)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plangate.errors import AuthenticationFailed, InvalidRequest
from plangate.services.operators.accounts import HASHER, OperatorView, normalize_email
from plangate.store.admin_models import Operator, OperatorSession
from plangate.store.db import Database

MAX_FAILED_LOGINS = 10
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so that a wrong email takes as long as a
    wrong password. Made on first use: hashing costs a third of a second of CPU, which every
    process importing the dashboard would otherwise pay at start."""
    return HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class SignedIn:
    operator: OperatorView
    token: str
    csrf_token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _wrong() -> AuthenticationFailed:
    return AuthenticationFailed("credentials_invalid", "wrong email or password")


def _open_session(session: Session, operator: Operator, now: datetime) -> SignedIn:
    token = secrets.token_urlsafe(32)
    expires = now + SESSION_LIFETIME
    csrf = secrets.token_urlsafe(32)
    session.add(
        OperatorSession(
            token_hash=_digest(token), operator_id=operator.id, csrf_token=csrf,
            created_at=now, expires_at=expires,
        )
    )
    return SignedIn(OperatorView(operator.id, operator.email, operator.role), token, csrf, expires)


def sign_in(db: Database, email: str, password: str, now: datetime) -> SignedIn:
    """A new session for the operator, or 401 ``credentials_invalid`` / ``account_locked``.
    Every sign-in opens a new session with a new id (no fixation)."""
    try:
        address = normalize_email(email)
    except InvalidRequest:
        address = ""
    with db.write() as session:
        operator = session.scalars(
            select(Operator).where(Operator.email == address).with_for_update()
        ).first()
        if operator is None:
            with contextlib.suppress(VerificationError):
                HASHER.verify(_dummy_hash(), password)
            raise _wrong()
        if operator.locked_until is not None and operator.locked_until > now:
            raise AuthenticationFailed(
                "account_locked", "too many wrong passwords: try again later"
            )
        signed_in: SignedIn | None
        try:
            HASHER.verify(operator.password_hash, password)
        except (VerificationError, InvalidHashError):
            operator.failed_logins += 1
            if operator.failed_logins >= MAX_FAILED_LOGINS:
                operator.locked_until = now + LOCKOUT
                operator.failed_logins = 0
            operator.updated_at = now
            signed_in = None
        else:
            operator.failed_logins = 0
            operator.locked_until = None
            if HASHER.check_needs_rehash(operator.password_hash):
                operator.password_hash = HASHER.hash(password)
            signed_in = _open_session(session, operator, now)
    # The failure is committed (it counts towards the lockout) before it is raised.
    if signed_in is None:
        raise _wrong()
    return signed_in


def sign_in_without_password(db: Database, email: str, now: datetime) -> SignedIn:
    """A session for an existing operator without a password: for ``plangate dev``, where
    the developer at the keyboard is the operator."""
    with db.write() as session:
        operator = session.scalars(
            select(Operator).where(Operator.email == normalize_email(email))
        ).one()
        return _open_session(session, operator, now)


def resolve_session(
    db: Database, token: str, now: datetime
) -> tuple[OperatorView, str] | None:
    """The operator and CSRF token of a live session, or None."""
    with db.read() as session:
        row = session.execute(
            select(Operator, OperatorSession.csrf_token)
            .join(OperatorSession, OperatorSession.operator_id == Operator.id)
            .where(OperatorSession.token_hash == _digest(token), OperatorSession.expires_at > now)
        ).first()
    if row is None:
        return None
    operator, csrf = row
    return OperatorView(operator.id, operator.email, operator.role), csrf


def sign_out(db: Database, token: str) -> None:
    with db.write() as session:
        session.execute(delete(OperatorSession).where(OperatorSession.token_hash == _digest(token)))
