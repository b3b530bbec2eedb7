"""Operators and secret keys on the Settings page: owners add operators, set others' roles,
make keys (the secret shown once, never stored or audited) and revoke them; nobody else sees
or reaches any of it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.audit import list_entries
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.web import create_site
from tests.web.dashboard_harness import PASSWORD, add_operator, csrf_of, sign_in

SECRET = re.compile(r'id="secret" class="secret" value="(sk_[^"]+)"')


def _owner(site: TestClient, db: Database, clock: FrozenClock) -> str:
    add_operator(db, clock, "owner@example.com", "owner")
    sign_in(site, "owner@example.com")
    return csrf_of(site.get("/dashboard/settings").text)


def test_an_owner_adds_an_operator_and_sets_their_role(
    site: TestClient, db: Database, clock: FrozenClock
) -> None:
    csrf = _owner(site, db, clock)
    added = site.post("/dashboard/settings/operators", follow_redirects=False, data={
        "csrf_token": csrf, "email": "Grace@Example.com", "role": "viewer",
        "password": PASSWORD})
    assert added.status_code == 303
    page = site.get("/dashboard/settings").text
    assert "grace@example.com" in page and "Role of grace@example.com" in page
    assert "owner (you)" in page  # no form to change one's own role

    again = site.post("/dashboard/settings/operators", data={
        "csrf_token": csrf, "email": "grace@example.com", "role": "viewer",
        "password": PASSWORD})
    assert again.status_code == 409 and "exists" in again.text
    for bad, text in (({"password": "short"}, "a password has 12"),
                      ({"role": "god"}, "role must be one of"),
                      ({"email": "no-at-sign"}, "give an email address")):
        form = {"csrf_token": csrf, "email": "ada@example.com", "role": "support",
                "password": PASSWORD, **bad}
        answer = site.post("/dashboard/settings/operators", data=form)
        assert answer.status_code == 400 and text in answer.text, bad

    assert site.post("/dashboard/settings/operators/role", follow_redirects=False, data={
        "csrf_token": csrf, "email": "grace@example.com", "role": "support"}).status_code == 303
    own = site.post("/dashboard/settings/operators/role", data={
        "csrf_token": csrf, "email": "owner@example.com", "role": "viewer"})
    assert own.status_code == 403

    grace = TestClient(site.app)
    sign_in(grace, "grace@example.com")
    assert "support" in grace.get("/dashboard/settings").text
    entries, _ = list_entries(db)
    assert sorted((e.action, e.target) for e in entries) == [
        ("operator.create", "grace@example.com"), ("operator.role", "grace@example.com")]


def test_a_key_is_shown_once_works_and_stops_when_revoked(
    site: TestClient, db: Database, clock: FrozenClock
) -> None:
    csrf = _owner(site, db, clock)
    made = site.post("/dashboard/settings/keys", data={"csrf_token": csrf,
                                                       "name": "<b>web app</b>"})
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    assert "&lt;b&gt;web app&lt;/b&gt;" in made.text
    found = SECRET.search(made.text)
    assert found
    secret = found.group(1)
    api = {"Authorization": f"Bearer {secret}"}
    assert site.get("/v1/catalog", headers=api).status_code == 200

    settings_page = site.get("/dashboard/settings").text
    assert secret not in settings_page and secret[:10] in settings_page
    entries, _ = list_entries(db)
    assert [e.action for e in entries] == ["key.create"]
    assert secret not in str(entries[0].after)

    key_id = re.search(r'/dashboard/settings/keys/(\d+)/revoke', settings_page)
    assert key_id
    for _ in range(2):  # revoking twice is one revocation
        revoked = site.post(f"/dashboard/settings/keys/{key_id.group(1)}/revoke",
                            data={"csrf_token": csrf}, follow_redirects=False)
        assert revoked.status_code == 303
    assert [e.action for e in list_entries(db)[0]].count("key.revoke") == 1
    # A process that has not seen the key recently refuses it at once (others within 30 s).
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        gateway="test")
    with TestClient(create_site(settings, db=db, clock=clock)) as fresh:
        assert fresh.get("/v1/catalog", headers=api).status_code == 401
    for bad in ("x", "9" * 30):
        answer = site.post(f"/dashboard/settings/keys/{bad}/revoke", data={"csrf_token": csrf})
        assert answer.status_code == 404
    empty = site.post("/dashboard/settings/keys", data={"csrf_token": csrf, "name": " "})
    assert empty.status_code == 400 and "name has 1 to 200 characters" in empty.text


def test_support_and_viewers_neither_see_nor_reach_operators_and_keys(
    site: TestClient, db: Database, clock: FrozenClock
) -> None:
    add_operator(db, clock, "support@example.com", "support")
    sign_in(site, "support@example.com")
    page = site.get("/dashboard/settings").text
    assert "Secret keys" not in page and "Add an operator" not in page
    csrf = csrf_of(page)
    for path, form in (("/dashboard/settings/operators",
                        {"email": "x@example.com", "role": "owner", "password": PASSWORD}),
                       ("/dashboard/settings/operators/role",
                        {"email": "support@example.com", "role": "owner"}),
                       ("/dashboard/settings/keys", {"name": "mine"}),
                       ("/dashboard/settings/keys/1/revoke", {})):
        assert site.post(path, data={"csrf_token": csrf, **form}).status_code == 403, path
        assert site.post(path, data=form).status_code == 403, path  # no token either
    assert list_entries(db)[0] == []
