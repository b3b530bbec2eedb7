"""The dashboard's defences: sign-in needed, CSRF on every form, roles, escaped output,
security headers, a new session id at each sign-in, lockout, one action per form."""

from __future__ import annotations

from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.audit import list_entries
from plangate.store.db import Database
from tests.web.dashboard_harness import FORM_KEY, PASSWORD, add_operator, csrf_of, sign_in

XSS = "<script>alert(1)</script>"


def _catalog(api: TestClient, secret_key: str, catalog: str) -> None:
    answer = api.put("/v1/catalog", content=catalog, headers={
        "Content-Type": "application/toml", "Authorization": f"Bearer {secret_key}"})
    assert answer.status_code == 200


def test_pages_need_a_session_and_carry_the_security_headers(site: TestClient) -> None:
    for path in ("/dashboard", "/dashboard/customers", "/dashboard/customers/user/ada"):
        answer = site.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/dashboard/login?next=")
    login = site.get("/dashboard/login")
    csp = login.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert login.headers["x-frame-options"] == "DENY"
    assert login.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in login.text  # no inline script at all
    # The API keeps its own headers: the dashboard's CSP is the dashboard's.
    assert "content-security-policy" not in site.get("/healthz").headers


def test_sign_in_needs_the_forms_token_and_issues_a_new_session_each_time(
    site: TestClient, db: Database, clock: FrozenClock
) -> None:
    add_operator(db, clock, "ops@example.com", "owner")
    site.get("/dashboard/login")
    for token in (None, "forged"):
        data = {"email": "ops@example.com", "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        refused = site.post("/dashboard/login", data=data, follow_redirects=False)
        assert refused.status_code == 403
    sign_in(site, "ops@example.com")
    first = site.cookies.get("plangate_session")
    sign_in(site, "ops@example.com")
    second = site.cookies.get("plangate_session")
    assert first and second and first != second
    cookie = site.post("/dashboard/login", follow_redirects=False)  # refused: no new cookie
    assert "set-cookie" not in cookie.headers or "plangate_session" not in cookie.headers[
        "set-cookie"]
    login = sign_in_response(site, "ops@example.com")
    header = login.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/dashboard" in header


def sign_in_response(site: TestClient, email: str):  # type: ignore[no-untyped-def]
    form = site.get("/dashboard/login")
    return site.post("/dashboard/login", data={
        "csrf_token": csrf_of(form.text), "email": email, "password": PASSWORD,
    }, follow_redirects=False)


def test_ten_wrong_passwords_lock_the_account(
    site: TestClient, db: Database, clock: FrozenClock
) -> None:
    add_operator(db, clock, "ops@example.com", "owner")
    for _ in range(10):
        form = site.get("/dashboard/login")
        wrong = site.post("/dashboard/login", data={
            "csrf_token": csrf_of(form.text), "email": "ops@example.com", "password": "nope"})
        assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    locked = sign_in_response(site, "ops@example.com")
    assert locked.status_code == 401 and "locked" in locked.text


def test_forms_need_the_sessions_csrf_token_and_the_role(
    site: TestClient, db: Database, clock: FrozenClock, secret_key: str,
    example_catalog_text: str,
) -> None:
    _catalog(site, secret_key, example_catalog_text)
    site.put("/v1/customers/user/ada", json={"name": "Ada"},
             headers={"Authorization": f"Bearer {secret_key}"})
    add_operator(db, clock, "viewer@example.com", "viewer")
    add_operator(db, clock, "support@example.com", "support")
    sign_in(site, "support@example.com")
    grant = "/dashboard/customers/user/ada/grant"
    for token in (None, "forged"):
        data = {"product_id": "pro", "quantity": "1", "idempotency_key": "k1"}
        if token:
            data["csrf_token"] = token
        assert site.post(grant, data=data, follow_redirects=False).status_code == 403
    assert list_entries(db)[0] == []
    sign_in(site, "viewer@example.com")
    page = site.get("/dashboard/customers/user/ada")
    assert "Grant a product" not in page.text  # a viewer is shown no action ...
    refused = site.post(grant, data={"csrf_token": csrf_of(page.text), "product_id": "pro",
                                     "quantity": "1", "idempotency_key": "k2"})
    assert refused.status_code == 403  # ... and cannot post one
    assert list_entries(db)[0] == []
    products = site.get("/v1/customers/user/ada/products",
                        headers={"Authorization": f"Bearer {secret_key}"}).json()["data"]
    assert "pro" not in {p["product_id"] for p in products}


def test_a_double_submitted_grant_is_one_grant_with_one_audit_entry(
    site: TestClient, db: Database, clock: FrozenClock, secret_key: str,
    example_catalog_text: str,
) -> None:
    _catalog(site, secret_key, example_catalog_text)
    site.put("/v1/customers/user/ada", json={}, headers={"Authorization": f"Bearer {secret_key}"})
    add_operator(db, clock, "support@example.com", "support")
    sign_in(site, "support@example.com")
    page = site.get("/dashboard/customers/user/ada").text
    key = FORM_KEY.search(page)
    assert key
    form = {"csrf_token": csrf_of(page), "idempotency_key": key.group(1),
            "product_id": "credit_pack", "quantity": "1"}
    for _ in range(2):
        done = site.post("/dashboard/customers/user/ada/grant", data=form,
                         follow_redirects=False)
        assert done.status_code == 303
    entries, _ = list_entries(db)
    assert [(e.action, e.actor, e.target) for e in entries] == [
        ("product.grant", "operator:support@example.com", "user/ada")
    ]
    assert "credit_pack" not in entries[0].before["products"]  # type: ignore[index]
    assert "credit_pack" in entries[0].after["products"]  # type: ignore[index]
    balance = site.get("/v1/customers/user/ada/items/credits",
                       headers={"Authorization": f"Bearer {secret_key}"}).json()
    assert balance["quantity"] == 100 + 1000  # the free plan's 100, and the pack's once


def test_customer_text_is_escaped(
    site: TestClient, db: Database, clock: FrozenClock, secret_key: str
) -> None:
    site.put("/v1/customers/user/x", json={"name": XSS, "email": "x@example.com",
                                           "metadata": {"note": XSS}},
             headers={"Authorization": f"Bearer {secret_key}"})
    add_operator(db, clock, "viewer@example.com", "viewer")
    sign_in(site, "viewer@example.com")
    for path in ("/dashboard/customers?q=x", "/dashboard/customers/user/x"):
        html = site.get(path).text
        assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_sign_out_ends_the_session(site: TestClient, db: Database, clock: FrozenClock) -> None:
    add_operator(db, clock, "viewer@example.com", "viewer")
    sign_in(site, "viewer@example.com")
    page = site.get("/dashboard")
    assert page.status_code == 200
    token = site.cookies.get("plangate_session")
    site.post("/dashboard/logout", data={"csrf_token": csrf_of(page.text)})
    site.cookies.set("plangate_session", token or "", path="/dashboard")
    assert site.get("/dashboard", follow_redirects=False).status_code == 303
