"""The pricing page and the embeddable pricing table in a real Chromium.

plangate and the app run on two origins, as in production: the app's page embeds
<plangate-pricing-table> from plangate's origin, which must allow it by CORS. A signed-out
visitor goes to the app's sign-in, comes back with a customer-session token and buys Pro from
the page; another customer buys from the component. axe-core checks every page; screenshots
(laptop and phone, light and dark) go to tests/.screenshots/."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from plangate.clock import SystemClock
from plangate.store.db import Database
from plangate.web import create_site
from tests.browser_harness import free_port, needs_browser, screenshot, serve_in_thread
from tests.web.live_site import serious_violations
from tests.web.pricing_harness import mint, page_settings, seed

pytestmark = needs_browser
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class Origins:
    plangate: str
    app: str
    # An origin plangate does not list in PLANGATE_CORS_ORIGINS.
    stranger: str
    key: str
    api: TestClient


def _host_app(plangate: str, tokens: dict[str, str]) -> Starlette:
    """The app's side: a sign-in page and a page embedding the pricing table."""

    def sign_in(request: Request) -> HTMLResponse:
        back = html.escape(request.query_params.get("return_url", ""))
        return HTMLResponse(f"<!doctype html><html lang='en'><title>Sign in</title><main>"
                            f"<h1>Sign in to Acme</h1><p id='back'>{back}</p></main></html>")

    def embed(request: Request) -> HTMLResponse:
        user = request.query_params.get("user", "")
        line = request.query_params.get("line", "plan")
        token = tokens.get(user, "")
        theme = html.escape(request.query_params.get("theme", "light"))
        attrs = f'line="{html.escape(line)}" base-url="{plangate}" theme="{theme}"'
        if token:
            attrs += f' customer-token="{token}" customer-id="{html.escape(user)}"'
        return HTMLResponse(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>Acme pricing</title>"
            f"<script src='{plangate}/static/pricing-table.js' defer></script>"
            "<style>:root{color-scheme:light dark}body{font-family:Georgia,serif;margin:2rem}"
            "@media (prefers-color-scheme:dark){body{background:#0b0d12;color:#f1f1f1}}"
            "plangate-pricing-table{--plangate-accent:#0e7490;}</style></head>"
            "<body><main><h1>Choose your Acme plan</h1>"
            f"<plangate-pricing-table {attrs}></plangate-pricing-table></main></body></html>")

    return Starlette(routes=[Route("/sign-in", sign_in), Route("/embed", embed)])


@pytest.fixture
def origins(db: Database, example_catalog_text: str) -> Iterator[Origins]:
    clock = SystemClock()
    key = seed(db, clock, example_catalog_text)
    plangate_port, app_port, stranger_port = free_port(), free_port(), free_port()
    plangate = f"http://127.0.0.1:{plangate_port}"
    app = f"http://localhost:{app_port}"
    stranger = f"http://localhost:{stranger_port}"
    settings = page_settings(db, base_url=plangate, allowed_origins=[app],
                             sign_in_url=app + "/sign-in", cors_origins=[app])
    tokens: dict[str, str] = {}
    servers = [
        (create_site(settings, db=db, clock=clock), plangate_port),
        (_host_app(plangate, tokens), app_port),
        (_host_app(plangate, tokens), stranger_port),
    ]
    with serving_all(servers), TestClient(create_site(settings, db=db, clock=clock)) as api:
        tokens["grace"] = mint(api, key, "grace")
        yield Origins(plangate, app, stranger, key, api)


@contextmanager
def serving_all(apps: list[tuple[Any, int]]) -> Iterator[None]:
    started = [serve_in_thread(app, port) for app, port in apps]
    try:
        yield
    finally:
        for _, server, thread in started:
            server.should_exit = True
            thread.join(timeout=10)


def _page(browser: Any, viewport: dict[str, int], scheme: str = "light") -> tuple[Any, Any]:
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def _console_errors(page: Any) -> list[str]:
    """Script errors and CSP reports, and every failed response but a favicon's."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return errors


def _plans(origins: Origins, user: str) -> list[str]:
    answer = origins.api.get(f"/v1/customers/user/{user}/entitlements",
                             headers={"Authorization": f"Bearer {origins.key}"})
    plans: list[str] = answer.json()["plans"]
    return plans


def test_a_visitor_signs_in_and_buys_pro(browser: Any, origins: Origins, request: Any) -> None:
    db_name = request.node.callspec.params["database_url"]
    context, page = _page(browser, LAPTOP)
    errors = _console_errors(page)
    page.goto(origins.plangate + "/pricing/plan")
    expect(page.get_by_role("heading", name="Pro")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, f"pricing-signed-out-laptop-light-{db_name}")

    page.get_by_role("link", name="Sign in to choose Pro").click()
    page.wait_for_url(origins.app + "/sign-in?**")
    back = page.locator("#back").inner_text()
    assert back == origins.plangate + "/pricing/plan?interval=month&currency=usd"
    # The app signs the visitor in and sends them back with a customer-session token.
    token = mint(origins.api, origins.key, "ada")
    page.goto(f"{back}&token={token}")
    assert "token" not in page.url
    page.get_by_role("link", name="Yearly").click()
    expect(page.get_by_text("Save $40.88 (17%) a year")).to_be_visible()
    expect(page.locator("[data-plan=pro] .amount")).to_have_text("$199.00")
    assert serious_violations(page) == []
    screenshot(page, f"pricing-signed-in-laptop-light-{db_name}")

    page.get_by_role("button", name="Start free trial").click()
    page.wait_for_url(origins.plangate + "/checkout/success?**")
    expect(page.get_by_test_id("title")).to_have_text("You\u2019re all set")
    assert _plans(origins, "ada") == ["pro"]

    page.goto(origins.plangate + "/pricing/plan?interval=year")
    expect(page.locator("[data-plan=pro]")).to_contain_text("Current plan")
    expect(page.get_by_role("button", name="Start free trial")).to_have_count(0)
    page.emulate_media(color_scheme="dark")
    assert serious_violations(page) == []
    screenshot(page, f"pricing-current-plan-laptop-dark-{db_name}")
    assert errors == []
    context.close()

    context, page = _page(browser, PHONE, "dark")
    page.goto(origins.plangate + "/pricing/plan?interval=year&currency=eur")
    expect(page.locator("[data-plan=pro] .amount")).to_have_text("€189.00")
    assert serious_violations(page) == []
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The font of the settings, through the generated theme stylesheet.
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font == '"DejaVu Sans", sans-serif'
    screenshot(page, f"pricing-signed-out-phone-dark-{db_name}")
    page.emulate_media(color_scheme="light")
    assert serious_violations(page) == []
    screenshot(page, f"pricing-signed-out-phone-light-{db_name}")
    context.close()


def _shown(page: Any) -> dict[str, str]:
    return {
        name: page.locator(f"[data-plan={plan}] .amount").first.inner_text()
        for plan, name in (("free", "Free"), ("pro", "Pro"))
    }


def test_the_component_on_another_origin(browser: Any, origins: Origins,
                                         request: Any) -> None:
    db_name = request.node.callspec.params["database_url"]
    context, page = _page(browser, LAPTOP)
    errors = _console_errors(page)
    page.goto(origins.plangate + "/pricing/plan?interval=year")
    hosted = _shown(page)

    loaded: list[Any] = []
    page.expose_function("pricingLoaded", lambda detail: loaded.append(detail))
    page.add_init_script("document.addEventListener('plangate-loaded', "
                         "e => window.pricingLoaded(e.detail.line_id))")
    page.goto(origins.app + "/embed?user=grace")
    table = page.locator("plangate-pricing-table")
    expect(table.get_by_role("heading", name="Pro")).to_be_visible()
    assert loaded == ["plan"]
    table.get_by_role("button", name="Yearly").click()
    expect(table.get_by_role("button", name="Yearly")).to_have_attribute("aria-pressed", "true")
    assert _shown(page) == hosted  # the same prices as the hosted page
    expect(table.get_by_text("Save $40.88 (17%) a year")).to_be_visible()
    assert table.get_by_role("heading", name="Enterprise").count() == 0
    assert serious_violations(page) == []
    screenshot(page, f"pricing-table-embedded-laptop-light-{db_name}")

    table.get_by_role("button", name="Start free trial").click()
    page.wait_for_url(origins.plangate + "/checkout/success?**")
    expect(page.get_by_test_id("title")).to_have_text("You\u2019re all set")
    assert _plans(origins, "grace") == ["pro"]
    assert errors == []
    context.close()

    context, page = _page(browser, PHONE, "dark")
    page.goto(origins.app + "/embed?theme=auto")
    table = page.locator("plangate-pricing-table")
    expect(table.get_by_role("heading", name="Pro")).to_be_visible()
    assert table.locator("article").first.evaluate(
        "a => getComputedStyle(a).backgroundColor") == "rgb(27, 32, 41)"  # dark cards
    assert serious_violations(page) == []
    screenshot(page, f"pricing-table-embedded-phone-dark-{db_name}")
    context.close()


def test_the_component_needs_cors_and_a_real_line(browser: Any, origins: Origins) -> None:
    context, page = _page(browser, LAPTOP)
    page.goto(origins.stranger + "/embed")
    table = page.locator("plangate-pricing-table")
    expect(table.get_by_text("The prices could not be loaded.")).to_be_visible()
    page.goto(origins.app + "/embed?line=nope")
    expect(table.get_by_text("There is no such pricing table.")).to_be_visible()
    page.goto(origins.app + "/embed?line=" + json.dumps("<img src=x onerror=alert(1)>"))
    expect(table.get_by_text("There is no such pricing table.")).to_be_visible()
    context.close()
