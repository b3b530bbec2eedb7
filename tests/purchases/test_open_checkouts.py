"""Two browser tabs must not produce two paid subscriptions: a customer has at most one open
Checkout Session per product line. The same purchase gets the open session back; another
product of the line expires it at Stripe and opens its own. Through the sandbox, with the
official ``stripe`` SDK reading what Stripe holds, on SQLite and on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from plangate.gateways.tls import tls_context
from plangate.sandbox import pay_checkout_session
from plangate.sandbox.testing import CheckoutDeclined
from tests.e2e.e2e_harness import Stack, start_stack
from tests.purchases.catalog import CATALOG


def _checkout(stack: Stack, product_id: str, customer_id: str = "ada", **extra: Any) -> Any:
    response = stack.http.post(
        "/v1/checkout-sessions",
        json={"customer_type": "user", "customer_id": customer_id, "product_id": product_id},
        **extra,
    )
    return response


def _open_sessions(stack: Stack, customer_id: str = "ada") -> list[str]:
    listed = stack.stripe.v1.checkout.sessions.list(
        {"customer": stack.stripe_customer(customer_id), "status": "open"}
    )
    return [s.id for s in listed.data]


def test_the_same_purchase_twice_gets_the_open_session_back(stack: Stack) -> None:
    first = _checkout(stack, "pro")
    assert first.status_code == 201, first.text
    second = _checkout(stack, "pro")  # another tab: another request, no shared key
    assert second.status_code == 201, second.text
    assert (second.json()["id"], second.json()["url"]) == (first.json()["id"], first.json()["url"])
    assert _open_sessions(stack) == [first.json()["id"]]


def test_two_tabs_at_once_share_one_session(stack: Stack) -> None:
    def tab(_: int) -> str:
        with httpx.Client(
            base_url=stack.url, headers={"Authorization": f"Bearer {stack.secret_key}"},
            timeout=30, verify=tls_context(),
        ) as http:
            response = http.post(
                "/v1/checkout-sessions",
                json={"customer_type": "user", "customer_id": "bob", "product_id": "pro"},
            )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(tab, range(4)))
    assert len(ids) == 1
    assert _open_sessions(stack, "bob") == list(ids)


def test_another_product_of_the_line_expires_the_open_session(stack: Stack) -> None:
    pro = _checkout(stack, "pro").json()
    max_ = _checkout(stack, "max")
    assert max_.status_code == 201, max_.text
    assert max_.json()["id"] != pro["id"]
    assert stack.stripe.v1.checkout.sessions.retrieve(pro["id"]).status == "expired"
    assert _open_sessions(stack) == [max_.json()["id"]]

    with pytest.raises(CheckoutDeclined):
        pay_checkout_session(pro["url"])  # the older tab can no longer be paid
    pay_checkout_session(max_.json()["url"])
    stack.settle()

    subscriptions = stack.stripe.v1.subscriptions.list(
        {"customer": stack.stripe_customer("ada"), "status": "all"}
    ).data
    assert len(subscriptions) == 1
    assert stack.entitlements("ada")["plans"] == ["max"]
    assert stack.session_status(pro["id"])["status"] == "expired"


def test_a_session_paid_but_not_synced_yet_refuses_another_of_the_line(database_url: str) -> None:
    # No worker: the payment is made at Stripe and plangate has not synced it yet.
    stack = start_stack(database_url, catalog_text=CATALOG, start_worker=False)
    try:
        pro = _checkout(stack, "pro").json()
        pay_checkout_session(pro["url"])
        refused = _checkout(stack, "max")
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["checkout_session_id"]) == ("checkout_open", pro["id"])
        assert len(stack.stripe.v1.subscriptions.list(
            {"customer": stack.stripe_customer("ada"), "status": "all"}
        ).data) == 1
    finally:
        stack.stop()


def test_products_outside_a_line_open_a_session_each(stack: Stack) -> None:
    first = _checkout(stack, "pack")
    second = _checkout(stack, "pack")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
