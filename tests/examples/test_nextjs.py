"""examples/nextjs as a user runs it: its production build (`next build`, `next start`)
against a real `plangate dev`, driven in Chromium. The user signs in with the example's stub
identity provider, sees the free credits, is refused the Pro reports (a server component
gated with `has()`), buys Pro through the sandbox's Checkout, and then reads the reports;
the example's route handler receives plangate's signed webhooks and refuses a forged one.

Installing and building the example takes over a minute from nothing (the build is reused
while the example's and the client's sources are unchanged), so the test is marked slow and
starts first; `make test-examples` runs it alone."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from plangate.gateways.tls import tls_context
from tests.browser_harness import free_port, needs_browser, screenshot
from tests.clients.typescript_package import PACKAGE, ensure_built, ensure_npm_built, npm
from tests.e2e.test_dev_stack import PLANGATE, clean_env
from tests.web.live_site import serious_violations

pytestmark = [pytest.mark.slow, *needs_browser]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "nextjs"
SOURCES = ["app", "lib", "next.config.mjs", "tsconfig.json"]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url, timeout=2, verify=tls_context()).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"{url} never answered:\n{log.read_text()}")


class Running:
    """A command in its own process group: `npm run start` runs `next start` as its child,
    which stopping npm alone would leave serving after the test."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.out = log.open("wb")
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=self.out, stderr=self.out,
                                     start_new_session=True)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(10)
        self._signal(signal.SIGKILL)  # whatever the group's leader left behind
        self.out.close()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signum)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    ensure_built()
    sources = [*(EXAMPLE / s for s in SOURCES), PACKAGE / "dist" / ".plangate-built"]
    ensure_npm_built(EXAMPLE, sources, EXAMPLE / ".next" / ".plangate-built",
                     env={"NEXT_TELEMETRY_DISABLED": "1"})

    home = tmp_path_factory.mktemp("nextjs")
    plangate_port, app_port = free_port(), free_port()
    plangate_url = f"http://127.0.0.1:{plangate_port}"
    app_url = f"http://127.0.0.1:{app_port}"
    dev = Running(
        [PLANGATE, "dev", "--port", str(plangate_port)], home,
        {**clean_env(), "PLANGATE_ALLOWED_ORIGINS": json.dumps([app_url])}, home / "plangate.log",
    )
    started: list[Running] = [dev]
    try:
        wait_healthy(plangate_url + "/healthz", dev.proc, dev.log)
        key = (home / ".plangate" / "dev-secret-key").read_text().strip()
        admin = httpx.Client(base_url=plangate_url, timeout=30,
                             headers={"Authorization": f"Bearer {key}"})
        # As an operator registers the app's webhook route; the secret goes to the app.
        endpoint = admin.post("/v1/webhook-endpoints", json={
            "url": app_url + "/api/plangate-webhooks", "description": "the Next.js example"})
        assert endpoint.status_code == 201, endpoint.text
        env = {
            **clean_env(), "PORT": str(app_port), "HOSTNAME": "127.0.0.1",
            "NEXT_TELEMETRY_DISABLED": "1", "PLANGATE_URL": plangate_url,
            "PLANGATE_SECRET_KEY": key, "PLANGATE_WEBHOOK_SECRET": endpoint.json()["secret"],
            "APP_URL": app_url, "AUTH_SECRET": secrets.token_urlsafe(32),
        }
        next_app = Running([npm(), "run", "start", "--", "-p", str(app_port), "-H", "127.0.0.1"],
                           EXAMPLE, env, home / "next.log")
        started.append(next_app)
        wait_healthy(app_url + "/", next_app.proc, next_app.log)
        yield {"url": app_url, "admin": admin, "logs": [dev.log, next_app.log]}
    finally:
        for running in reversed(started):
            running.stop()


def received(app: dict[str, Any]) -> list[dict[str, Any]]:
    answer = httpx.get(app["url"] + "/api/plangate-webhooks", timeout=10)
    assert answer.status_code == 200
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def test_a_user_buys_pro_in_the_nextjs_example(app: dict[str, Any], page: Any) -> None:
    from playwright.sync_api import expect

    url = app["url"]
    user = f"ada{secrets.token_hex(3)}"
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(url + "/reports")
    expect(page.get_by_text("Sign in first")).to_be_visible()
    page.goto(url + "/")
    page.get_by_label("Your name").fill(user)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Hello, {user}")).to_be_visible()
    # useItem in a client component, through the app's /billing passage to plangate.
    expect(page.get_by_test_id("credits")).to_have_text("100")
    table = page.locator(".plangate-pricing")
    expect(table.locator("li[data-plan=free] .badge")).to_have_text("Current plan")
    assert serious_violations(page) == []
    screenshot(page, "nextjs-example-free")

    page.goto(url + "/reports")
    expect(page.get_by_test_id("locked")).to_be_visible()
    page.goto(url + "/")
    page.get_by_role("button", name="Buy Pro").click()

    # The sandbox's hosted Checkout, filled in as a customer would.
    expect(page.get_by_test_id("card-number")).to_be_visible()
    if page.get_by_test_id("email").count():
        page.get_by_test_id("email").fill(f"{user}@example.com")
    page.get_by_test_id("name").fill("Ada")
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("card-expiry").fill("12 / 34")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("submit").click()

    page.wait_for_url(url + "/thanks?**")
    expect(page.get_by_role("heading", name="Welcome to Pro")).to_be_visible()
    page.get_by_role("link", name="Open the reports").click()
    expect(page.get_by_role("heading", name="Pro reports")).to_be_visible()
    expect(page.get_by_test_id("report")).to_contain_text(f"{user} has")

    page.goto(url + "/")
    expect(page.get_by_test_id("credits")).not_to_have_text("100")
    expect(page.get_by_role("link", name="open the reports")).to_be_visible()
    expect(table.locator("li[data-plan=pro] .badge")).to_have_text("Current plan")
    assert serious_violations(page) == []
    screenshot(page, "nextjs-example-pro")
    assert errors == [], errors

    # plangate's webhooks about this user reached the route handler, verified: the
    # subscription, and the entitlements now with Pro.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mine = [e for e in received(app) if e["customer_id"] == user]
        if any(e["type"] == "customer.entitlementsChanged" and "pro" in e["plans"] for e in mine):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"no entitlementsChanged with Pro for {user}: {received(app)}")
    assert "subscription.created" in {e["type"] for e in mine}
    forged = httpx.post(url + "/api/plangate-webhooks", content=b'{"type":"product.granted"}',
                        headers={"webhook-id": "msg_forged", "webhook-timestamp":
                                 str(int(time.time())), "webhook-signature": "v1,AAAA"})
    assert forged.status_code == 400
    assert forged.json() == {"error": "webhook_signature_invalid"}
    assert "msg_forged" not in {e["id"] for e in received(app)}
