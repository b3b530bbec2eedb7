"""The hosted account page over HTTP (test mode): the token moved into the cookie of both
page paths, the plan with its dates, balances, invoices and card; cancel, resume and switch
through CSRF-checked forms; team roles; and refusals that are 4xx pages, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.store.db import Database
from plangate.web import create_site
from tests.purchases.catalog import CATALOG
from tests.web.pricing_harness import SIGN_IN, mint, page_settings, seed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def key(db: Database, clock: FrozenClock, example_catalog_text: str) -> str:
    return seed(db, clock, example_catalog_text)


@pytest.fixture
def site(db: Database, clock: FrozenClock, key: str) -> Iterator[TestClient]:
    with TestClient(create_site(page_settings(db), db=db, clock=clock),
                    base_url="http://127.0.0.1:8000") as client:
        yield client


def _sign_in(site: TestClient, key: str, user: str, teams: dict[str, str] | None = None,
             path: str = "/account") -> None:
    site.cookies.clear()
    token = mint(site, key, user, teams)
    joiner = "&" if "?" in path else "?"
    moved = site.get(f"{path}{joiner}token={token}", follow_redirects=False)
    assert moved.status_code == 303 and "token" not in moved.headers["location"]


def _buy(site: TestClient, key: str, ref: str, product: str, price: str) -> None:
    answer = site.post("/v1/checkout-sessions", headers={"Authorization": f"Bearer {key}"},
                       json={"customer_type": ref.split("/")[0],
                             "customer_id": ref.split("/")[1],
                             "product_id": product, "price_id": price})
    assert answer.status_code in (200, 201), answer.text


def _products(site: TestClient, key: str, ref: str = "user/ada") -> dict[str, Any]:
    answer = site.get(f"/v1/customers/{ref}/products",
                      headers={"Authorization": f"Bearer {key}"})
    return {p["product_id"]: p for p in answer.json()["data"]}


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found
    return found.group(1)


def _form(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action``."""
    start = html.index(f'action="{action}')
    block = html[start:html.index("</form>", start)]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', block))


def test_signed_out_is_a_401_page_with_the_sign_in(site: TestClient) -> None:
    page = site.get("/account")
    assert page.status_code == 401
    assert 'data-code="signed_out"' in page.text
    assert f'href="{SIGN_IN}?return_url=http%3A%2F%2F127.0.0.1%3A8000%2Faccount"' in page.text
    posted = site.post("/account/cancel", data={"product_id": "pro"})
    assert posted.status_code == 401


def test_the_token_is_a_cookie_on_both_pages(site: TestClient, key: str) -> None:
    token = mint(site, key, "ada")
    moved = site.get(f"/account?token={token}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/account"
    cookies = moved.headers.get_list("set-cookie")
    assert len(cookies) == 2
    assert any("Path=/pricing" in c for c in cookies)
    assert any("Path=/account" in c for c in cookies)
    assert all("HttpOnly" in c and "SameSite=lax" in c for c in cookies)
    assert site.get("/account").status_code == 200
    # Signed in on the pricing page too, and nowhere else (the API never gets the cookie).
    assert "Signed in as" in site.get("/pricing/plan").text
    assert site.cookies.get("plangate_customer", path="/account") == token
    assert all(c.path in ("/pricing", "/account") for c in site.cookies.jar)
    csp = site.get("/account").headers["content-security-policy"]
    assert "form-action 'self' https://checkout.stripe.com https://billing.stripe.com" in csp


def test_a_free_customer_sees_the_default_plan(site: TestClient, key: str) -> None:
    _sign_in(site, key, "ada")
    page = site.get("/account").text
    assert 'data-plan="free"' in page and "Your account" in page
    assert "Credits" in page and ">100<" in page  # the Free plan's monthly credits
    assert "No invoices yet." in page and "No card on file." in page
    assert "/account/cancel" not in page and "/account/switch" not in page
    assert 'href="/pricing/plan"' in page


def test_pro_with_its_dates_then_cancel_and_resume(site: TestClient, key: str,
                                                  clock: FrozenClock) -> None:
    _buy(site, key, "user/ada", "pro", "monthly")
    _sign_in(site, key, "ada")
    page = site.get("/account").text
    held = _products(site, key)["pro"]
    assert 'data-plan="pro"' in page and "$19.99 per month" in page
    assert "Free trial" in page
    assert held["trial_end"] and held["trial_end"][:10] in page
    assert ">5,000<" in page  # Pro's credits
    # No preview of an amount exists: the switch says how it is charged, with no number.
    assert '<option value="pro:yearly">Pro, $199.00 per year</option>' in page
    assert "/account/portal" not in page  # no billing portal in test mode

    cancel = _form(page, "/account/cancel")
    done = site.post("/account/cancel", data=cancel, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/account?done=cancel"
    assert _products(site, key)["pro"]["cancel_at_period_end"] is True
    again = site.post("/account/cancel", data=cancel, follow_redirects=False)
    assert again.status_code == 303  # the same form twice: the recorded answer
    page = site.get("/account?done=cancel").text
    assert "Your plan will end at the end of the period." in page
    assert "Cancels at period end" in page and ">Ends<" in page
    assert "Resume Pro" in page and "/account/switch" not in page

    resumed = site.post("/account/resume", data=_form(page, "/account/resume"),
                        follow_redirects=False)
    assert resumed.status_code == 303
    assert _products(site, key)["pro"]["cancel_at_period_end"] is False
    page = site.get("/account").text
    assert "Cancel Pro" in page and ">Renews<" in page


def test_switch_to_the_yearly_price(site: TestClient, key: str) -> None:
    _buy(site, key, "user/ada", "pro", "monthly")
    _sign_in(site, key, "ada")
    assert "/account/switch" not in site.get("/account").text  # reviewed first
    review = site.get("/account?review=pro&target=pro:yearly").text
    assert 'data-field="amount_due_now">$0.00<' in review  # test mode bills nothing
    fields = _form(review, "/account/switch")
    assert fields["target"] == "pro:yearly"
    switched = site.post("/account/switch", data=fields, follow_redirects=False)
    assert switched.status_code == 303, switched.text
    # Another interval cannot wait for the period end: the switch's answer says "now".
    assert switched.headers["location"] == "/account?done=switch_now"
    page = site.get(switched.headers["location"]).text
    assert "Your new plan starts now." in page
    assert "$199.00 per year" in page
    assert '<option value="pro:monthly">Pro, $19.99 per month</option>' in page


def test_a_form_without_the_right_csrf_token_changes_nothing(site: TestClient,
                                                             key: str) -> None:
    _buy(site, key, "user/ada", "pro", "monthly")
    _sign_in(site, key, "ada")
    fields = _form(site.get("/account").text, "/account/cancel")
    for bad in ("", "0" * 64, fields["csrf_token"][:-1]):
        answer = site.post("/account/cancel", data={**fields, "csrf_token": bad})
        assert answer.status_code == 403 and "The form expired" in answer.text
    assert _products(site, key)["pro"]["cancel_at_period_end"] is False


def test_bad_input_is_a_4xx_page(site: TestClient, key: str) -> None:
    _buy(site, key, "user/ada", "pro", "monthly")
    _sign_in(site, key, "ada")
    fields = _form(site.get("/account").text, "/account/cancel")
    # A review the switch would refuse says why on the page and offers no confirmation.
    for review in ("pro&target=nope:monthly", "<b>&target=pro:yearly",
                   "pro&target=enterprise:yearly", "pro&target=pro:weekly"):
        shown = site.get(f"/account?review={review}")
        assert shown.status_code == 200 and 'role="alert"' in shown.text, review
        assert "Confirm switch" not in shown.text
    for path, data, status in [
        ("/account/cancel", {"product_id": "<b>"}, 404),
        ("/account/cancel", {"product_id": ""}, 400),
        ("/account/cancel", {"product_id": "\x00"}, 400),
        ("/account/cancel", {"product_id": "team"}, 404),
        ("/account/switch", {"target": ""}, 400),
        ("/account/switch", {"target": "nope:monthly"}, 404),
        ("/account/switch", {"target": "pro:weekly"}, 404),
        ("/account/switch", {"target": "enterprise:yearly"}, 404),
        ("/account/switch", {"target": "x" * 500}, 400),
    ]:
        answer = site.post(path, data={**fields, "form_key": f"k-{path}-{data}", **data})
        assert answer.status_code == status, (path, data, answer.status_code)
        assert 'role="alert"' in answer.text
    assert site.post("/account/delete", data=fields).status_code == 404
    for path in ("/account/cancel", "/account/portal", "/account/x/y"):
        answer = site.get(path)
        assert answer.status_code == 404 and 'data-code="not_found"' in answer.text
    for content_type, body in [
        ("application/json", b'{"product_id": "pro"}'),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
        ("application/x-www-form-urlencoded", b"%%%=&&product_id=%ZZ"),
    ]:
        answer = site.post("/account/cancel", content=body,
                           headers={"Content-Type": content_type})
        assert 400 <= answer.status_code < 500, content_type
    assert "$19.99 per month" in site.get("/account").text  # still the monthly price
    for query in ("?team=", "?team=%01", "?team=" + "a" * 300):
        answer = site.get("/account" + query)
        assert answer.status_code == 400 and 'data-code="team_invalid"' in answer.text
    assert _products(site, key)["pro"]["cancel_at_period_end"] is False


def test_team_members_see_the_plan_admins_change_it(site: TestClient, key: str) -> None:
    _buy(site, key, "team/t1", "team", "monthly")
    _sign_in(site, key, "bob", {"t1": "member"}, "/account?team=t1")
    page = site.get("/account?team=t1")
    assert page.status_code == 200
    assert 'data-plan="team"' in page.text and "Team t1" in page.text
    assert "Only an admin of the team can change its plan." in page.text
    assert "<form method=\"post\" action=\"/account/" not in page.text
    refused = site.post("/account/cancel?team=t1",
                        data={"csrf_token": _csrf(page.text), "product_id": "team"})
    assert refused.status_code == 403
    assert _products(site, key, "team/t1")["team"]["cancel_at_period_end"] is False
    stranger = site.get("/account?team=t9")
    assert stranger.status_code == 403 and "You are not a member of this team." in stranger.text

    _sign_in(site, key, "carol", {"t1": "admin"}, "/account?team=t1")
    page = site.get("/account?team=t1").text
    fields = _form(page, "/account/cancel?team=t1")
    done = site.post("/account/cancel?team=t1", data=fields, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/account?done=cancel&team=t1"
    assert _products(site, key, "team/t1")["team"]["cancel_at_period_end"] is True


def test_sign_out_from_the_account_page(site: TestClient, key: str) -> None:
    _sign_in(site, key, "ada")
    page = site.get("/account").text
    out = site.post("/pricing/sign-out", data={"csrf_token": _csrf(page)},
                    follow_redirects=False,
                    headers={"Referer": "http://127.0.0.1:8000/account"})
    assert out.status_code == 303 and out.headers["location"] == "/account"
    assert "plangate_customer" not in site.cookies
    assert site.get("/account").status_code == 401
    assert "Signed in as" not in site.get("/pricing/plan").text


def test_an_expired_token_signs_out(site: TestClient, key: str) -> None:
    answer = site.get("/account?token=garbage", follow_redirects=False)
    assert answer.headers["location"] == "/account?notice=session_expired"
    assert site.get(answer.headers["location"]).status_code == 401


def test_a_one_time_purchase_is_listed_without_buttons(site: TestClient, key: str) -> None:
    _buy(site, key, "user/ada", "credit_pack", "once")
    _buy(site, key, "user/ada", "pro", "monthly")
    _sign_in(site, key, "ada")
    page = site.get("/account").text
    assert "Plans and purchases" in page
    pack = page[page.index('data-plan="credit_pack"'):]
    pack = pack[:pack.index("</article>")]
    assert "1,000 credits" in pack and "<form" not in pack
    assert ">6,000<" in page  # Pro's 5,000 and the pack's 1,000
    assert "Cancel Pro" in page


def test_a_waiting_downgrade_is_pending_and_kept_back(site: TestClient, key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    assert site.put("/v1/catalog", content=CATALOG, headers=auth).status_code == 200
    _buy(site, key, "user/ada", "pro", "monthly")
    _sign_in(site, key, "ada")
    review = site.get("/account?review=pro&target=basic:monthly").text
    assert "the new plan starts on 2026-02-15" in review
    switched = site.post("/account/switch", data=_form(review, "/account/switch"),
                         follow_redirects=False)
    assert switched.headers["location"] == "/account?done=switch_period_end"
    page = site.get("/account").text
    assert "Pending: Basic replaces Pro at the end of the period" in page
    kept = site.post("/account/switch", data=_form(page, "/account/switch"),
                     follow_redirects=False)
    assert kept.status_code == 303, kept.text
    page = site.get("/account").text
    assert "Pending:" not in page and "Keep Pro" not in page
    assert set(_products(site, key)) == {"pro"}
