"""Operator accounts and what each role may do.

viewer reads; support also grants, revokes, adjusts items, refunds, cancels and resumes; owner also
changes the catalog and settings and manages operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plangate.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from plangate.services.audit import record_action
from plangate.store.admin_models import Operator

ROLES = ("viewer", "support", "owner")
# What each action needs at least.
ACTION_ROLES = {
    "read": "viewer",
    "grant": "support",
    "revoke": "support",
    "adjust": "support",
    "refund": "support",
    "cancel": "support",
    "resume": "support",
    "retry": "support",
    "settings": "owner",
    "catalog": "owner",
    "operators": "owner",
}
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

HASHER = PasswordHasher()


@dataclass(frozen=True)
class OperatorRow:
    """An operator as the owners' list shows it."""

    email: str
    role: str
    created_at: datetime
    locked_until: datetime | None


@dataclass(frozen=True)
class OperatorView:
    id: int
    email: str
    role: str

    @property
    def actor(self) -> str:
        return f"operator:{self.email}"


def may(role: str, action: str) -> bool:
    return ROLES.index(role) >= ROLES.index(ACTION_ROLES[action])


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidRequest(
            "role_invalid", f"role must be one of {', '.join(ROLES)}", param="role"
        )
    return role


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if "@" not in value or len(value) > 320 or any(c.isspace() for c in value):
        raise InvalidRequest("email_invalid", "give an email address", param="email")
    return value


def create_operator(
    session: Session, email: str, role: str, password: str, now: datetime
) -> OperatorView:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidRequest(
            "password_invalid",
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            param="password",
        )
    operator = Operator(
        email=normalize_email(email),
        role=_check_role(role),
        password_hash=HASHER.hash(password),
        failed_logins=0,
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(operator)
    except IntegrityError:
        raise Conflict(
            "operator_exists", f"an operator {operator.email} exists", param="email"
        ) from None
    return OperatorView(operator.id, operator.email, operator.role)


def change_role(
    session: Session, actor: OperatorView, email: str, role: str, now: datetime
) -> OperatorView:
    """An owner sets another operator's role. Nobody changes their own: an owner cannot be
    left without one by a slip, and nobody below owner reaches this at all."""
    if not may(actor.role, "operators"):
        raise PermissionDenied("role_forbidden", "only an owner manages operators")
    target = session.scalars(
        select(Operator).where(Operator.email == normalize_email(email)).with_for_update()
    ).first()
    if target is None:
        raise NotFound("operator_not_found", f"no operator {email}", param="email")
    if target.id == actor.id:
        raise PermissionDenied("self_role_change", "an operator cannot change their own role")
    before = {"role": target.role}
    target.role = _check_role(role)
    target.updated_at = now
    record_action(
        session, actor=actor.actor, action="operator.role", target_type="operator",
        target=target.email, before=before, after={"role": target.role}, now=now,
    )
    return OperatorView(target.id, target.email, target.role)


def list_operators(session: Session) -> list[OperatorRow]:
    rows = session.scalars(select(Operator).order_by(Operator.email))
    return [OperatorRow(o.email, o.role, o.created_at, o.locked_until) for o in rows]


def ensure_operator(session: Session, email: str, role: str, now: datetime) -> OperatorView:
    """The operator, created with an unusable random password when missing (``plangate
    dev``'s developer, signed in without one)."""
    import secrets

    found = session.scalars(select(Operator).where(Operator.email == normalize_email(email)))
    operator = found.first()
    if operator is not None:
        return OperatorView(operator.id, operator.email, operator.role)
    return create_operator(session, email, role, secrets.token_urlsafe(32), now)
