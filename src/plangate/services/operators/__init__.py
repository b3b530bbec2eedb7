"""Operators: the people who sign in to the dashboard, their roles, passwords (argon2id) and
sessions. This package is the only writer of ``operators`` and ``operator_sessions``."""

from plangate.services.operators.accounts import (
    ROLES,
    OperatorView,
    change_role,
    create_operator,
    ensure_operator,
    may,
)
from plangate.services.operators.signin import (
    SignedIn,
    resolve_session,
    sign_in,
    sign_in_without_password,
    sign_out,
)

__all__ = [
    "ROLES",
    "OperatorView",
    "SignedIn",
    "change_role",
    "create_operator",
    "ensure_operator",
    "may",
    "resolve_session",
    "sign_in",
    "sign_in_without_password",
    "sign_out",
]
