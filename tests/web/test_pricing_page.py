"""The hosted pricing page over HTTP: what a signed-out visitor sees and where its buttons
lead, a signed-in customer's token moved into a cookie, the checkout form with its CSRF
check, team roles, branding, the CSP, and refusals that are 4xx with a stable code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from plangate.clock import FrozenClock
from plangate.settings import ConfigError, load_settings
from plangate.store.db import Database
from plangate.web import create_site
from tests.web.pricing_harness import (
    APP,
    SIGN_IN,
    UNSEEN,
    form_fields,
    mint,
    page_settings,
    seed,
)


@pytest.fixture
def key(db: Database, clock: FrozenClock, example_catalog_text: str) -> str:
    return seed(db, clock, example_catalog_text)


@pytest.fixture
def site(db: Database, clock: FrozenClock, key: str) -> Iterator[TestClient]:
    with TestClient(create_site(page_settings(db), db=db, clock=clock),
                    base_url="http://127.0.0.1:8000") as client:
        yield client


def _signed_in(site: TestClient, key: str, user: str, path: str = "/pricing/plan",
               teams: dict[str, str] | None = None) -> str:
    token = mint(site, key, user, teams)
    joiner = "&" if "?" in path else "?"
    moved = site.get(f"{path}{joiner}token={token}", follow_redirects=False)
    assert moved.status_code == 303
    assert "token" not in moved.headers["location"]
    return token


def _plans(site: TestClient, key: str, user: str) -> list[str]:
    answer = site.get(f"/v1/customers/user/{user}/entitlements",
                      headers={"Authorization": f"Bearer {key}"})
    plans: list[str] = answer.json()["plans"]
    return plans


def test_a_signed_out_visitor_is_sent_to_sign_in(site: TestClient) -> None:
    page = site.get("/pricing/plan")
    assert page.status_code == 200
    html = page.text
    assert "$19.99" in html and "per month" in html and "14-day free trial" in html
    assert "Enterprise" not in html  # server-only
    assert "/checkout?" not in html
    assert "Acme &lt;Cloud&gt;" in html  # the brand name, escaped
    link = html.split('class="button" href="')[1].split('"')[0].replace("&amp;", "&")
    assert link.startswith(SIGN_IN + "?return_url=")
    back = parse_qs(urlsplit(link).query)["return_url"][0]
    assert back == "http://127.0.0.1:8000/pricing/plan?interval=month&currency=usd"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self' https://checkout.stripe.com" in csp
    assert page.headers["x-frame-options"] == "DENY"


def test_interval_and_currency(site: TestClient) -> None:
    yearly = site.get("/pricing/plan?interval=year&currency=eur").text
    assert "€189.00" in yearly and "per year" in yearly
    assert "Save €38.88 (17%) a year" in yearly  # 12 × 18.99 − 189.00
    assert 'href="?interval=year&amp;currency=eur" aria-current="true">Yearly' in yearly
    # Anything else falls back to the defaults instead of failing.
    odd = site.get("/pricing/plan?interval=<x>&currency=zzz")
    assert odd.status_code == 200 and "$19.99" in odd.text and "<x>" not in odd.text


def test_a_customer_buys_pro_from_the_page(site: TestClient, key: str) -> None:
    _signed_in(site, key, "ada")
    cookie = site.cookies.get("plangate_customer", path="/pricing")
    assert cookie and cookie.startswith("pgcs_")
    page = site.get("/pricing/plan?interval=year")
    assert 'action="/pricing/plan/checkout?interval=year&amp;currency=usd"' in page.text
    assert "Start free trial" in page.text
    fields = form_fields(page.text)
    bought = site.post("/pricing/plan/checkout?interval=year&currency=usd", data={
        **fields, "product_id": "pro", "price_id": "yearly", "currency": "usd"},
        follow_redirects=False)
    assert bought.status_code == 303, bought.text
    assert bought.headers["location"].startswith("http://127.0.0.1:8000/checkout/success")
    assert _plans(site, key, "ada") == ["pro"]
    after = site.get("/pricing/plan?interval=year").text
    assert "Current plan" in after and "You are on this plan." in after
    assert "/checkout?" not in after


def test_the_token_leaves_the_address_and_is_http_only(site: TestClient, key: str) -> None:
    token = mint(site, key, "ada")
    moved = site.get(f"/pricing/plan?interval=year&token={token}", follow_redirects=False)
    assert moved.headers["location"] == "/pricing/plan?interval=year"
    cookie = moved.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/pricing" in cookie and "SameSite=lax" in cookie


def test_a_bad_token_signs_out_with_a_notice(site: TestClient, key: str) -> None:
    for token in ["garbage", "pgcs_x.y.z", key, "", "x" * 9000]:
        _signed_in(site, key, "ada")
        moved = site.get(f"/pricing/plan?token={token}", follow_redirects=False)
        assert moved.status_code == 303
        assert moved.headers["location"] == "/pricing/plan?notice=session_expired"
        assert 'plangate_customer=""' in moved.headers["set-cookie"]
        page = site.get(moved.headers["location"])
        assert page.status_code == 200 and "Your sign-in link has expired" in page.text
        assert "/checkout?" not in page.text


def test_an_expired_token_is_signed_out(site: TestClient, key: str, clock: FrozenClock) -> None:
    _signed_in(site, key, "ada")
    assert "/checkout?" in site.get("/pricing/plan").text
    clock.advance(timedelta(hours=1))
    page = site.get("/pricing/plan").text
    assert "/checkout?" not in page and "Sign in to choose Pro" in page


def test_a_form_without_the_right_csrf_token_buys_nothing(site: TestClient, key: str) -> None:
    _signed_in(site, key, "ada")
    fields = form_fields(site.get("/pricing/plan").text)
    for bad in ("", "0" * 64, fields["csrf_token"][:-1]):
        answer = site.post("/pricing/plan/checkout", data={
            **fields, "csrf_token": bad, "product_id": "pro", "price_id": "monthly"})
        assert answer.status_code == 403
        assert "The form expired" in answer.text
    assert _plans(site, key, "ada") == ["free"]


def test_posting_signed_out_buys_nothing(site: TestClient, key: str) -> None:
    answer = site.post("/pricing/plan/checkout?interval=year", data={
        "csrf_token": "x", "product_id": "pro"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/pricing/plan?interval=year"


def test_refused_checkouts_say_why(site: TestClient, key: str) -> None:
    _signed_in(site, key, "ada")
    fields = form_fields(site.get("/pricing/plan").text)
    for product, price, status, text in [
        ("enterprise", "yearly", 404, "That plan is not on this page."),
        ("credit_pack", "once", 404, "That plan is not on this page."),
        ("free", "", 400, "its line&#39;s default"),
        ("pro", "weekly", 404, "has no price"),
        ("<b>", "", 404, "That plan is not on this page."),
    ]:
        answer = site.post("/pricing/plan/checkout", data={
            **fields, "product_id": product, "price_id": price})
        assert answer.status_code == status, product
        assert text in answer.text
        assert 'role="alert"' in answer.text
    assert _plans(site, key, "ada") == ["free"]


def test_a_second_paid_plan_is_refused_not_a_500(site: TestClient, key: str) -> None:
    _signed_in(site, key, "ada")
    fields = form_fields(site.get("/pricing/plan").text)
    first = site.post("/pricing/plan/checkout", data={**fields, "product_id": "pro",
                                                      "price_id": "monthly"},
                      follow_redirects=False)
    assert first.status_code == 303
    again = site.post("/pricing/plan/checkout", data={
        **fields, "form_key": "another", "product_id": "pro", "price_id": "yearly"})
    assert again.status_code == 409
    assert 'role="alert"' in again.text


def test_team_plans_need_a_team_admin(site: TestClient, key: str) -> None:
    _signed_in(site, key, "bob", "/pricing/team_plan?team=t1", {"t1": "member"})
    page = site.get("/pricing/team_plan?team=t1")
    assert "Only an admin of the team can change its plan." in page.text
    assert "/checkout?" not in page.text and "disabled" in page.text
    assert "Current plan" in page.text  # Team Free, the team's default
    refused = site.post("/pricing/team_plan/checkout?team=t1", data={
        "csrf_token": "x", "product_id": "team", "price_id": "monthly"})
    assert refused.status_code == 403
    stranger = site.get("/pricing/team_plan?team=t9").text
    assert "You are not a member of this team." in stranger and "/checkout?" not in stranger

    _signed_in(site, key, "carol", "/pricing/team_plan", {"t1": "admin"})
    page = site.get("/pricing/team_plan")  # the token's only team
    action = "/pricing/team_plan/checkout?interval=month&amp;currency=usd&amp;team=t1"
    assert f'action="{action}"' in page.text
    fields = form_fields(page.text)
    bought = site.post(action.replace("&amp;", "&"), data={
        **fields, "product_id": "team", "price_id": "monthly"}, follow_redirects=False)
    assert bought.status_code == 303, bought.text
    owned = site.get("/v1/customers/team/t1/entitlements",
                     headers={"Authorization": f"Bearer {key}"}).json()["plans"]
    assert owned == ["team"]


def test_an_unknown_line_is_a_404_page(site: TestClient) -> None:
    for path in ["/pricing/nope", "/pricing/PLAN", "/pricing/enterprise", "/pricing/sign-out",
                 "/pricing/%E2%9C%93", "/pricing/" + "a" * 500]:
        page = site.get(path)
        assert page.status_code == 404, path
        assert 'data-code="line_not_found"' in page.text
        assert page.headers["content-type"].startswith("text/html")
        posted = site.post(path + "/checkout", data={"product_id": "pro"})
        assert posted.status_code == 404 and 'data-code="line_not_found"' in posted.text


def test_the_lines_page(site: TestClient) -> None:
    page = site.get("/pricing")
    assert page.status_code == 200
    assert 'href="/pricing/plan"' in page.text and 'href="/pricing/team_plan"' in page.text


def test_one_line_redirects_to_it(db: Database, clock: FrozenClock) -> None:
    seed(db, clock, """
[lines.only]
name = "Only"
customer_type = "user"
[products.basic]
name = "Basic"
customer_type = "user"
line = "only"
[products.basic.prices.monthly]
amounts = { usd = "5.00" }
interval = "month"
""")
    with TestClient(create_site(page_settings(db), db=db, clock=clock)) as client:
        moved = client.get("/pricing?token=abc", follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"] == "/pricing/only?token=abc"


def test_no_plans_at_all(db: Database, clock: FrozenClock) -> None:
    with TestClient(create_site(page_settings(db), db=db, clock=clock)) as client:
        page = client.get("/pricing")
    assert page.status_code == 404 and 'data-code="line_not_found"' in page.text


def test_branding(db: Database, clock: FrozenClock, key: str) -> None:
    settings = page_settings(db, brand_color="#FFE600",
                             brand_logo_url="https://cdn.example.com/logo.svg",
                             brand_font='Inter, "Helvetica Neue", sans-serif')
    with TestClient(create_site(settings, db=db, clock=clock)) as client:
        theme = client.get("/pricing/theme.css")
        page = client.get("/pricing/plan")
    assert theme.headers["content-type"].startswith("text/css")
    # A light accent gets dark text on it.
    assert "--pg-accent: #ffe600;" in theme.text and "--pg-on-accent: #000000;" in theme.text
    assert '--pg-font: Inter, "Helvetica Neue", sans-serif;' in theme.text
    assert 'src="https://cdn.example.com/logo.svg"' in page.text
    assert "img-src 'self' data: https://cdn.example.com" in page.headers[
        "content-security-policy"]
    dark = page_settings(db, brand_color="#123", brand_font="")
    with TestClient(create_site(dark, db=db, clock=clock)) as client:
        plain = client.get("/pricing/theme.css").text
    assert "--pg-on-accent: #ffffff;" in plain and "--pg-font" not in plain


@pytest.mark.parametrize(("name", "value"), [
    ("brand_color", "red"), ("brand_color", "#12345"), ("brand_color", "#1234567;}"),
    ("brand_logo_url", "javascript:alert(1)"), ("brand_logo_url", "https://x/\"><b>"),
    ("brand_font", "Inter; } body { display: none"), ("brand_font", 'x, "y'),
    ("brand_font", "url(https://evil.example/f.woff)"), ("brand_font", "a,,b"),
    ("sign_in_url", "/sign-in"), ("sign_in_url", "https://user:pw@app.example.com/"),
])
def test_page_settings_are_checked(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"PLANGATE_{name.upper()}"):
        load_settings(**{name: value})


def test_a_sign_in_url_off_the_allowed_origins_is_not_linked(db: Database, clock: FrozenClock,
                                                             key: str) -> None:
    settings = page_settings(db, sign_in_url="https://evil.example/login")
    with TestClient(create_site(settings, db=db, clock=clock)) as client:
        page = client.get("/pricing/plan")
    assert page.status_code == 200
    assert "evil.example" not in page.text
    assert "Sign in to the app to choose a plan." in page.text
    assert APP not in page.text


def test_an_unseen_catalog_renders(db: Database, clock: FrozenClock) -> None:
    seed(db, clock, UNSEEN)
    with TestClient(create_site(page_settings(db), db=db, clock=clock)) as client:
        first = client.get("/pricing/tiers")
        once = client.get("/pricing/tiers?interval=once")
        kwd = client.get("/pricing/tiers?currency=kwd")
    assert first.status_code == once.status_code == kwd.status_code == 200
    assert ">Every 3 months</a>" in first.text and ">One-time</a>" in first.text
    assert "¥4,500" in first.text and "every 3 months" in first.text
    assert "7-day free trial" in first.text
    assert "API &lt;access&gt;" in first.text and "API <access>" not in first.text
    assert "12,000 Build minutes every 3 months" in first.text
    assert "Lifetime" not in first.text and "Hidden" not in first.text
    assert "¥98,000" in once.text and "Studio" not in once.text
    assert "12.340 KWD" in kwd.text


def test_a_token_on_the_lines_page_moves_too(site: TestClient, key: str) -> None:
    token = mint(site, key, "ada")
    moved = site.get(f"/pricing?token={token}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/pricing"
    assert site.cookies.get("plangate_customer", path="/pricing") == token


def test_odd_form_bodies_are_refused_not_a_500(site: TestClient, key: str) -> None:
    _signed_in(site, key, "ada")
    for content_type, body in [
        ("application/json", b'{"product_id": "pro"}'),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
        ("application/x-www-form-urlencoded", b"%%%=&&product_id=%ZZ"),
        ("multipart/form-data; boundary=x",
         b'--x\r\nContent-Disposition: form-data; name="csrf_token"; filename="a"\r\n\r\nx'
         b"\r\n--x--\r\n"),
    ]:
        answer = site.post("/pricing/plan/checkout", content=body,
                           headers={"Content-Type": content_type})
        assert 400 <= answer.status_code < 500, content_type
    assert _plans(site, key, "ada") == ["free"]


def test_the_page_says_who_is_signed_in_and_signs_out(site: TestClient, key: str) -> None:
    site.put("/v1/customers/user/ada", json={"name": "Ada <Lovelace>"},
             headers={"Authorization": f"Bearer {key}"})
    _signed_in(site, key, "ada")
    page = site.get("/pricing/plan?interval=year")
    assert "Signed in as <strong>Ada &lt;Lovelace&gt;</strong>" in page.text
    csrf = form_fields(page.text)["csrf_token"]
    refused = site.post("/pricing/sign-out", data={"csrf_token": "nope"})
    assert refused.status_code == 403 and 'data-code="csrf_invalid"' in refused.text
    assert "/checkout?" in site.get("/pricing/plan").text  # still signed in
    out = site.post("/pricing/sign-out", data={"csrf_token": csrf}, follow_redirects=False,
                    headers={"Referer": "http://127.0.0.1:8000/pricing/plan?interval=year"})
    assert out.status_code == 303 and out.headers["location"] == "/pricing/plan"
    assert "plangate_customer" not in site.cookies
    after = site.get("/pricing/plan").text
    assert "Signed in as" not in after and "Sign in to choose Pro" in after
    _signed_in(site, key, "bob")  # no customer record: the id
    page = site.get("/pricing/plan")
    assert "Signed in as <strong>bob</strong>" in page.text
    elsewhere = site.post("/pricing/sign-out", data=form_fields(page.text),
                          headers={"Referer": "https://evil.example/elsewhere"},
                          follow_redirects=False)
    assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/pricing"
