"""`plangate dev` catches its emails: a sandbox purchase's receipt shows at /dev/mail (a real
`plangate dev` subprocess, its built-in aiosmtpd catcher, the hosted checkout page)."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import httpx
import pytest

from plangate.sandbox.testing import pay_checkout_session
from tests.e2e.test_dev_stack import Dev, free_port

pytestmark = pytest.mark.slow


def test_the_receipt_of_a_sandbox_purchase_shows_at_dev_mail(tmp_path: Path) -> None:
    dev = Dev(tmp_path, free_port())
    try:
        assert "/dev/mail" in dev.output()
        assert httpx.get(dev.base + "/dev/mail").text.count("No mail yet") == 1
        put = dev.http.put("/v1/customers/user/ada", json={"email": "ada@example.com"})
        assert put.status_code in (200, 201), put.text
        pay_checkout_session(dev.checkout("ada", "credit_pack")["url"])
        deadline = time.monotonic() + 30
        inbox = ""
        while time.monotonic() < deadline and "receipt" not in inbox:
            inbox = httpx.get(dev.base + "/dev/mail").text
            time.sleep(0.2)
        assert "your receipt for 1,000 credits" in inbox, inbox
        link = re.search(r'href="(/dev/mail/\d+)"', inbox)
        assert link is not None
        shown = httpx.get(dev.base + link.group(1))
        assert shown.status_code == 200 and "$10.00" in shown.text
        assert "ada@example.com" in shown.text
        html = httpx.get(dev.base + link.group(1) + "/html")
        assert html.status_code == 200 and "Thank you for your payment" in html.text
        [row] = dev.http.get("/v1/emails").json()["data"]
        assert (row["kind"], row["status"]) == ("receipt", "sent")
        assert "mail caught #1 to ada@example.com" in dev.output()
    finally:
        dev.stop(signal.SIGINT)
