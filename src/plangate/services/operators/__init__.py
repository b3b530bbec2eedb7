"""Operators: the people who sign in to the dashboard, their roles, passwords (argon2id) and
sessions. This package is the only writer of ``operators`` and ``operator_sessions``."""

from plangate.services.operators.accounts import (
    ROLES,
    OperatorRow,
    OperatorView,
    change_role,
    create_operator,
    ensure_operator,
    list_operators,
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
    "OperatorRow",
    "OperatorView",
    "SignedIn",
    "change_role",
    "create_operator",
    "ensure_operator",
    "list_operators",
    "may",
    "resolve_session",
    "sign_in",
    "sign_in_without_password",
    "sign_out",
]
