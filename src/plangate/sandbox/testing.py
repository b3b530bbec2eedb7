"""Helpers for tests that use the sandbox."""

from __future__ import annotations

import re
from html import unescape
from typing import Literal

import httpx

from plangate.sandbox.tls import tls_context


class CheckoutDeclined(Exception):
    """The hosted page refused the card; the message is what the customer would read."""


def pay_checkout_session(checkout_url: str, card: str = "4242 4242 4242 4242", *,
                         email: str = "customer@example.com", name: str = "Test Customer",
                         three_d_secure: Literal["complete", "fail"] = "complete",
                         promotion_code: str | None = None,
                         fields: dict[str, str] | None = None,
                         client: httpx.Client | None = None) -> str:
    """Submit a Checkout Session's hosted page form as a customer would (one HTTP POST to
    the session's `url`), answering 3D Secure with `three_d_secure`. Returns the
    `success_url` the browser would be sent to; raises CheckoutDeclined otherwise. A
    `promotion_code` is typed into the page's code field (`allow_promotion_codes`); `fields`
    fills other fields, such as the billing address (`address_country`, `address_line1`,
    `address_city`, `address_postal_code`) and the tax id (`business_name`, `tax_id_type`,
    `tax_id_value`)."""
    own = client is None
    http = client or httpx.Client(timeout=30, verify=tls_context())
    try:
        resp = http.post(checkout_url, data={
            "email": email, "name": name, "card_number": card, "card_expiry": "12 / 34",
            "card_cvc": "123", "three_d_secure": three_d_secure,
            **({"promotion_code": promotion_code} if promotion_code else {}),
            **(fields or {}),
        }, follow_redirects=False)
    finally:
        if own:
            http.close()
    if resp.status_code == 303:
        return resp.headers["location"]
    found = re.search(r"data-testid='error'>(.*?)</p>", resp.text)
    raise CheckoutDeclined(unescape(found.group(1)) if found else
                           f"checkout page answered {resp.status_code}")
