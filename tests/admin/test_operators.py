"""Operators: argon2 hashes, sessions with a fresh id at each sign-in, lockout after ten wrong
passwords, expiry, sign-out, roles, and no operator changing their own role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from plangate.cli import app
from plangate.clock import FrozenClock
from plangate.errors import AuthenticationFailed, Conflict, InvalidRequest, PermissionDenied
from plangate.services.audit import list_entries
from plangate.services.operators import (
    change_role,
    create_operator,
    may,
    resolve_session,
    sign_in,
    sign_out,
)
from plangate.services.operators.signin import SESSION_LIFETIME
from plangate.store.admin_models import Operator
from plangate.store.db import Database

PASSWORD = "correct horse battery"


@pytest.fixture
def owner(db: Database, clock: FrozenClock) -> str:
    with db.write() as session:
        create_operator(session, "Owner@Example.com", "owner", PASSWORD, clock.now())
    return "owner@example.com"


def test_the_password_is_stored_as_an_argon2_hash(db: Database, owner: str) -> None:
    with db.read() as session:
        stored = session.scalars(select(Operator.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_sign_in_opens_a_new_session_each_time(
    db: Database, clock: FrozenClock, owner: str
) -> None:
    first = sign_in(db, "OWNER@example.com ", PASSWORD, clock.now())
    second = sign_in(db, owner, PASSWORD, clock.now())
    assert first.token != second.token and first.csrf_token != second.csrf_token
    found = resolve_session(db, first.token, clock.now())
    assert found is not None and found[0].email == owner and found[1] == first.csrf_token
    sign_out(db, first.token)
    assert resolve_session(db, first.token, clock.now()) is None
    assert resolve_session(db, second.token, clock.now()) is not None
    assert resolve_session(db, second.token, clock.now() + SESSION_LIFETIME) is None
    assert resolve_session(db, "made-up", clock.now()) is None


def test_ten_wrong_passwords_lock_the_account(
    db: Database, clock: FrozenClock, owner: str
) -> None:
    for _ in range(9):
        with pytest.raises(AuthenticationFailed) as wrong:
            sign_in(db, owner, "wrong password!", clock.now())
        assert wrong.value.code == "credentials_invalid"
    sign_in(db, owner, PASSWORD, clock.now())  # a success resets the count
    for _ in range(10):
        with pytest.raises(AuthenticationFailed):
            sign_in(db, owner, "wrong password!", clock.now())
    with pytest.raises(AuthenticationFailed) as locked:
        sign_in(db, owner, PASSWORD, clock.now())  # even the right password now
    assert locked.value.code == "account_locked"
    clock.advance(timedelta(minutes=16))
    assert sign_in(db, owner, PASSWORD, clock.now()).operator.email == owner


def test_unknown_email_is_the_same_answer(db: Database, clock: FrozenClock) -> None:
    with pytest.raises(AuthenticationFailed) as wrong:
        sign_in(db, "nobody@example.com", PASSWORD, clock.now())
    assert wrong.value.code == "credentials_invalid"


def test_roles_and_no_self_escalation(db: Database, clock: FrozenClock, owner: str) -> None:
    assert may("viewer", "read") and not may("viewer", "grant")
    assert may("support", "refund") and not may("support", "settings")
    assert may("owner", "operators")
    with db.write() as session:
        support = create_operator(session, "sam@example.com", "support", PASSWORD, clock.now())
        with pytest.raises(Conflict):
            create_operator(session, "SAM@example.com", "viewer", PASSWORD, clock.now())
    with db.write() as session, pytest.raises(PermissionDenied) as refused:
        change_role(session, support, "sam@example.com", "owner", clock.now())
    assert refused.value.code == "role_forbidden"
    boss = sign_in(db, owner, PASSWORD, clock.now()).operator
    with db.write() as session, pytest.raises(PermissionDenied) as own:
        change_role(session, boss, owner, "viewer", clock.now())
    assert own.value.code == "self_role_change"
    with db.write() as session:
        assert change_role(session, boss, "sam@example.com", "viewer", clock.now()).role == "viewer"
    entries, _ = list_entries(db)
    assert [(e.action, e.before, e.after) for e in entries] == [
        ("operator.role", {"role": "support"}, {"role": "viewer"})
    ]


@pytest.mark.parametrize(
    ("email", "role", "password", "code"),
    [
        ("a@b.c", "god", PASSWORD, "role_invalid"),
        ("not-an-email", "viewer", PASSWORD, "email_invalid"),
        ("a@b.c", "viewer", "short", "password_invalid"),
    ],
)
def test_bad_accounts_are_refused(
    db: Database, clock: FrozenClock, email: str, role: str, password: str, code: str
) -> None:
    with db.write() as session, pytest.raises(InvalidRequest) as bad:
        create_operator(session, email, role, password, clock.now())
    assert bad.value.code == code


def test_admins_create_command(
    database_url: str, monkeypatch: pytest.MonkeyPatch, clock: FrozenClock
) -> None:
    monkeypatch.setenv("PLANGATE_DATABASE_URL", database_url)
    runner = CliRunner()
    made = runner.invoke(
        app, ["admins", "create", "ops@example.com", "--role", "support"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert made.exit_code == 0, made.output
    db = Database(database_url)
    try:
        assert sign_in(db, "ops@example.com", PASSWORD, clock.now()).operator.role == "support"
    finally:
        db.dispose()
    bad = runner.invoke(app, ["admins", "create", "x@example.com", "--role", "root",
                              "--password", PASSWORD])
    assert bad.exit_code == 2 and "role_invalid" in bad.output
