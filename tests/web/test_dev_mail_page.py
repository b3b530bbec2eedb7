"""The dev mail pages in Chromium: a real receipt, rendered by the email worker and sent over
SMTP to the dev catcher, listed at /dev/mail and shown with both parts; checked with axe-core.
Screenshots go to tests/.screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from plangate.clock import FrozenClock
from plangate.devmail import MailCatcher, mount_pages
from plangate.services.emails.worker import EmailWorker
from plangate.settings import Settings
from plangate.store.db import Database
from tests.browser_harness import needs_browser, page, screenshot, serve_in_thread  # noqa: F401
from tests.services.emails.test_email_worker import _customer, _payment
from tests.web.live_site import serious_violations

pytestmark = needs_browser


@pytest.fixture
def catcher() -> Any:
    running = MailCatcher().start()
    yield running
    running.stop()


def test_a_caught_receipt_in_the_browser(
    page: Any, db: Database, clock: FrozenClock, catcher: MailCatcher  # noqa: F811
) -> None:
    settings = Settings(database_url=db.url.render_as_string(hide_password=False),
                        smtp_url=catcher.url, brand_name="Acme <Billing>")
    _customer(db, clock.now(), "ada", "ada@example.com")
    _payment(db, clock.now(), "ada")
    EmailWorker(db, settings, clock).drain()
    assert len(catcher.caught) == 1

    app = FastAPI()
    mount_pages(app, catcher)
    url, server, thread = serve_in_thread(app)
    try:
        page.goto(url + "/dev/mail")
        assert page.get_by_role("heading", name="Mail caught by plangate dev").is_visible()
        link = page.get_by_role("link", name="Acme <Billing>: your receipt for pro")
        assert link.is_visible()
        assert serious_violations(page) == []
        screenshot(page, "dev-mail-inbox")
        link.click()
        page.wait_for_url("**/dev/mail/1")
        assert "$20.00" in page.locator("pre").inner_text()
        frame = page.frame_locator("iframe")
        assert frame.get_by_text("Thank you for your payment").is_visible()
        assert frame.get_by_text("Acme <Billing>", exact=True).is_visible()  # escaped, shown
        assert serious_violations(page) == []
        screenshot(page, "dev-mail-receipt")
        page.goto(url + "/dev/mail/99")
        assert page.get_by_role("heading", name="No such message").is_visible()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
