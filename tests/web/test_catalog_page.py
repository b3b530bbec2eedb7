"""The Catalog page: the active catalog, its versions and diffs for every operator; for owners
a check that shows every problem and applies nothing, an apply through the catalog service
(once per form, audited), and the push to Stripe (a real sandbox on the stripe gateway)."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.services.audit import list_entries
from plangate.services.entitlements import catalog as catalog_service
from plangate.settings import Settings
from plangate.store.db import Database
from plangate.web import create_site
from tests.sandbox.sandbox_harness import Running, start
from tests.web.dashboard_harness import add_operator, csrf_of, sign_in

FORM_KEY = re.compile(r'name="idempotency_key" value="([^"]+-catalog)"')
SMALL = """
version_label = "v1"
[features.export]
name = "Export"
[items.credits]
name = "Credits"
[lines.plan]
name = "Plan"
customer_type = "user"
[products.pro]
name = "Pro"
customer_type = "user"
line = "plan"
features = ["export"]
trial_days = 14
items.credits = { quantity = 500, repeat = "month", expires = "when_repeated" }
[products.pro.prices.monthly]
amounts = { usd = "1234.50", jpy = "1500" }
interval = "month"
"""
BIGGER = SMALL.replace('"v1"', '"v2"') + """
[products.pack]
name = "<script>alert(1)</script>"
customer_type = "user"
items.credits = { quantity = 1000 }
[products.pack.prices.once]
amounts = { usd = "10.00" }
"""
INVALID = """
[products.pro]
name = "Pro"
customer_type = "robot"
features = ["nope"]
[products.pro.prices.monthly]
amounts = { usd = "1.234" }
interval = "fortnight"
"""


def _versions(db: Database) -> list[str]:
    with db.read() as session:
        return [row.id for row in catalog_service.list_versions(session)]


def _form(site: TestClient) -> dict[str, str]:
    page = site.get("/dashboard/catalog")
    assert page.status_code == 200
    key = FORM_KEY.search(page.text)
    assert key, "no catalog form for an owner"
    return {"csrf_token": csrf_of(page.text), "idempotency_key": key.group(1)}


def test_an_owner_checks_applies_and_compares_catalogs(
    site: TestClient, db: Database, clock: FrozenClock
) -> None:
    add_operator(db, clock, "owner@example.com", "owner")
    sign_in(site, "owner@example.com")
    first = site.get("/dashboard/catalog")
    assert "No catalog applied yet" in first.text
    assert "nothing to push" in first.text and "Push to Stripe</button>" not in first.text

    form = _form(site)
    bad = site.post("/dashboard/catalog/check", data={**form, "catalog": INVALID})
    assert bad.status_code == 422
    for path in ("products.pro.customer_type", "products.pro.prices.monthly"):
        assert f"<code>{path}" in bad.text, path
    assert "nothing was applied" in bad.text and 'aria-invalid="true"' in bad.text
    assert "fortnight" in bad.text  # the paste is sent back into the textarea
    broken = site.post("/dashboard/catalog/apply", data={**form, "catalog": "[products\n"})
    assert broken.status_code == 400 and "invalid TOML" in broken.text
    empty = site.post("/dashboard/catalog/apply", data={**form, "catalog": "  "})
    assert empty.status_code == 400 and "The catalog is empty" in empty.text
    assert site.post("/dashboard/catalog/apply",
                     data={**form, "catalog": INVALID}).status_code == 422
    checked = site.post("/dashboard/catalog/check", data={**form, "catalog": SMALL})
    assert checked.status_code == 200 and "The catalog is valid" in checked.text
    assert 'product "pro" added' in html.unescape(checked.text)
    assert _versions(db) == []  # nothing applied by any of these

    for _ in range(2):  # a double submission of one form is one apply
        done = site.post("/dashboard/catalog/apply", data={**form, "catalog": SMALL},
                         follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"] == "/dashboard/catalog?done=apply#h-versions"
    assert len(_versions(db)) == 1
    shown = site.get("/dashboard/catalog?done=apply").text
    assert "Done: the catalog was applied." in shown
    assert "¥1,500 / $1,234.50 per month" in shown and "14-day trial" in shown
    assert "500 Credits every month" in shown and "Line: Plan" in shown
    assert "operator:owner@example.com" in shown

    form = _form(site)
    again = site.post("/dashboard/catalog/apply", data={**form, "catalog": BIGGER},
                      follow_redirects=False)
    old, new = _versions(db)
    assert again.headers["location"] == (
        f"/dashboard/catalog?done=apply&from={old}&to={new}#h-versions")
    diff = html.unescape(site.get(again.headers["location"]).text)
    assert 'product "pack" added' in diff and 'version_label: "v1" → "v2"' in diff
    # Any two versions, either way round.
    back = html.unescape(site.get("/dashboard/catalog", params={"from": new, "to": old}).text)
    assert 'product "pack" removed' in back
    same = site.post("/dashboard/catalog/apply", data={**_form(site), "catalog": BIGGER},
                     follow_redirects=False)
    assert same.headers["location"].startswith("/dashboard/catalog?done=unchanged")
    entries, _ = list_entries(db, target_type="catalog")
    assert [(e.action, e.target) for e in entries] == [("catalog.apply", new),
                                                       ("catalog.apply", old)]
    reused = site.post("/dashboard/catalog/apply", data={**form, "catalog": SMALL})
    assert reused.status_code == 409 and _versions(db) == [old, new]

    nothing = site.post("/dashboard/catalog/push", data={"csrf_token": form["csrf_token"]})
    assert nothing.status_code == 200 and "there is nothing to push" in nothing.text


def test_names_are_text_and_unknown_versions_are_refused(
    site: TestClient, db: Database, clock: FrozenClock
) -> None:
    add_operator(db, clock, "owner@example.com", "owner")
    sign_in(site, "owner@example.com")
    assert site.post("/dashboard/catalog/apply", data={**_form(site), "catalog": BIGGER},
                     follow_redirects=False).status_code == 303
    shown = site.get("/dashboard/catalog").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "<script>alert(1)" not in shown
    missing = site.get("/dashboard/catalog", params={"from": "cv_nope", "to": "<b>x</b>"})
    assert missing.status_code == 404 and "no catalog version &#39;cv_nope&#39;" in missing.text
    assert "<b>x</b>" not in missing.text


@pytest.mark.parametrize("role", ["viewer", "support"])
def test_viewers_and_support_only_read(
    site: TestClient, db: Database, clock: FrozenClock, role: str
) -> None:
    add_operator(db, clock, "owner@example.com", "owner")
    add_operator(db, clock, f"{role}@example.com", role)
    sign_in(site, "owner@example.com")
    assert site.post("/dashboard/catalog/apply", data={**_form(site), "catalog": SMALL},
                     follow_redirects=False).status_code == 303
    site.cookies.clear()
    sign_in(site, f"{role}@example.com")
    page = site.get("/dashboard/catalog")
    assert page.status_code == 200 and "Pro" in page.text
    assert "<textarea" not in page.text and "/dashboard/catalog/push" not in page.text
    token = csrf_of(page.text)
    for action in ("check", "apply", "push"):
        refused = site.post(f"/dashboard/catalog/{action}",
                            data={"csrf_token": token, "catalog": BIGGER})
        assert refused.status_code == 403, action
        assert f"A {role} may not catalog." in refused.text
    assert len(_versions(db)) == 1


def test_forms_without_the_csrf_token_are_refused(
    site: TestClient, db: Database, clock: FrozenClock
) -> None:
    for method, path in (("GET", "/dashboard/catalog"), ("POST", "/dashboard/catalog/apply")):
        stranger = site.request(method, path, data={"catalog": SMALL}, follow_redirects=False)
        assert stranger.status_code == 303, path
        assert stranger.headers["location"].startswith("/dashboard/login?next=")
    add_operator(db, clock, "owner@example.com", "owner")
    sign_in(site, "owner@example.com")
    csp = site.get("/dashboard/catalog").headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    form = _form(site)
    for action in ("check", "apply", "push"):
        for token in (None, "wrong"):
            data = {"idempotency_key": form["idempotency_key"], "catalog": SMALL}
            if token:
                data["csrf_token"] = token
            answer = site.post(f"/dashboard/catalog/{action}", data=data)
            assert answer.status_code == 403 and "form expired" in answer.text, action
    assert _versions(db) == []


@pytest.fixture
def stripe_site(db: Database, clock: FrozenClock) -> Iterator[tuple[TestClient, Running]]:
    sandbox = start()
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        gateway="stripe", stripe_api_key="sk_test_sandbox",
                        stripe_api_base=sandbox.url, stripe_webhook_secret="whsec_test",
                        stripe_max_retries=0)
    try:
        with TestClient(create_site(settings, db=db, clock=clock)) as client:
            yield client, sandbox
    finally:
        if sandbox.thread.is_alive():  # a test may have stopped it
            sandbox.stop()


def test_apply_pushes_to_stripe_first_and_push_converges(
    stripe_site: tuple[TestClient, Running], db: Database, clock: FrozenClock
) -> None:
    site, sandbox = stripe_site
    add_operator(db, clock, "owner@example.com", "owner")
    sign_in(site, "owner@example.com")
    form = {**_form(site), "catalog": BIGGER}
    applied = site.post("/dashboard/catalog/apply", data=form, follow_redirects=False)
    assert applied.status_code == 303 and "pushed=" in applied.headers["location"]
    # The second submission replays the first: no second push, no second audit entry.
    replay = site.post("/dashboard/catalog/apply", data=form, follow_redirects=False)
    assert replay.status_code == 303 and "pushed=" not in replay.headers["location"]
    shown = site.get(applied.headers["location"]).text
    assert "Pushed to Stripe first:" in shown and "Done: the catalog was applied." in shown
    # Stripe sells the new prices as soon as the catalog is active.
    prices = sandbox.client().v1.prices.list({"lookup_keys": ["plangate:pack:once:usd"]})
    assert [p.unit_amount for p in prices.data] == [1000]
    entries, _ = list_entries(db, target_type="catalog")
    assert [e.action for e in entries] == ["catalog.apply", "catalog.push"]
    assert entries[1].after is not None and entries[1].after["changes"] > 0
    assert entries[0].after is not None and entries[1].target == entries[0].after["version"]

    page = site.get("/dashboard/catalog").text
    assert "Push to Stripe</button>" in page and "Apply pushes it to Stripe first" in page
    token = csrf_of(page)
    again = site.post("/dashboard/catalog/push", data={"csrf_token": token})
    assert again.status_code == 200, again.text
    assert "Stripe already matches the catalog" in again.text
    assert len(list_entries(db, target_type="catalog")[0]) == 3

    sandbox.stop()  # Stripe out of reach: nothing is applied, nothing audited
    versions = _versions(db)
    changed = BIGGER.replace('"v2"', '"v3"').replace('"10.00"', '"12.00"')
    failed = site.post("/dashboard/catalog/apply", data={**_form(site), "catalog": changed})
    assert failed.status_code == 502
    assert "The push to Stripe failed" in failed.text and "nothing was applied" in failed.text
    assert "12.00" in failed.text  # the paste is kept in the form
    assert _versions(db) == versions
    pushed = site.post("/dashboard/catalog/push", data={"csrf_token": token})
    assert pushed.status_code == 502 and "The push to Stripe failed" in pushed.text
    assert len(list_entries(db, target_type="catalog")[0]) == 3


def test_a_form_submitted_twice_at_once_applies_once(
    site: TestClient, db: Database, clock: FrozenClock
) -> None:
    add_operator(db, clock, "owner@example.com", "owner")
    sign_in(site, "owner@example.com")
    form = {**_form(site), "catalog": SMALL}
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def submit() -> None:
        # Another connection of the same browser session; the app's lifespan is the site's.
        client = TestClient(site.app, cookies=dict(site.cookies))
        barrier.wait()
        answers.append(client.post("/dashboard/catalog/apply", data=form,
                                   follow_redirects=False).status_code)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [303, 303]
    assert len(_versions(db)) == 1
    assert [e.action for e in list_entries(db, target_type="catalog")[0]] == ["catalog.apply"]
